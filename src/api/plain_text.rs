//! Text is text in the admin API (DESIGN.md section 7): every query string, and every JSON body
//! of an endpoint that reads one, is checked here before its handler runs, so a NUL or another
//! control character in any parameter or string is a 400 naming where it was, whatever the
//! handler would have done with it (PostgreSQL refuses a NUL in text with a server error).

use actix_web::HttpMessage;
use actix_web::dev::{Payload, ServiceRequest};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use serde_json::Value;

use super::error::ApiError;
use crate::domain::text::{Lines, is_text};

/// The largest body an endpoint reads, as its JSON extractor allows (`router::json_config`).
pub const BODY_LIMIT: usize = 64 * 1024;

/// The JSON members whose text runs over lines: a classification level's description and
/// guideline, and the reason given for disabling an account.
const MULTI_LINE: [&str; 3] = ["description", "guideline", "message"];

/// A query string whose every name and value is text.
pub fn check_query(query: &str) -> Result<(), ApiError> {
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if !is_text(&name, Lines::One) || !is_text(&value, Lines::One) {
            return Err(ApiError::bad_request(
                "ADMIN-400-24",
                "Invalid query",
                format!(
                    "The query parameter {} holds a control character, which no parameter takes, or is longer than {} bytes.",
                    shown(&name),
                    crate::domain::text::MAX_LINE_BYTES
                ),
            ));
        }
    }
    Ok(())
}

/// A JSON body whose every string (and member name) is text; only the multi-line members keep
/// line breaks and tabs. A body that is not JSON passes: the handler's own parsing refuses it
/// with the reason.
pub fn check_json(body: &[u8]) -> Result<(), ApiError> {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Ok(());
    };
    match first_control(&value, Lines::One, &mut String::new()) {
        None => Ok(()),
        Some(at) => Err(ApiError::bad_request(
            "ADMIN-400-24",
            "Invalid request body",
            format!(
                "The field {at} holds a control character, which it does not take, or is longer than {} bytes.",
                crate::domain::text::MAX_LINE_BYTES
            ),
        )),
    }
}

/// Where in `value` the first string that is not text is, as a path (`data.attributes.name`,
/// `accountIds[2]`).
fn first_control(value: &Value, lines: Lines, at: &mut String) -> Option<String> {
    match value {
        Value::String(text) => (!is_text(text, lines)).then(|| at.clone()),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            let len = at.len();
            at.push_str(&format!("[{i}]"));
            let found = first_control(item, lines, at);
            at.truncate(len);
            found
        }),
        Value::Object(members) => members.iter().find_map(|(name, member)| {
            let len = at.len();
            if !at.is_empty() {
                at.push('.');
            }
            at.push_str(&shown(name));
            if !is_text(name, Lines::One) {
                return Some(at.clone());
            }
            let lines = if MULTI_LINE.contains(&name.as_str()) {
                Lines::Many
            } else {
                Lines::One
            };
            let found = first_control(member, lines, at);
            at.truncate(len);
            found
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => None,
    }
}

/// A name as an error may quote it: its control characters escaped, at most 60 characters.
fn shown(name: &str) -> String {
    name.chars().take(60).flat_map(char::escape_debug).collect()
}

/// Reads the request's body (at most `BODY_LIMIT`), checks it, and puts it back for the
/// handler. The request comes back with the refusal when the body is too large, cannot be read
/// or is JSON with a control character in it.
pub async fn check_body(mut req: ServiceRequest) -> Result<ServiceRequest, (ServiceRequest, ApiError)> {
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(err) => return Err((req, bad_body(err.to_string()))),
        };
        if body.len() + chunk.len() > BODY_LIMIT {
            return Err((req, bad_body(format!("The body is larger than {BODY_LIMIT} bytes."))));
        }
        body.extend_from_slice(&chunk);
    }
    let body: Bytes = body.freeze();
    if let Err(refused) = check_json(&body) {
        return Err((req, refused));
    }
    req.set_payload(Payload::from(body));
    Ok(req)
}

fn bad_body(detail: String) -> ApiError {
    ApiError::bad_request("ADMIN-400-24", "Invalid request body", detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused_at(body: &str) -> Option<String> {
        match check_json(body.as_bytes()) {
            Ok(()) => None,
            Err(ApiError::Application { detail, .. }) => Some(detail),
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_control_character_anywhere_in_a_body_is_refused_naming_where() {
        let detail = refused_at(r#"{"namesOrNicknames":["ok","a\u0000b"]}"#).expect("refused");
        assert!(detail.contains("namesOrNicknames[1]"), "{detail}");
        let detail = refused_at(r#"{"data":{"attributes":{"name":"x\u001b"}}}"#).expect("refused");
        assert!(detail.contains("data.attributes.name"), "{detail}");
        assert!(refused_at(r#"{"a\u0000":1}"#).is_some(), "a member's name is text too");
        assert!(refused_at(r#"{"name":"a\tb"}"#).is_some(), "a tab on one line");
        let long = serde_json::json!({ "name": "x".repeat(crate::domain::text::MAX_LINE_BYTES + 1) });
        assert!(refused_at(&long.to_string()).is_some(), "over-long");
    }

    #[test]
    fn multi_line_members_keep_their_breaks_and_what_is_not_json_is_left_to_the_handler() {
        assert_eq!(refused_at(r#"{"guideline":"One.\r\n\tTwo."}"#), None);
        assert!(refused_at(r#"{"guideline":"One.\u0000"}"#).is_some());
        assert_eq!(refused_at("not json \u{0}"), None);
        assert_eq!(refused_at(""), None);
    }

    #[test]
    fn a_query_parameter_is_text_in_its_name_and_its_value() {
        assert!(check_query("q=acme&limit=10").is_ok());
        assert!(check_query("q=%E7%B5%84").is_ok());
        for bad in ["q=a%00b", "q=%09", "a%00=1", "cursor=%1B", "q=%C2%85"] {
            assert!(check_query(bad).is_err(), "{bad}");
        }
    }
}
