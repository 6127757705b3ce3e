//! Signed tokens: the anti-forgery token in every form, and the capability
//! in every link we mail (confirm, unsubscribe, see my data).
//!
//! Both are HMAC-SHA256 over the token's fields with the installation's
//! secret key (`<data>/secret.key`, created on first start). Nothing is kept
//! per visitor, so forms need no cookie. A link token names a random nonce
//! that the database row holds; a new request replaces the nonce, so older
//! links stop working, and a confirmation link used again says it is done.

use std::path::Path;

use anyhow::{Context, Result};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::ids::{from_hex, to_hex};

/// How long a confirmation link is valid.
pub const CONFIRM_LINK_SECONDS: i64 = 7 * 24 * 3600;
/// How long a "see my data" link is valid.
pub const DATA_LINK_SECONDS: i64 = 24 * 3600;
/// How long a form may stay open before its token expires.
pub const FORM_TOKEN_SECONDS: i64 = 2 * 3600;

/// What a link token is for; a token for one purpose is useless for another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Confirm a newsletter subscription.
    ConfirmSubscription,
    /// Leave the newsletter (never expires).
    Unsubscribe,
    /// Confirm a petition signature.
    ConfirmSignature,
    /// See, download or erase one's data.
    DataAccess,
    /// Choose the first owner's address and password (no user exists yet).
    Setup,
    /// The password was right; the second factor is still to come.
    SecondFactor,
    /// Read an item before it is published (a review link).
    Review,
}

impl Purpose {
    fn tag(self) -> &'static str {
        match self {
            Purpose::ConfirmSubscription => "confirm-subscription",
            Purpose::Unsubscribe => "unsubscribe",
            Purpose::ConfirmSignature => "confirm-signature",
            Purpose::DataAccess => "data-access",
            Purpose::Setup => "setup",
            Purpose::SecondFactor => "second-factor",
            Purpose::Review => "review",
        }
    }
}

/// Writes `key` as hex into a new file `path` (mode 0600), synced.
fn write_key(path: &Path, key: &[u8; 32]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    std::io::Write::write_all(&mut file, to_hex(key).as_bytes())?;
    file.sync_all()
}

/// Signs and checks tokens with the installation's secret key.
#[derive(Clone)]
pub struct Signer {
    key: [u8; 32],
}

impl Signer {
    /// Reads the key from `path`, creating a random one (mode 0600) if there
    /// is none. Instances sharing a database must share this file; several
    /// starting at once over one data folder all end up with one key.
    pub fn load_or_create(path: &Path) -> Result<Signer> {
        if let Some(signer) = Self::load(path)? {
            return Ok(signer);
        }
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        // Written whole beside, then linked into place: a process starting
        // at the same moment never reads half a key, and a link fails when
        // another process put its key there first. A file system without
        // hard links (some network shares) gets the key written in place.
        let staged = path.with_extension(format!("new-{}", crate::ids::nonce()));
        let linked = write_key(&staged, &key).and_then(|()| std::fs::hard_link(&staged, path));
        let _ = std::fs::remove_file(&staged);
        let created = match linked {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => write_key(path, &key),
            other => other,
        };
        match created {
            Ok(()) => {
                // The folder's entry too: after a power cut, a key that
                // vanished would be replaced, and every mailed link die.
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
                }
                tracing::info!(path = %path.display(), "created a new secret key");
                Ok(Signer { key })
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Self::load(path)?.with_context(|| format!("the secret key {} vanished", path.display()))
            }
            Err(e) => Err(e).with_context(|| format!("cannot create the secret key {}", path.display())),
        }
    }

    /// The key in `path`, or `None` if there is no such file.
    fn load(path: &Path) -> Result<Option<Signer>> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let key = from_hex(text.trim())
                    .and_then(|v| <[u8; 32]>::try_from(v).ok())
                    .with_context(|| format!("{} does not hold a 64-digit hex key", path.display()))?;
                Ok(Some(Signer { key }))
            }
            // Only a missing file means "first start": any other error must
            // not replace the key, or every link already mailed would die.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read the secret key {}", path.display())),
        }
    }

    /// A signer with a fixed key, for tests.
    pub fn from_key(key: [u8; 32]) -> Signer {
        Signer { key }
    }

    fn sign(&self, parts: &[&str]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length works");
        for p in parts {
            // Length-prefixed, so ("ab","c") and ("a","bc") differ.
            mac.update(&(p.len() as u64).to_be_bytes());
            mac.update(p.as_bytes());
        }
        // 128 bits are plenty for a MAC that is checked online.
        to_hex(&mac.finalize().into_bytes()[..16])
    }

    fn verify(&self, parts: &[&str], sig: &str) -> bool {
        let Some(sig) = from_hex(sig) else { return false };
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length works");
        for p in parts {
            mac.update(&(p.len() as u64).to_be_bytes());
            mac.update(p.as_bytes());
        }
        mac.verify_truncated_left(&sig).is_ok() && sig.len() == 16
    }

    /// The token for a form of `kind` rendered at `now_ms`.
    pub fn form_token(&self, kind: &str, now_ms: i64) -> String {
        let issued = now_ms.to_string();
        format!("{issued}.{}", self.sign(&["form", kind, &issued]))
    }

    /// When a valid form token for `kind` was issued (unix milliseconds).
    pub fn check_form_token(&self, kind: &str, token: &str) -> Option<i64> {
        let (issued, sig) = token.split_once('.')?;
        let ms: i64 = issued.parse().ok()?;
        self.verify(&["form", kind, issued], sig).then_some(ms)
    }

    /// A link token for `nonce`, valid until `expires` (unix seconds; 0 = never).
    pub fn link_token(&self, purpose: Purpose, nonce: &str, expires: i64) -> String {
        let exp = expires.to_string();
        format!("{nonce}.{exp}.{}", self.sign(&["link", purpose.tag(), nonce, &exp]))
    }

    /// The nonce of a valid, unexpired link token.
    pub fn check_link_token(&self, purpose: Purpose, token: &str, now: i64) -> Option<String> {
        let mut it = token.splitn(3, '.');
        let (nonce, exp, sig) = (it.next()?, it.next()?, it.next()?);
        let expires: i64 = exp.parse().ok()?;
        let valid = self.verify(&["link", purpose.tag(), nonce, exp], sig);
        (valid && (expires == 0 || now <= expires) && is_nonce(nonce)).then(|| nonce.to_owned())
    }
}

