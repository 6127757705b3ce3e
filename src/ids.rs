//! Hex encoding and random identifiers, in one place: tokens, nonces,
//! Message-IDs, ETags and asset names all use these.

/// Lowercase hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

/// The bytes of a hex string (either case); `None` for anything else.
pub fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect()
}

/// A fresh random 128-bit nonce, hex-encoded.
pub fn nonce() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the OS provides randomness");
    to_hex(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_refuses_other_spellings() {
        assert_eq!(to_hex(&[0, 15, 16, 255]), "000f10ff");
        assert_eq!(from_hex("000f10FF"), Some(vec![0, 15, 16, 255]));
        assert!(from_hex("+f").is_none(), "one spelling per byte");
        assert!(from_hex("abc").is_none());
        assert_eq!(nonce().len(), 32);
        assert_ne!(nonce(), nonce());
    }
}
