//! The API key token `kw_<public id>_<secret><checksum>` (DESIGN.md §4): generating one from the
//! OS CSPRNG and parsing one typed or pasted by a caller. Base62 and the checksum are written here
//! because they are a dozen lines each and no crate does exactly this encoding.

use std::fmt;
use std::str::FromStr;

use secrecy::zeroize::Zeroize;
use secrecy::{ExposeSecret, SecretString};

/// Secret scanners and people recognise a keyward key by this; it never changes.
pub const PREFIX: &str = "kw_";
/// Separates the public id from the secret.
const SEPARATOR: char = '_';
/// Digits of base62, in value order.
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Length of the public id in the keys we generate today.
pub const PUBLIC_ID_LEN: usize = 12;
/// Length of the secret in the keys we generate today: 32 × log2(62) ≈ 190 bits.
pub const SECRET_LEN: usize = 32;
/// Length of the base62 CRC-32 at the end of every key; 62^6 > 2^32, so six digits always fit.
pub const CHECKSUM_LEN: usize = 6;

/// Public ids of other lengths (older or newer formats) still parse within these bounds.
const PUBLIC_ID_LENS: std::ops::RangeInclusive<usize> = 8..=64;
/// At least 30 characters (≥ 178 bits); the upper bound only keeps parsing cheap.
const SECRET_LENS: std::ops::RangeInclusive<usize> = 30..=256;
/// Nothing longer can be a key, so longer input is refused before it is scanned.
const MAX_TOKEN_LEN: usize = PREFIX.len() + *PUBLIC_ID_LENS.end() + 1 + *SECRET_LENS.end() + CHECKSUM_LEN;

/// Why a string is not a usable key token.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("not a keyward API key")]
    NotAToken,
    #[error("the API key's public id is malformed")]
    BadPublicId,
    #[error("the API key's secret is malformed")]
    BadSecret,
    #[error("the API key's checksum does not match: it was mistyped or cut short")]
    BadChecksum,
    #[error("the operating system's random number generator failed")]
    Randomness,
}

/// The part of a key that selects its row. Not secret: the console shows it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PublicId(String);

impl PublicId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A public id as the database holds it, whose shape its CHECK (`api_keys_public_id_shape`)
    /// has kept since the key was written: not parsed again.
    pub fn from_database(id: String) -> PublicId {
        PublicId(id)
    }
}

impl FromStr for PublicId {
    type Err = TokenError;

    /// For ids typed by admins or read from a URL: the same rules as inside a key.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if is_public_id(s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(TokenError::BadPublicId)
        }
    }
}

impl TryFrom<String> for PublicId {
    type Error = TokenError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<PublicId> for String {
    fn from(id: PublicId) -> Self {
        id.0
    }
}

impl AsRef<str> for PublicId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PublicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PublicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PublicId").field(&self.0).finish()
    }
}

/// A whole key, generated or parsed. It has no `Display`, so it cannot slip into a `format!`
/// or a log line by accident; `expose_token` is the one way to the full value.
pub struct KeyToken {
    public_id: PublicId,
    secret: SecretString,
}

impl KeyToken {
    /// A new key with a 12-character public id and a 32-character secret.
    pub fn generate() -> Result<KeyToken, TokenError> {
        let public_id = PublicId(random_base62(PUBLIC_ID_LEN)?);
        let secret = SecretString::from(random_base62(SECRET_LEN)?);
        Ok(KeyToken { public_id, secret })
    }

    /// Reads a key by its structure, so keys of other lengths parse too. Checks only what the
    /// string itself can tell (shape and checksum): no database, no hashing.
    pub fn parse(s: &str) -> Result<KeyToken, TokenError> {
        PresentedToken::parse(s).map(|token| token.to_key_token())
    }

    pub fn public_id(&self) -> &PublicId {
        &self.public_id
    }

    /// The secret part alone, for hashing.
    pub fn secret(&self) -> &SecretString {
        &self.secret
    }

