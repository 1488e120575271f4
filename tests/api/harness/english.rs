//! English left on a Japanese page: the English messages (those that differ from their Japanese)
//! of the catalogs a page draws on, found in its text.

use keyward::console::catalog::{self, Lang};

/// English messages by name, to look for.
pub type Messages = Vec<(String, String)>;

/// The messages of a catalog whose English differs from its Japanese (a `%` marks a format, not
/// wording, and is left out).
fn differing(en: Vec<(&'static str, &'static str)>, ja: Vec<(&'static str, &'static str)>) -> Messages {
    en.into_iter()
        .zip(ja)
        .filter(|((_, en), (_, ja))| en != ja && !en.contains('%'))
        .map(|((name, en), _)| (name.to_owned(), en.to_owned()))
        .collect()
}

/// The layout's catalog, which every page draws on.
pub fn layout() -> Messages {
    differing(catalog::EN.all(), catalog::JA.all())
}

/// The account page's catalog.
pub fn account_page() -> Messages {
    differing(catalog::account::EN.all(), catalog::account::JA.all())
}

/// What the keys pages show from outside the catalogs: each scope's description and each
/// endpoint's summary, in English.
pub fn scopes_and_endpoints() -> Messages {
    let mut english: Messages = keyward::domain::Scope::ALL
        .iter()
        .map(|&scope| (scope.name().to_owned(), Lang::En.scope_description(scope).to_owned()))
        .collect();
    for endpoint in keyward::api::endpoints::ENDPOINTS {
        english.push((endpoint.path.to_owned(), endpoint.summary.to_owned()));
    }
    english
}

/// Which of `messages` appear in `text`, as `name: "part"`. A message with placeholders counts
/// by each fixed part of two words or more (a lone word such as "from" is also a technical
/// token: a query parameter's name).
pub fn english_in(text: &str, messages: &Messages) -> Vec<String> {
    let mut found = Vec::new();
    for (name, message) in messages {
        let whole = !message.contains('{');
        let parts = message.split(['{', '}']).step_by(2).map(str::trim);
        for part in parts.filter(|p| whole || p.contains(' ')) {
            if text.contains(part) {
                found.push(format!("{name}: {part:?}"));
            }
        }
    }
    found
}
