//! Fuzzes `KeyToken::parse` on arbitrary text: it must never panic, and whatever it accepts
//! must come back unchanged through `expose_token` and a second `parse`.
#![no_main]

use keyward::domain::token::KeyToken;
use libfuzzer_sys::fuzz_target;
use secrecy::ExposeSecret;

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    if let Ok(token) = KeyToken::parse(&input) {
        let exposed = token.expose_token();
        // Only well-formed keys parse, and they have one spelling.
        assert_eq!(exposed, input);
        let again = KeyToken::parse(&exposed).expect("an exposed token parses again");
        assert_eq!(again.public_id(), token.public_id());
        assert_eq!(again.secret().expose_secret(), token.secret().expose_secret());
    }
});
