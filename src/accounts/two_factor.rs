//! Two-factor sign-in: time-based one-time codes (RFC 6238, what
//! authenticator apps show: SHA-1, six digits, 30 s) and recovery codes for
//! a lost phone. Secrets are stored base32-encoded; recovery codes only as
//! SHA-256, like API tokens.

use totp_rs::{Builder, Secret, Totp};

/// How many recovery codes a user gets; each works once.
pub const RECOVERY_CODES: usize = 10;

/// A new random secret (160 bits, as RFC 4226 recommends), base32-encoded.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).expect("the OS provides randomness");
    Secret::from(bytes).to_base32()
}

/// The generator for a stored secret, labelled for the user's app.
fn totp(secret: &str, email: &str, issuer: &str) -> Option<Totp> {
    // A `:` would end the label early in the otpauth URL.
    Builder::new()
        .with_secret(Secret::try_from_base32(secret).ok()?)
        .with_account_name(email.replace(':', " "))
        .with_issuer(Some(issuer.replace(':', " ")))
        .build()
        .ok()
}

/// The `otpauth://` address an authenticator app reads from the QR code.
pub fn setup_url(secret: &str, email: &str, issuer: &str) -> Option<String> {
    totp(secret, email, issuer)?.to_url().ok()
}

/// The address as a QR code, an SVG image in a `data:` URL (the admin's
/// Content-Security-Policy allows `data:` images, not inline markup).
pub fn qr_data_url(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    let svg = code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).build();
    let encoded = percent_encoding::utf8_percent_encode(&svg, percent_encoding::NON_ALPHANUMERIC);
    Some(format!("data:image/svg+xml,{encoded}"))
}

/// The time step a code is valid for at `now` (the one before and after
/// count too, for clocks that drift), or `None`. The caller accepts each
/// step once (RFC 6238, 5.2).
pub fn check_code(secret: &str, code: &str, now: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let totp = totp(secret, "user", "casefile")?;
    totp.check(&code, u64::try_from(now).ok()?).and_then(|step| i64::try_from(step).ok())
}

/// The code an app shows at `now` (tests, and nothing else, need it).
pub fn code_at(secret: &str, now: i64) -> Option<String> {
    Some(totp(secret, "user", "casefile")?.generate(u64::try_from(now).ok()?).to_string())
}

/// Fresh recovery codes (`xxxx-xxxx-xxxx`, about 59 bits each) and their hashes.
pub fn new_recovery_codes() -> Vec<(String, String)> {
    // Letters and digits that cannot be mistaken for each other (no i, l, o, 0, 1).
    const ALPHABET: &[u8; 31] = b"abcdefghjkmnpqrstuvwxyz23456789";
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; 12];
            getrandom::fill(&mut bytes).expect("the OS provides randomness");
            let chars: String = bytes.iter().map(|b| char::from(ALPHABET[usize::from(b % 31)])).collect();
            let code = format!("{}-{}-{}", &chars[..4], &chars[4..8], &chars[8..]);
            let hash = recovery_code_hash(&code);
            (code, hash)
        })
        .collect()
}

/// The stored form of a recovery code as typed (case and spaces ignored).
pub fn recovery_code_hash(typed: &str) -> String {
    let normal: String = typed.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_lowercase();
    super::token_hash(&normal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_counts_in_its_step_and_the_next_and_not_later() {
        let secret = new_secret();
        let now = 1_790_000_000;
        let code = code_at(&secret, now).unwrap();
        assert_eq!(check_code(&secret, &code, now), Some(now / 30));
        assert_eq!(check_code(&secret, &format!(" {} {} ", &code[..3], &code[3..]), now + 30), Some(now / 30));
        assert_eq!(check_code(&secret, &code, now + 90), None, "three steps later it is dead");
        assert_eq!(check_code(&secret, "000000x", now), None);
        assert_eq!(check_code(&new_secret(), &code, now), None, "another secret, another code");
    }

    #[test]
    fn recovery_codes_are_distinct_and_typed_loosely() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let (code, hash) = &codes[0];
        assert_eq!(code.len(), 14);
        assert_eq!(&recovery_code_hash(&format!(" {} ", code.to_uppercase())), hash);
        let distinct: std::collections::BTreeSet<_> = codes.iter().map(|(c, _)| c).collect();
        assert_eq!(distinct.len(), RECOVERY_CODES);
    }

    #[test]
    fn the_setup_url_and_qr_code_name_the_site_and_user() {
        let secret = new_secret();
        let url = setup_url(&secret, "ann@example.org", "Friends: of Jens Söring").unwrap();
        assert!(
            url.starts_with("otpauth://totp/") && url.contains(&secret) && url.contains("ann%40example.org"),
            "{url}"
        );
        assert!(qr_data_url(&url).unwrap().starts_with("data:image/svg+xml,%3C"));
    }
}
