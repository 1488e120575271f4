//! Sending a browser on: to a console page after a form (303 See Other), or back to where it
//! came from after signing in or switching language, a path of this site only, never another
//! site (no open redirect).

use actix_web::HttpResponse;

use super::urls::Url;

/// A 303 to a console page, after a form did what it was sent for.
pub fn to(url: Url) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", String::from(url)))
        .finish()
}

/// `target` when it is a local path (`/orgs?q=a`), `None` for anything that could leave the
/// site: a scheme, a `//host` or `/\host` that browsers read as another host, control
/// characters, or something absurdly long.
pub fn local_path(target: &str) -> Option<&str> {
    let bytes = target.as_bytes();
    let local = bytes.first() == Some(&b'/')
        && !matches!(bytes.get(1), Some(b'/' | b'\\'))
        && !target.contains('\\')
        && !target.chars().any(char::is_control)
        && target.len() <= 2048;
    local.then_some(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_of_this_site_are_kept() {
        for good in ["/", "/orgs", "/o/1/settings/api-keys?tab=unscoped&status=active"] {
            assert_eq!(local_path(good), Some(good));
        }
        for bad in [
            "",
            "orgs",
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example/",
            "/\tevil",
            "/ok\\..\\x",
            "javascript:alert(1)",
            "/x\r\nSet-Cookie: a=b",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
        assert_eq!(local_path(&format!("/{}", "a".repeat(3000))), None);
    }
}