fn is_nonce(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_tokens_are_bound_to_their_form_and_key() {
        let s = Signer::from_key([7; 32]);
        let t = s.form_token("contact", 1_000);
        assert_eq!(s.check_form_token("contact", &t), Some(1_000));
        assert_eq!(s.check_form_token("newsletter", &t), None, "another form");
        assert_eq!(Signer::from_key([8; 32]).check_form_token("contact", &t), None, "another key");
        let forged = t.replacen("1000", "2000", 1);
        assert_eq!(s.check_form_token("contact", &forged), None, "changed time");
        for junk in ["", ".", "x.y", "1000.", "1000.zz", "1000.00"] {
            assert_eq!(s.check_form_token("contact", junk), None, "{junk:?}");
        }
    }

    #[test]
    fn link_tokens_expire_and_keep_to_their_purpose() {
        let s = Signer::from_key([1; 32]);
        let n = crate::ids::nonce();
        let t = s.link_token(Purpose::ConfirmSubscription, &n, 500);
        assert_eq!(s.check_link_token(Purpose::ConfirmSubscription, &t, 500), Some(n.clone()));
        assert_eq!(s.check_link_token(Purpose::ConfirmSubscription, &t, 501), None, "expired");
        assert_eq!(s.check_link_token(Purpose::Unsubscribe, &t, 100), None, "wrong purpose");
        let forever = s.link_token(Purpose::Unsubscribe, &n, 0);
        assert_eq!(s.check_link_token(Purpose::Unsubscribe, &forever, i64::MAX), Some(n.clone()));
        let tampered = forever.replacen(&n[..4], "0000", 1);
        assert_eq!(s.check_link_token(Purpose::Unsubscribe, &tampered, 0), None);
        let mut truncated = forever.clone();
        truncated.truncate(forever.len() - 2);
        assert_eq!(s.check_link_token(Purpose::Unsubscribe, &truncated, 0), None);
    }

    #[test]
    fn the_key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        let a = Signer::load_or_create(&path).unwrap();
        let b = Signer::load_or_create(&path).unwrap();
        assert_eq!(a.key, b.key);
        std::fs::write(&path, "not hex").unwrap();
        assert!(Signer::load_or_create(&path).is_err(), "a damaged key is an error, not a silent new key");
        assert!(from_hex("+f").is_none(), "one spelling per byte");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let other = dir.path().join("other.key");
            Signer::load_or_create(&other).unwrap();
            assert_eq!(std::fs::metadata(&other).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn instances_starting_together_share_one_new_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        let starts: Vec<_> = (0..8)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || Signer::load_or_create(&path).unwrap().key)
            })
            .collect();
        let keys: Vec<[u8; 32]> = starts.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(keys.iter().all(|k| *k == keys[0]), "one key for all");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, ["secret.key"], "no staged copy left behind");
    }
}
