//! Randomness from the operating system's CSPRNG, for tokens, salts and keys.

/// `N` random bytes. The OS generator failing is unrecoverable for a security product.
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // Panics rather than go on without randomness: nothing safe can be made without it.
    getrandom::fill(&mut buf).expect("the operating system's random number generator failed");
    buf
}

/// A URL-safe random token of 32 bytes (256 bits), hex encoded.
pub fn token() -> String {
    hex::encode(bytes::<32>())
}
