//! Where a browser may be sent back to after signing in or switching language: a path of this
//! site only, never another site (no open redirect).

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