    /// The full `kw_<public id>_<secret><checksum>` value, to show once when the key is created.
    pub fn expose_token(&self) -> String {
        let mut token = format!("{PREFIX}{}{SEPARATOR}{}", self.public_id, self.secret.expose_secret());
        let crc = checksum(&token);
        token.push_str(&crc);
        token
    }
}

/// A token as presented in a request, checked by structure and checksum and borrowed from
/// the request: the hot path of key verification reads it without copying the secret.
pub struct PresentedToken<'a> {
    public_id: &'a str,
    secret: &'a str,
}

impl<'a> PresentedToken<'a> {
    pub fn parse(s: &'a str) -> Result<PresentedToken<'a>, TokenError> {
        // Length first so huge input is not scanned; ASCII next so byte slicing below is safe.
        if s.len() > MAX_TOKEN_LEN || !s.is_ascii() {
            return Err(TokenError::NotAToken);
        }
        let rest = s.strip_prefix(PREFIX).ok_or(TokenError::NotAToken)?;
        // A byte scan: the input is ASCII, and the public id too short for a searcher to pay.
        let at = rest
            .bytes()
            .position(|b| b == SEPARATOR as u8)
            .ok_or(TokenError::NotAToken)?;
        let (public_id, rest) = (&rest[..at], &rest[at + 1..]);
        if !is_public_id(public_id) {
            return Err(TokenError::BadPublicId);
        }

        let (secret, checksum_given) = rest
            .len()
            .checked_sub(CHECKSUM_LEN)
            .and_then(|at| rest.split_at_checked(at))
            .ok_or(TokenError::BadSecret)?;
        if !SECRET_LENS.contains(&secret.len()) || !is_base62(secret) {
            return Err(TokenError::BadSecret);
        }

        // Everything before the checksum; the parts above are slices of `s`, so this is too.
        let body = &s[..s.len() - CHECKSUM_LEN];
        // A plain comparison is fine: anyone holding the string can compute its CRC anyway.
        if checksum_digits(body) != checksum_given.as_bytes() {
            return Err(TokenError::BadChecksum);
        }
        Ok(PresentedToken { public_id, secret })
    }

    pub fn public_id(&self) -> &'a str {
        self.public_id
    }

    /// The secret part alone, for hashing.
    pub fn expose_secret(&self) -> &'a str {
        self.secret
    }

    /// An owned copy, its secret held as a `SecretString`, for work that outlives the request.
    pub fn to_key_token(&self) -> KeyToken {
        KeyToken {
            public_id: PublicId(self.public_id.to_owned()),
            secret: SecretString::from(self.secret),
        }
    }
}

impl fmt::Debug for PresentedToken<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PresentedToken")
            .field("public_id", &self.public_id)
            .field("secret", &format_args!("[REDACTED]"))
            .finish()
    }
}

impl fmt::Debug for KeyToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyToken")
            .field("public_id", &self.public_id.as_str())
            .field("secret", &format_args!("[REDACTED]"))
            .finish()
    }
}

/// The CRC-32 (ISO-HDLC) of `body` in base62, most significant digit first, zero-padded to
/// six characters.
pub fn checksum(body: &str) -> String {
    checksum_digits(body).iter().map(|&d| char::from(d)).collect()
}

fn checksum_digits(body: &str) -> [u8; CHECKSUM_LEN] {
    let mut value = crc32fast::hash(body.as_bytes());
    let mut digits = [b'0'; CHECKSUM_LEN];
    for digit in digits.iter_mut().rev() {
        *digit = ALPHABET[(value % 62) as usize];
        value /= 62;
    }
    digits
}

/// The rule for a public id, whether it arrives alone or inside a token.
fn is_public_id(s: &str) -> bool {
    PUBLIC_ID_LENS.contains(&s.len()) && is_base62(s)
}

