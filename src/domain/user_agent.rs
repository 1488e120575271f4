//! The client software a request names in its `User-Agent` header, as the audit log keeps it:
//! bounded, so one request cannot write a megabyte into an append-only table.

/// A user agent, at most 512 characters, without control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAgent(String);

impl UserAgent {
    pub const MAX_CHARS: usize = 512;

    /// From the header's bytes: bytes that are not UTF-8 are replaced, control characters
    /// dropped, the rest trimmed and cut at 512 characters. `None` when nothing is left.
    pub fn parse(header: &[u8]) -> Option<UserAgent> {
        let text = String::from_utf8_lossy(header);
        let kept: String = text
            .trim()
            .chars()
            .filter(|c| !c.is_control())
            .take(Self::MAX_CHARS)
            .collect();
        let kept = kept.trim_end();
        (!kept.is_empty()).then(|| UserAgent(kept.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_agent_is_kept_as_sent_when_it_is_reasonable() {
        let agent = UserAgent::parse(b"  keyward-test/1.0 (linux) ").expect("agent");
        assert_eq!(agent.as_str(), "keyward-test/1.0 (linux)");
    }

    #[test]
    fn a_user_agent_is_bounded_and_never_carries_control_characters() {
        let long = "é".repeat(2000);
        let agent = UserAgent::parse(long.as_bytes()).expect("agent");
        assert_eq!(agent.as_str().chars().count(), UserAgent::MAX_CHARS);
        assert_eq!(
            UserAgent::parse(b"curl/8\r\n\tx\x1b[31m").map(|a| a.0),
            Some("curl/8x[31m".to_owned())
        );
        assert_eq!(
            UserAgent::parse(b"\xff\xfe").map(|a| a.0),
            Some("\u{fffd}\u{fffd}".to_owned())
        );
        assert_eq!(UserAgent::parse(b"   "), None);
        assert_eq!(UserAgent::parse(b""), None);
    }
}
