//! Accounts: roles, the password rules, password hashing and API tokens.
//!
//! Passwords are hashed with argon2id at the parameters OWASP recommends
//! (19 MiB, 2 passes, 1 lane); tokens are 256 random bits, stored only as
//! their SHA-256, so the database never holds a usable secret.

pub mod two_factor;

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest, Sha256};

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// What a user may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Manages users and settings, and everything an editor does.
    Owner,
    /// Manages content, media, newsletters and the inbox.
    Editor,
}

impl Role {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Editor => "editor",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        match s {
            "owner" => Ok(Role::Owner),
            "editor" => Ok(Role::Editor),
            other => Err(format!("unknown role `{other}`: owner or editor")),
        }
    }
}

/// Why a password is refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Shorter than [`MIN_PASSWORD_CHARS`].
    #[error("the password is too short: at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    /// Among the common passwords, or guessable from the address.
    #[error("the password is too easy to guess{0}")]
    TooWeak(String),
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Checks the rules: long enough, not common, not made of the address.
pub fn check_password(password: &str, email: &str) -> Result<(), PasswordError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    let mut user_parts: Vec<&str> = email.split(['@', '.']).filter(|p| p.len() > 2).collect();
    user_parts.push(email);
    let estimate = zxcvbn::zxcvbn(password, &user_parts);
    if (estimate.score() as u8) < 3 {
        let hint = estimate.feedback().and_then(|f| f.warning()).map(|w| format!(": {w}")).unwrap_or_default();
        return Err(PasswordError::TooWeak(hint));
    }
    Ok(())
}

/// The argon2id PHC string of `password`, with a fresh salt.
pub fn hash_password(password: &str) -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS provides randomness");
    let salt = SaltString::encode_b64(&bytes).expect("16 bytes make a valid salt");
    argon2().hash_password(password.as_bytes(), &salt).expect("argon2 hashes any password").to_string()
}

/// Whether `password` matches the PHC string `hash`.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash no password matches, to verify against when the address is
/// unknown: the answer then takes as long as for a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password(&crate::ids::nonce()))
}

/// A new API token and the hash to store: `cf_` and 64 hex digits.
pub fn new_token() -> (String, String) {
    let token = format!("cf_{}{}", crate::ids::nonce(), crate::ids::nonce());
    let hash = token_hash(&token);
    (token, hash)
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    crate::ids::to_hex(&Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_must_be_long_and_uncommon() {
        assert_eq!(check_password("short", "ann@example.org"), Err(PasswordError::TooShort));
        assert!(matches!(check_password("password1234", "ann@example.org"), Err(PasswordError::TooWeak(_))));
        assert!(matches!(check_password("ann@example.org", "ann@example.org"), Err(PasswordError::TooWeak(_))));
        assert_eq!(check_password("correct horse battery staple", "ann@example.org"), Ok(()));
    }

    #[test]
    fn hashes_verify_only_their_password() {
        let hash = hash_password("correct horse battery staple");
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(verify_password(&hash, "correct horse battery staple"));
        assert!(!verify_password(&hash, "correct horse battery stapler"));
        assert!(!verify_password("not a hash", "x"));
        assert!(!verify_password(decoy_hash(), ""));
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, hash) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert!(a.starts_with("cf_") && a.len() == 67);
        assert_eq!(token_hash(&a), hash);
        assert!(!hash.contains(&a[3..]));
    }
}