fn is_base62(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// `len` base62 characters, each uniform: bytes of 248 or more (4 × 62) are thrown away rather
/// than reduced modulo 62, which would favour the first eight digits.
fn random_base62(len: usize) -> Result<String, TokenError> {
    const ACCEPT_BELOW: u8 = 248;
    let mut out = String::with_capacity(len);
    let mut bytes = [0u8; 64];
    while out.len() < len {
        getrandom::fill(&mut bytes).map_err(|_| TokenError::Randomness)?;
        for &b in bytes.iter().filter(|&&b| b < ACCEPT_BELOW) {
            if out.len() == len {
                break;
            }
            out.push(char::from(ALPHABET[usize::from(b % 62)]));
        }
    }
    bytes.zeroize();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A key with the given parts and a correct checksum.
    fn build(public_id: &str, secret: &str) -> String {
        let body = format!("kw_{public_id}_{secret}");
        let crc = checksum(&body);
        format!("{body}{crc}")
    }

    fn valid() -> String {
        build("abcDEF123456", "0123456789abcdefghijABCDEFGHIJxy")
    }

    #[test]
    fn generated_token_parses_back_to_the_same_parts() {
        let token = KeyToken::generate().expect("CSPRNG available");
        let parsed = KeyToken::parse(&token.expose_token()).expect("own token parses");
        assert_eq!(parsed.public_id(), token.public_id());
        assert_eq!(parsed.secret().expose_secret(), token.secret().expose_secret());
    }

    #[test]
    fn generated_token_has_the_documented_format() {
        let token = KeyToken::generate().expect("CSPRNG available");
        let value = token.expose_token();
        assert!(value.starts_with("kw_"));
        assert_eq!(value.len(), 3 + 12 + 1 + 32 + 6);
        assert_eq!(token.public_id().as_str().len(), 12);
        assert_eq!(&value[15..16], "_");
        assert_eq!(&value[3..15], token.public_id().as_str());
        assert_eq!(&value[16..48], token.secret().expose_secret());
        assert!(value[3..15].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert!(value[16..].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(&value[48..], checksum(&value[..48]));
    }

    #[test]
    fn generated_tokens_differ() {
        let a = KeyToken::generate().expect("CSPRNG available");
        let b = KeyToken::generate().expect("CSPRNG available");
        assert_ne!(a.public_id(), b.public_id());
        assert_ne!(a.secret().expose_secret(), b.secret().expose_secret());
    }

    #[test]
    fn random_base62_uses_the_whole_alphabet_and_nothing_else() {
        let sample = random_base62(10_000).expect("CSPRNG available");
        assert_eq!(sample.len(), 10_000);
        for &c in ALPHABET {
            assert!(sample.as_bytes().contains(&c), "{} never drawn", char::from(c));
        }
        assert!(is_base62(&sample));
    }

    #[test]
    fn checksum_encoding_known_vectors() {
        let body = "kw_abcDEF123456_0123456789abcdefghijABCDEFGHIJxy";
        let mut crc = crc32fast::hash(body.as_bytes());
        let mut expected = Vec::new();
        for _ in 0..6 {
            expected.push(ALPHABET[(crc % 62) as usize]);
            crc /= 62;
        }
        expected.reverse();
        assert_eq!(checksum(body), String::from_utf8(expected).expect("ascii"));

        // "123456789" is the standard CRC-32 check input: 0xCBF43926 = 3421780262.
        assert_eq!(crc32fast::hash(b"123456789"), 0xCBF4_3926);
        // 3421780262 = 3·62^5 + 45·62^4 + 35·62^3 + 27·62^2 + 22·62 + 14 → "3", "j", "Z", "R", "M", "E"
        assert_eq!(checksum("123456789"), "3jZRME");
        // The CRC of the empty string is 0.
        assert_eq!(checksum(""), "000000");
    }

    #[test]
    fn base62_digits_zero_padded_most_significant_first() {
        // Bodies with a known CRC are hard to pick, so check the digit rule on the encoder
        // through values we can reach: 0 (empty body) above, and the alphabet order here.
        fn encode(mut value: u32) -> String {
            let mut digits = [b'0'; CHECKSUM_LEN];
            for digit in digits.iter_mut().rev() {
                *digit = ALPHABET[(value % 62) as usize];
                value /= 62;
            }
            String::from_utf8(digits.to_vec()).expect("ascii")
        }
        assert_eq!(encode(0), "000000");
        assert_eq!(encode(61), "00000z");
        assert_eq!(encode(62), "000010");
        assert_eq!(encode(u32::MAX), "4gfFC3");
        // And `checksum` is exactly that encoding of crc32fast's value.
        for body in ["", "a", "kw_", "123456789", "kw_abcdefgh_x"] {
            assert_eq!(checksum(body), encode(crc32fast::hash(body.as_bytes())));
        }
    }

    #[test]
    fn valid_token_parses() {
        let token = KeyToken::parse(&valid()).expect("valid");
        assert_eq!(token.public_id().as_str(), "abcDEF123456");
        assert_eq!(token.secret().expose_secret(), "0123456789abcdefghijABCDEFGHIJxy");
        assert_eq!(token.expose_token(), valid());
    }

    #[test]
    fn wrong_prefix_is_not_a_token() {
        let good = valid();
        for bad in [
            good.replacen("kw_", "kx_", 1),
            good.replacen("kw_", "KW_", 1),
            good.replacen("kw_", "", 1),
            format!(" {good}"),
            format!("x{good}"),
        ] {
            assert_eq!(KeyToken::parse(&bad).map(|_| ()), Err(TokenError::NotAToken), "{bad}");
        }
    }

    #[test]
    fn missing_underscore_is_not_a_token() {
        let no_sep = valid().replacen("abcDEF123456_", "abcDEF123456", 1);
        assert_eq!(KeyToken::parse(&no_sep).map(|_| ()), Err(TokenError::NotAToken));
        assert_eq!(KeyToken::parse("kw_").map(|_| ()), Err(TokenError::NotAToken));
        assert_eq!(
            KeyToken::parse("kw_abcdefghijkl").map(|_| ()),
            Err(TokenError::NotAToken)
        );
    }

    #[test]
    fn non_ascii_is_not_a_token() {
        for bad in [
            valid().replacen('a', "é", 1),
            format!("{}ü", valid()),
            "kw_ßßßßßßßß_ßßßßßßßßßßßßßßßßßßßßßßßßßßßßßßßßßß".to_owned(),
            "kw_\u{1F511}".to_owned(),
        ] {
            assert_eq!(KeyToken::parse(&bad).map(|_| ()), Err(TokenError::NotAToken), "{bad}");
        }
    }

    #[test]
    fn empty_is_not_a_token() {
        assert_eq!(KeyToken::parse("").map(|_| ()), Err(TokenError::NotAToken));
    }

    #[test]
    fn short_secret_is_rejected() {
        let short = build("abcDEF123456", &"s".repeat(29));
        assert_eq!(KeyToken::parse(&short).map(|_| ()), Err(TokenError::BadSecret));
        let shortest_ok = build("abcDEF123456", &"s".repeat(30));
        assert!(KeyToken::parse(&shortest_ok).is_ok());
        // Fewer characters than the checksum itself.
        assert_eq!(
            KeyToken::parse("kw_abcDEF123456_abc").map(|_| ()),
            Err(TokenError::BadSecret)
        );
        assert_eq!(
            KeyToken::parse("kw_abcDEF123456_").map(|_| ()),
            Err(TokenError::BadSecret)
        );
    }

    #[test]
    fn too_long_input_is_rejected() {
        let long_secret = build("abcDEF123456", &"s".repeat(257));
        assert_eq!(KeyToken::parse(&long_secret).map(|_| ()), Err(TokenError::BadSecret));
        let longest_ok = build(&"i".repeat(64), &"s".repeat(256));
        assert_eq!(longest_ok.len(), MAX_TOKEN_LEN);
        assert!(KeyToken::parse(&longest_ok).is_ok());
        // One character past the longest key: refused before its parts are looked at.
        let one_too_long = build(&"i".repeat(65), &"s".repeat(256));
        assert_eq!(one_too_long.len(), MAX_TOKEN_LEN + 1);
        assert_eq!(KeyToken::parse(&one_too_long).map(|_| ()), Err(TokenError::NotAToken));
        let huge = format!("{}{}", valid(), "a".repeat(1 << 20));
        assert_eq!(KeyToken::parse(&huge).map(|_| ()), Err(TokenError::NotAToken));
    }

    #[test]
    fn public_id_length_bounds() {
        assert_eq!(
            KeyToken::parse(&build("abcdefg", &"s".repeat(32))).map(|_| ()),
            Err(TokenError::BadPublicId)
        );
        assert_eq!(
            KeyToken::parse(&build(&"i".repeat(65), &"s".repeat(32))).map(|_| ()),
            Err(TokenError::BadPublicId)
        );
        assert_eq!(
            KeyToken::parse(&build("", &"s".repeat(32))).map(|_| ()),
            Err(TokenError::BadPublicId)
        );
        assert!(KeyToken::parse(&build("abcdefgh", &"s".repeat(32))).is_ok());
    }

    #[test]
    fn non_base62_characters_are_rejected() {
        let secret = "0123456789abcdefghijABCDEFGHIJxy";
        assert_eq!(
            KeyToken::parse(&build("abcDEF-23456", secret)).map(|_| ()),
            Err(TokenError::BadPublicId)
        );
        for bad_secret in [
            "0123456789abcdefghij+BCDEFGHIJxy",
            "0123456789abcdefghij_BCDEFGHIJxy",
            "0123456789abcdefghij BCDEFGHIJxy",
            "0123456789abcdefghij\0BCDEFGHIJxy",
        ] {
            assert_eq!(
                KeyToken::parse(&build("abcDEF123456", bad_secret)).map(|_| ()),
                Err(TokenError::BadSecret),
                "{bad_secret:?}"
            );
        }
        let mut bad_crc = valid();
        bad_crc.replace_range(bad_crc.len() - 1.., "=");
        assert_eq!(KeyToken::parse(&bad_crc).map(|_| ()), Err(TokenError::BadChecksum));
    }

    #[test]
    fn bad_checksum_is_rejected() {
        let good = valid();
        let last = good.as_bytes()[good.len() - 1];
        let other = if last == b'0' { "1" } else { "0" };
        let mut bad = good.clone();
        bad.replace_range(good.len() - 1.., other);
        assert_eq!(KeyToken::parse(&bad).map(|_| ()), Err(TokenError::BadChecksum));
        // A typo in the secret leaves the shape intact but breaks the checksum.
        let typo = good.replacen("abcdefghij", "abcdefghik", 1);
        assert_eq!(KeyToken::parse(&typo).map(|_| ()), Err(TokenError::BadChecksum));
    }

    #[test]
    fn older_format_with_other_lengths_still_parses() {
        let public_id = "AbCdE12345";
        let secret = "s3cr3tS3CR3Ts3cr3tS3CR3Ts3cr3tS3CR3Ts3cr";
        assert_eq!((public_id.len(), secret.len()), (10, 40));
        let token = KeyToken::parse(&build(public_id, secret)).expect("older format parses");
        assert_eq!(token.public_id().as_str(), public_id);
        assert_eq!(token.secret().expose_secret(), secret);
        assert_eq!(token.expose_token(), build(public_id, secret));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let token = KeyToken::generate().expect("CSPRNG available");
        let secret = token.secret().expose_secret();
        let value = token.expose_token();
        let presented = PresentedToken::parse(&value).expect("own token parses");
        for shown in [
            format!("{token:?}"),
            format!("{token:#?}"),
            format!("{presented:?}"),
            format!("{presented:#?}"),
        ] {
            assert!(!shown.contains(secret), "{shown}");
            assert!(!shown.contains(&token.expose_token()));
            assert!(shown.contains(token.public_id().as_str()));
            assert!(shown.contains("[REDACTED]"));
        }
    }

    #[test]
    fn public_id_from_str_uses_the_same_rules() {
        let id: PublicId = "abcDEF123456".parse().expect("valid id");
        assert_eq!(id.as_str(), "abcDEF123456");
        assert_eq!(id.to_string(), "abcDEF123456");
        assert!(format!("{id:?}").contains("abcDEF123456"));
        for bad in ["", "short", "abcDEF12345!", "abcDEF 123456", "ábcDEF123456"] {
            assert_eq!(bad.parse::<PublicId>(), Err(TokenError::BadPublicId), "{bad}");
        }
        assert_eq!("i".repeat(65).parse::<PublicId>(), Err(TokenError::BadPublicId));
    }

    #[test]
    fn public_id_serde_validates() {
        let id: PublicId = serde_json::from_str("\"abcDEF123456\"").expect("valid id deserialises");
        assert_eq!(serde_json::to_string(&id).expect("serialises"), "\"abcDEF123456\"");
        assert!(serde_json::from_str::<PublicId>("\"bad id\"").is_err());
    }

    proptest! {
        #[test]
        fn generate_then_parse_round_trips(_ in 0..64u8) {
            let token = KeyToken::generate().expect("CSPRNG available");
            let value = token.expose_token();
            let parsed = KeyToken::parse(&value).expect("own token parses");
            prop_assert_eq!(parsed.public_id(), token.public_id());
            prop_assert_eq!(parsed.secret().expose_secret(), token.secret().expose_secret());
            prop_assert_eq!(parsed.expose_token(), value);
        }

        #[test]
        fn any_single_character_change_is_rejected(
            index in 0..(3 + 12 + 1 + 32 + 6usize),
            replacement in any::<char>(),
        ) {
            let value = KeyToken::generate().expect("CSPRNG available").expose_token();
            let original = char::from(value.as_bytes()[index]);
            prop_assume!(replacement != original);
            let mut changed = String::with_capacity(value.len() + 4);
            changed.push_str(&value[..index]);
            changed.push(replacement);
            changed.push_str(&value[index + 1..]);
            prop_assert!(KeyToken::parse(&changed).is_err(), "{:?} accepted", changed);
        }

        #[test]
        fn arbitrary_strings_never_panic(s in any::<String>()) {
            let _ = KeyToken::parse(&s);
            let _ = s.parse::<PublicId>();
        }

        #[test]
        fn token_shaped_strings_never_panic(s in "kw_[0-9A-Za-z_]{0,80}") {
            let _ = KeyToken::parse(&s);
        }

        #[test]
        fn well_formed_keys_parse_exactly_within_the_length_bounds(
            public_id in "[0-9A-Za-z]{0,70}",
            secret in "[0-9A-Za-z]{0,260}",
        ) {
            let value = build(&public_id, &secret);
            let result = KeyToken::parse(&value);
            let id_ok = (8..=64).contains(&public_id.len());
            let secret_ok = (30..=256).contains(&secret.len());
            match (id_ok, secret_ok) {
                // Too long to be any key: refused before its parts are looked at.
                _ if value.len() > MAX_TOKEN_LEN => {
                    prop_assert_eq!(result.map(|_| ()), Err(TokenError::NotAToken));
                }
                (true, true) => {
                    let token = result.expect("in-bounds key parses");
                    prop_assert_eq!(token.public_id().as_str(), public_id.as_str());
                    prop_assert_eq!(token.secret().expose_secret(), secret.as_str());
                    prop_assert_eq!(token.expose_token(), value);
                }
                (false, _) => prop_assert_eq!(result.map(|_| ()), Err(TokenError::BadPublicId)),
                (true, false) => prop_assert_eq!(result.map(|_| ()), Err(TokenError::BadSecret)),
            }
        }
    }
}
