//! Classification levels: the labels an organization puts on its data, and the rules of their
//! lifecycle. A level is created as a draft and edited only while it is one; publishing gives
//! a draft a rank after the published levels (1 is the most sensitive); archiving takes a
//! published level out of the ranking; restoring makes an archived level a draft again; a
//! reorder names every published level exactly once.

use std::collections::HashSet;
use std::fmt;

use uuid::Uuid;

/// Why a field of a level was refused. The message names no field: callers prefix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LevelFieldError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {0} characters")]
    TooLong(usize),
    #[error("must not contain control characters")]
    ControlCharacters,
    #[error("must be one of {}", Color::names())]
    UnknownColor,
}

fn text(input: &str, max: usize, allow_newlines: bool) -> Result<String, LevelFieldError> {
    let value = input.trim();
    if value.is_empty() {
        return Err(LevelFieldError::Empty);
    }
    if value.chars().count() > max {
        return Err(LevelFieldError::TooLong(max));
    }
    if value
        .chars()
        .any(|c| c.is_control() && !(allow_newlines && matches!(c, '\n' | '\r' | '\t')))
    {
        return Err(LevelFieldError::ControlCharacters);
    }
    Ok(value.to_owned())
}

/// A level's name: trimmed, 1 to 100 characters, one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelName(String);

impl LevelName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(input: &str) -> Result<LevelName, LevelFieldError> {
        text(input, Self::MAX_CHARS, false).map(LevelName)
    }

    /// A name as stored (already checked when it was written).
    pub fn stored(name: String) -> LevelName {
        LevelName(name)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LevelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A level's description (at most 1,000 characters) or guideline (at most 5,000), several
/// lines allowed. Empty text means none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelText(Option<String>);

impl LevelText {
    pub const DESCRIPTION_MAX: usize = 1000;
    pub const GUIDELINE_MAX: usize = 5000;

    pub fn parse(input: Option<&str>, max: usize) -> Result<LevelText, LevelFieldError> {
        match input.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(LevelText(None)),
            Some(value) => text(value, max, true).map(|v| LevelText(Some(v))),
        }
    }

    /// A text as stored (already checked when it was written).
    pub fn stored(value: Option<String>) -> LevelText {
        LevelText(value)
    }

    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

macro_rules! colors {
    ($($variant:ident => $name:literal,)+) => {
        /// The colours a level is shown in: the set Atlassian's classification levels offer
        /// (upper-case names on the wire, as Jira's classification API spells them).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Color {
            $($variant,)+
        }

        impl Color {
            pub const ALL: &'static [Color] = &[$(Color::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Color::$variant => $name,)+
                }
            }
        }
    };
}

colors! {
    Red => "RED",
    RedBold => "RED_BOLD",
    Orange => "ORANGE",
    Yellow => "YELLOW",
    YellowBold => "YELLOW_BOLD",
    Green => "GREEN",
    Blue => "BLUE",
    BlueBold => "BLUE_BOLD",
    Navy => "NAVY",
    Teal => "TEAL",
    Purple => "PURPLE",
    Grey => "GREY",
    Lime => "LIME",
}

impl Color {
    /// The colour of a level created without one.
    pub const DEFAULT: Color = Color::Grey;

    /// Any case is accepted (`red_bold`, `RED_BOLD`), and `GRAY` for `GREY`.
    pub fn parse(input: &str) -> Result<Color, LevelFieldError> {
        let upper = input.trim().to_ascii_uppercase().replace('-', "_");
        let upper = if upper == "GRAY" { "GREY".to_owned() } else { upper };
        Color::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == upper)
            .ok_or(LevelFieldError::UnknownColor)
    }

    fn names() -> String {
        Color::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// Where a level is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelStatus {
    Draft,
    Published,
    Archived,
}

impl LevelStatus {
    pub const ALL: [LevelStatus; 3] = [LevelStatus::Draft, LevelStatus::Published, LevelStatus::Archived];

    pub fn as_str(self) -> &'static str {
        match self {
            LevelStatus::Draft => "draft",
            LevelStatus::Published => "published",
            LevelStatus::Archived => "archived",
        }
    }

    /// Any case is accepted.
    pub fn parse(input: &str) -> Option<LevelStatus> {
        let lower = input.trim().to_ascii_lowercase();
        LevelStatus::ALL.into_iter().find(|s| s.as_str() == lower)
    }
}

/// A change of a level's lifecycle, each allowed from exactly one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Edit,
    Publish,
    Archive,
    Restore,
}

impl Transition {
    /// The one status this change applies to.
    pub fn from(self) -> LevelStatus {
        match self {
            Transition::Edit | Transition::Publish => LevelStatus::Draft,
            Transition::Archive => LevelStatus::Published,
            Transition::Restore => LevelStatus::Archived,
        }
    }

    pub fn allowed(self, status: LevelStatus) -> bool {
        status == self.from()
    }

    pub fn verb(self) -> &'static str {
        match self {
            Transition::Edit => "edited",
            Transition::Publish => "published",
            Transition::Archive => "archived",
            Transition::Restore => "restored",
        }
    }
}

