//! Pages read through an HTML parser (`scraper`), not by searching their text: an element, a
//! field's value, a form's token, a table's rows, a link. Wording a person reads is still checked
//! with `contains` on the page's text; structure is read here.

use scraper::{ElementRef, Html, Selector};

/// A console page, parsed.
pub struct Page {
    html: Html,
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).unwrap_or_else(|e| panic!("{css:?} is not a CSS selector: {e}"))
}

/// An element's text with runs of white space folded to one space, trimmed.
pub fn text(element: ElementRef<'_>) -> String {
    element
        .text()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `element` holds an element `css` selects.
pub fn holds(element: ElementRef<'_>, css: &str) -> bool {
    element.select(&selector(css)).next().is_some()
}

/// The first element `css` selects inside `element`.
pub fn first_of<'a>(element: ElementRef<'a>, css: &str) -> Option<ElementRef<'a>> {
    element.select(&selector(css)).next()
}

/// The folded texts of the elements `css` selects inside `element`.
pub fn texts_of(element: ElementRef<'_>, css: &str) -> Vec<String> {
    element.select(&selector(css)).map(text).collect()
}

impl Page {
    pub fn parse(html: &str) -> Page {
        Page {
            html: Html::parse_document(html),
        }
    }

    /// Every element `css` selects, in document order.
    pub fn all(&self, css: &str) -> Vec<ElementRef<'_>> {
        self.html.select(&selector(css)).collect()
    }

    /// The first element `css` selects.
    pub fn first(&self, css: &str) -> Option<ElementRef<'_>> {
        self.html.select(&selector(css)).next()
    }

    /// How many elements `css` selects.
    pub fn count(&self, css: &str) -> usize {
        self.html.select(&selector(css)).count()
    }

    /// The page's language, as its `<html lang>` says.
    pub fn lang(&self) -> String {
        self.attr("html", "lang").unwrap_or_default()
    }

    /// Whether `css` selects anything.
    pub fn has(&self, css: &str) -> bool {
        self.first(css).is_some()
    }

    /// Whether an element `css` selects has `value` as its `value` attribute (compared as text,
    /// so any value can be asked for).
    pub fn has_value(&self, css: &str, value: &str) -> bool {
        self.all(css).iter().any(|e| e.value().attr("value") == Some(value))
    }

    /// The folded text of the first element `css` selects.
    pub fn text(&self, css: &str) -> Option<String> {
        self.first(css).map(text)
    }

    /// The folded text of every element `css` selects.
    pub fn texts(&self, css: &str) -> Vec<String> {
        self.all(css).into_iter().map(text).collect()
    }

    /// Attribute `name` of the first element `css` selects.
    pub fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.first(css)?.value().attr(name).map(str::to_owned)
    }

    /// The value of the first input named `name` that `within` (a selector) holds, e.g.
    /// `form[action="/login"]`; panics when there is none.
    pub fn input(&self, within: &str, name: &str) -> String {
        let css = format!(r#"{within} input[name="{name}"]"#);
        self.attr(&css, "value")
            .unwrap_or_else(|| panic!("no input {name:?} in {within:?}"))
    }

    /// The CSRF token of the form posting to `action`.
    pub fn form_token(&self, action: &str) -> String {
        self.input(&format!(r#"form[action="{action}"]"#), "csrf")
    }

    /// The hidden fields of the form `css` selects, in order: what it sends besides what a
    /// person fills in.
    pub fn hidden_fields(&self, css: &str) -> Vec<(String, String)> {
        let form = self.first(css).unwrap_or_else(|| panic!("no form {css:?}"));
        form.select(&selector(r#"input[type="hidden"][name]"#))
            .map(|input| {
                let input = input.value();
                let value = input.attr("value").unwrap_or_default();
                (input.attr("name").unwrap_or_default().to_owned(), value.to_owned())
            })
            .collect()
    }

    /// The link `css` selects: its `href`, as the browser would follow it.
    pub fn href(&self, css: &str) -> Option<String> {
        self.attr(css, "href")
    }

    /// Every text of the page a person reads: its text and the attributes read aloud or shown
    /// (labels, the copy button's words, titles, placeholders), one per line.
    pub fn readable_text(&self) -> String {
        let mut out = String::new();
        for node in self.html.tree.root().descendants() {
            if let Some(text) = node.value().as_text() {
                out.push_str(text);
            } else if let Some(element) = node.value().as_element() {
                for attribute in ["aria-label", "data-label", "data-done", "title", "placeholder"] {
                    if let Some(value) = element.attr(attribute) {
                        out.push('\n');
                        out.push_str(value);
                    }
                }
                out.push('\n');
            }
        }
        out
    }
}

/// The value of the first input named `name` in an HTML page.
pub fn hidden_input(html: &str, name: &str) -> String {
    Page::parse(html).input("html", name)
}
