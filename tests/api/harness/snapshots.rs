//! Wire shapes kept as `insta` snapshots (`snapshots/` beside each test file). What changes from
//! run to run is redacted so a snapshot is the same on every run: the values a test knows (the
//! instance's address, its orgs', people's and keys' ids, the times it arranged) become their
//! names, so the snapshot still says which is which; any other uuid, time, token or cursor
//! becomes its kind. Under `CI=true` insta writes nothing and fails on any difference.

use serde_json::Value;

use super::TestApp;

/// Known values and their names, applied to every string of an answer.
pub struct Redactions {
    known: Vec<(String, String)>,
}

impl Redactions {
    /// The instance's address becomes `[instance]`.
    pub fn new(app: &TestApp) -> Redactions {
        Redactions {
            known: vec![(app.address.clone(), "[instance]".to_owned())],
        }
    }

    /// `value` (an id, a time) is written `[name]` wherever it stands.
    pub fn name(mut self, value: impl std::fmt::Display, name: &str) -> Redactions {
        self.known.push((value.to_string(), format!("[{name}]")));
        self
    }

    /// `value` with every known value named and every other uuid, time, token and cursor
    /// written as its kind.
    pub fn apply(&self, value: Value) -> Value {
        match value {
            Value::String(text) => Value::String(self.text(text)),
            Value::Array(items) => Value::Array(items.into_iter().map(|v| self.apply(v)).collect()),
            Value::Object(fields) => Value::Object(fields.into_iter().map(|(k, v)| (k, self.apply(v))).collect()),
            other => other,
        }
    }

    fn text(&self, mut text: String) -> String {
        for (value, name) in &self.known {
            text = text.replace(value.as_str(), name);
        }
        if chrono::DateTime::parse_from_rfc3339(&text).is_ok() {
            return "[time]".to_owned();
        }
        if text.starts_with("kw_") {
            return "[token]".to_owned();
        }
        if let Some((before, after)) = text.split_once("cursor=") {
            let rest = after.find('&').map_or("", |at| &after[at..]);
            return format!("{before}cursor=[cursor]{rest}");
        }
        text.split('/')
            .map(|segment| match uuid::Uuid::parse_str(segment) {
                Ok(_) => "[uuid]",
                Err(_) => segment,
            })
            .collect::<Vec<_>>()
            .join("/")
    }
}