/// What a list of level ids got wrong.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderProblems {
    /// Published levels the list left out.
    pub missing: Vec<Uuid>,
    /// Ids that are not published levels of the org.
    pub extra: Vec<Uuid>,
    /// Ids named more than once.
    pub duplicated: Vec<Uuid>,
}

impl OrderProblems {
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.extra.is_empty() && self.duplicated.is_empty()
    }
}

impl fmt::Display for OrderProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |ids: &[Uuid]| ids.iter().map(Uuid::to_string).collect::<Vec<_>>().join(", ");
        let mut parts = Vec::new();
        if !self.missing.is_empty() {
            parts.push(format!("missing: {}", join(&self.missing)));
        }
        if !self.extra.is_empty() {
            parts.push(format!(
                "not published levels of this organization: {}",
                join(&self.extra)
            ));
        }
        if !self.duplicated.is_empty() {
            parts.push(format!("named more than once: {}", join(&self.duplicated)));
        }
        f.write_str(&parts.join("; "))
    }
}

/// Ids named more than once in `ids`, each reported once, in the order of their repeats.
pub fn duplicates(ids: &[Uuid]) -> Vec<Uuid> {
    let mut seen = HashSet::new();
    let mut repeated = Vec::new();
    for id in ids {
        if !seen.insert(*id) && !repeated.contains(id) {
            repeated.push(*id);
        }
    }
    repeated
}

/// A reorder must name every published level (`published`, in any order) exactly once.
pub fn check_reorder(published: &[Uuid], asked: &[Uuid]) -> Result<(), OrderProblems> {
    let asked_set: HashSet<Uuid> = asked.iter().copied().collect();
    let published_set: HashSet<Uuid> = published.iter().copied().collect();
    let mut extra = Vec::new();
    for id in asked {
        if !published_set.contains(id) && !extra.contains(id) {
            extra.push(*id);
        }
    }
    let problems = OrderProblems {
        missing: published.iter().copied().filter(|id| !asked_set.contains(id)).collect(),
        extra,
        duplicated: duplicates(asked),
    };
    if problems.is_empty() { Ok(()) } else { Err(problems) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_bounded_and_one_line() {
        assert_eq!(LevelName::parse("  Internal ").map(|n| n.0), Ok("Internal".into()));
        assert_eq!(LevelName::parse(" "), Err(LevelFieldError::Empty));
        assert!(LevelName::parse(&"機".repeat(100)).is_ok());
        assert_eq!(LevelName::parse(&"機".repeat(101)), Err(LevelFieldError::TooLong(100)));
        assert_eq!(LevelName::parse("a\nb"), Err(LevelFieldError::ControlCharacters));
    }

    #[test]
    fn texts_may_be_absent_or_span_lines() {
        assert_eq!(LevelText::parse(None, 10), Ok(LevelText(None)));
        assert_eq!(LevelText::parse(Some("  "), 10), Ok(LevelText(None)));
        assert!(LevelText::parse(Some("one\ntwo"), 10).is_ok());
        assert_eq!(
            LevelText::parse(Some("elevenchars"), 10),
            Err(LevelFieldError::TooLong(10))
        );
        assert_eq!(
            LevelText::parse(Some("a\u{7}"), 10),
            Err(LevelFieldError::ControlCharacters)
        );
    }

    #[test]
    fn colours_come_from_the_fixed_set_in_any_case() {
        assert_eq!(Color::parse("red_bold"), Ok(Color::RedBold));
        assert_eq!(Color::parse("Gray"), Ok(Color::Grey));
        assert_eq!(Color::parse("#ff0000"), Err(LevelFieldError::UnknownColor));
        for &color in Color::ALL {
            assert_eq!(Color::parse(color.as_str()), Ok(color));
        }
    }

    #[test]
    fn each_change_applies_to_one_status_only() {
        use LevelStatus::*;
        use Transition::*;
        for (transition, only) in [
            (Edit, Draft),
            (Publish, Draft),
            (Archive, Published),
            (Restore, Archived),
        ] {
            for status in LevelStatus::ALL {
                assert_eq!(
                    transition.allowed(status),
                    status == only,
                    "{transition:?} from {status:?}"
                );
            }
        }
    }

    #[test]
    fn a_reorder_names_every_published_level_exactly_once() {
        let [a, b, c, d] = [Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4()];
        assert_eq!(check_reorder(&[a, b, c], &[c, a, b]), Ok(()));
        assert_eq!(check_reorder(&[], &[]), Ok(()));
        let problems = check_reorder(&[a, b, c], &[c, a, a, d]).expect_err("refused");
        assert_eq!(problems.missing, [b]);
        assert_eq!(problems.extra, [d]);
        assert_eq!(problems.duplicated, [a]);
        let text = problems.to_string();
        assert!(
            text.contains(&format!("missing: {b}")) && text.contains(&d.to_string()),
            "{text}"
        );
    }
}
