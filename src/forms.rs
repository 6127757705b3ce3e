//! What visitors may send: the fields of each public form and their rules.
//!
//! No I/O here: a form body comes in as bytes, goes out as a validated
//! value or as field errors that the page shows next to each field. The
//! same rules hold whichever page the form sits on.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;

/// Longest accepted email address (RFC 5321's path limit).
pub const MAX_EMAIL: usize = 254;
/// Longest name.
pub const MAX_NAME: usize = 100;
/// Longest country.
pub const MAX_COUNTRY: usize = 80;
/// Longest contact subject.
pub const MAX_SUBJECT: usize = 150;
/// Longest contact message.
pub const MAX_MESSAGE: usize = 5000;
/// A form with more fields than this is not one of ours.
const MAX_FIELDS: usize = 32;

/// The name of the hidden field that only bots fill in.
pub const HONEYPOT: &str = "website";

/// What is wrong with one field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum FieldError {
    /// Empty but needed.
    Required,
    /// Not an email address.
    Email,
    /// Longer than `max` characters.
    TooLong {
        /// The limit.
        max: usize,
    },
    /// A box that must be ticked is not.
    Consent,
}

/// Field name → what is wrong with it.
pub type FieldErrors = BTreeMap<&'static str, FieldError>;

/// A decoded form body: the first value of each field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Input(pub BTreeMap<String, String>);

impl Input {
    /// Decodes `application/x-www-form-urlencoded`. `None` when the body is
    /// not a plausible form (too many fields).
    pub fn parse(body: &[u8]) -> Option<Input> {
        let mut map = BTreeMap::new();
        for (i, (k, v)) in form_urlencoded::parse(body).enumerate() {
            if i >= MAX_FIELDS {
                return None;
            }
            map.entry(k.into_owned()).or_insert_with(|| v.into_owned());
        }
        Some(Input(map))
    }

    /// A field's raw value, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0.get(name).map_or("", String::as_str)
    }

    /// Whether a checkbox was ticked.
    /// Whether a checkbox was ticked: it sends exactly `yes` (its value in
    /// `forms.html`); `consent=no` or `consent=0` is no consent.
    pub fn checked(&self, name: &str) -> bool {
        self.get(name) == "yes"
    }

    /// Whether the honeypot was filled in.
    pub fn is_bot(&self) -> bool {
        !self.get(HONEYPOT).trim().is_empty()
    }

    /// What to put back into the form when it is shown again: every field
    /// but the token and the honeypot.
    pub fn echo(&self) -> BTreeMap<String, String> {
        self.0.iter().filter(|(k, _)| *k != "token" && *k != HONEYPOT).map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

/// A one-line field: control characters (CR, LF, NUL …) become spaces, so
/// nothing a visitor types can start a new mail header; invisible
/// characters are dropped, so a name or subject cannot hide text or turn
/// itself around (`evil\u{202E}gpj.exe`); then trimmed.
fn line(s: &str) -> String {
    s.chars()
        .filter(|c| !is_invisible(*c))
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Characters that take no space or reorder text: zero-width spaces and
/// joiners, direction marks, embeddings, overrides and isolates, the word
/// joiner and invisible operators, the byte order mark, tag characters.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{E0000}'..='\u{E007F}')
}

/// A multi-line field: line breaks and tabs kept, other control characters
/// dropped, line endings normalised.
fn text(s: &str) -> String {
    s.replace("\r\n", "\n")
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect::<String>()
        .trim()
        .to_owned()
}

struct Check<'a> {
    input: &'a Input,
    errors: FieldErrors,
}

impl<'a> Check<'a> {
    fn new(input: &'a Input) -> Self {
        Check { input, errors: FieldErrors::new() }
    }

    fn line(&mut self, name: &'static str, max: usize, required: bool) -> String {
        self.limit(name, line(self.input.get(name)), max, required)
    }

    fn text(&mut self, name: &'static str, max: usize) -> String {
        self.limit(name, text(self.input.get(name)), max, true)
    }

    fn limit(&mut self, name: &'static str, v: String, max: usize, required: bool) -> String {
        if required && v.is_empty() {
            self.errors.insert(name, FieldError::Required);
        } else if v.chars().count() > max {
            self.errors.insert(name, FieldError::TooLong { max });
        }
        v
    }

    /// An address, normalised (see [`email_address`]); what was typed
    /// when it is refused, to show it again.
    fn email(&mut self, name: &'static str) -> String {
        let typed = self.input.get(name).trim();
        if typed.is_empty() {
            self.errors.insert(name, FieldError::Required);
        } else if typed.len() > MAX_EMAIL {
            self.errors.insert(name, FieldError::TooLong { max: MAX_EMAIL });
        } else if let Some(address) = email_address(typed) {
            return address;
        } else {
            self.errors.insert(name, FieldError::Email);
        }
        typed.to_owned()
    }

    fn consent(&mut self, name: &'static str) {
        if !self.input.checked(name) {
            self.errors.insert(name, FieldError::Consent);
        }
    }

    fn finish<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.errors.is_empty() { Ok(value) } else { Err(self.errors) }
    }
}

/// The address as Casefile stores and sends it, or `None` when it is not
/// one the mailer can send to: a plain local part (no spaces, quotes or
/// invisible characters) and a host name (no address literal such as
/// `[127.0.0.1]`), accepted by the mail library's parser. Lowercased, the
/// domain in its ASCII form (IDNA), so `a@bücher.example` and
/// `a@xn--bcher-kva.example` are one address.
pub fn email_address(s: &str) -> Option<String> {
    let (local, domain) = s.trim().rsplit_once('@')?;
    let local = local.to_lowercase();
    let bad = |c: char| c.is_whitespace() || c.is_control() || is_invisible(c) || "\"<>,;\\@[]()".contains(c);
    if local.is_empty() || local.len() > 64 || local.contains(bad) {
        return None;
    }
    // STD3 rules: letters, digits and hyphens only, so no literal and no
    // stray symbol gets through; IDNA maps case and full-width forms.
    let domain = idna::domain_to_ascii_strict(domain).ok()?;
    let labels: Vec<&str> = domain.split('.').collect();
    let top = labels.last()?;
    if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) || top.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let address = format!("{local}@{domain}");
    address.parse::<lettre::Address>().ok().map(|_| address)
}

/// A newsletter sign-up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscribe {
    /// Optional name.
    pub name: String,
    /// Lowercased address.
    pub email: String,
}

impl Subscribe {
    /// Validates a sign-up form.
    pub fn validate(input: &Input) -> Result<Subscribe, FieldErrors> {
        let mut c = Check::new(input);
        let name = c.line("name", MAX_NAME, false);
        let email = c.email("email");
        c.consent("consent");
        c.finish(Subscribe { name, email })
    }
}

/// A message through the contact form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    /// Name.
    pub name: String,
    /// Lowercased address.
    pub email: String,
    /// Subject.
    pub subject: String,
    /// The message.
    pub message: String,
}

impl Contact {
    /// Validates a contact form.
    pub fn validate(input: &Input) -> Result<Contact, FieldErrors> {
        let mut c = Check::new(input);
        let name = c.line("name", MAX_NAME, true);
        let email = c.email("email");
        let subject = c.line("subject", MAX_SUBJECT, true);
        let message = c.text("message", MAX_MESSAGE);
        c.finish(Contact { name, email, subject, message })
    }
}

/// A petition signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sign {
    /// Name.
    pub name: String,
    /// Lowercased address.
    pub email: String,
    /// Country, as typed.
    pub country: String,
    /// Whether name and country may appear in the public list.
    pub show_name: bool,
}

impl Sign {
    /// Validates a signature form.
    pub fn validate(input: &Input) -> Result<Sign, FieldErrors> {
        let mut c = Check::new(input);
        let name = c.line("name", MAX_NAME, true);
        let email = c.email("email");
        let country = c.line("country", MAX_COUNTRY, true);
        c.consent("consent");
        c.finish(Sign { name, email, country, show_name: input.checked("show_name") })
    }
}

/// A request to see one's data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataRequest {
    /// Lowercased address.
    pub email: String,
}

impl DataRequest {
    /// Validates the "manage my data" form.
    pub fn validate(input: &Input) -> Result<DataRequest, FieldErrors> {
        let mut c = Check::new(input);
        let email = c.email("email");
        c.finish(DataRequest { email })
    }
}

/// The shortened IP address kept as evidence: IPv4 without its last
/// octet, IPv6 with only its first 48 bits (the network, not the host).
pub fn shorten_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.0", o[0], o[1], o[2])
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => shorten_ip(IpAddr::V4(v4)),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}::", s[0], s[1], s[2])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(pairs: &[(&str, &str)]) -> Input {
        Input(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    #[test]
    fn bodies_decode_and_the_first_value_wins() {
        let i = Input::parse(b"email=A%40b.org&name=J%C3%B6rg+X&email=second").unwrap();
        assert_eq!(i.get("email"), "A@b.org");
        assert_eq!(i.get("name"), "Jörg X");
        assert!(Input::parse("a=1&".repeat(40).as_bytes()).is_none(), "too many fields");
        // Invalid UTF-8 does not panic; it is replaced.
        assert!(Input::parse(b"name=%FF%FE").unwrap().get("name").contains('\u{FFFD}'));
    }

    #[test]
    fn emails_are_checked_and_lowercased() {
        for good in ["a@example.org", "first.last+tag@sub.example.de", "x_y@ex-ample.co.uk"] {
            assert_eq!(email_address(good).as_deref(), Some(good));
        }
        for bad in [
            "",
            "plain",
            "a@b",
            "@example.org",
            "a@.org",
            "a b@example.org",
            "a@example.org\r\nBcc: x@evil.org",
            "\"a\"@example.org",
            "a@example.org>",
            "a,b@example.org",
            // Address literals and numbers: the mailer cannot send there.
            "name@[127.0.0.1]",
            "name@[IPv6:::1]",
            "name@127.0.0.1",
            // Invisible characters hide what an address really is.
            "a\u{200B}b@example.org",
            "a@exa\u{202E}mple.org",
            "a@ex_ample.org",
        ] {
            assert_eq!(email_address(bad), None, "{bad:?}");
        }
        // One address whichever way its domain is written.
        assert_eq!(email_address("Jörg@Bücher.Example").as_deref(), Some("jörg@xn--bcher-kva.example"));
        assert_eq!(email_address("jörg@xn--bcher-kva.example").as_deref(), Some("jörg@xn--bcher-kva.example"));
        let s = Subscribe::validate(&input(&[("email", " Alice@Example.ORG "), ("consent", "yes")])).unwrap();
        assert_eq!(s.email, "alice@example.org");
    }

    #[test]
    fn consent_counts_only_with_the_checkbox_value() {
        for not_consent in ["no", "0", "false", "on", "YES", " "] {
            let e = Subscribe::validate(&input(&[("email", "a@b.org"), ("consent", not_consent)])).unwrap_err();
            assert_eq!(e["consent"], FieldError::Consent, "{not_consent:?}");
        }
        assert!(Subscribe::validate(&input(&[("email", "a@b.org"), ("consent", "yes")])).is_ok());
    }

    #[test]
    fn names_and_subjects_lose_invisible_characters() {
        let c = Contact::validate(&input(&[
            ("name", "Eve\u{202E}gpj.exe\u{200B}"),
            ("email", "eve@example.org"),
            ("subject", "Hi\u{2066}there\u{FEFF}"),
            ("message", "x"),
        ]))
        .unwrap();
        assert_eq!((c.name.as_str(), c.subject.as_str()), ("Evegpj.exe", "Hithere"));
    }

    #[test]
    fn each_field_gets_its_own_error() {
        let e = Contact::validate(&input(&[("email", "nope"), ("message", &"x".repeat(MAX_MESSAGE + 1))])).unwrap_err();
        assert_eq!(e["name"], FieldError::Required);
        assert_eq!(e["email"], FieldError::Email);
        assert_eq!(e["subject"], FieldError::Required);
        assert_eq!(e["message"], FieldError::TooLong { max: MAX_MESSAGE });
        let e = Sign::validate(&input(&[("name", "A"), ("email", "a@b.org"), ("country", "DE")])).unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!(e["consent"], FieldError::Consent);
        let e = Subscribe::validate(&input(&[("email", &format!("{}@b.org", "a".repeat(300)))])).unwrap_err();
        assert_eq!(e["email"], FieldError::TooLong { max: MAX_EMAIL });
    }

    #[test]
    fn line_fields_cannot_carry_header_breaks() {
        let c = Contact::validate(&input(&[
            ("name", "Eve\r\nBcc: victim@example.org"),
            ("email", "eve@example.org"),
            ("subject", "Hi\nthere\0"),
            ("message", "line one\r\nline two\u{7}"),
        ]))
        .unwrap();
        assert!(!c.name.contains(['\r', '\n']) && !c.subject.contains(['\n', '\0']));
        assert_eq!(c.message, "line one\nline two");
        assert_eq!(c.name, "Eve  Bcc: victim@example.org");
    }

    #[test]
    fn ips_are_shortened() {
        assert_eq!(shorten_ip("203.0.113.77".parse().unwrap()), "203.0.113.0");
        assert_eq!(shorten_ip("2001:db8:abcd:12::1".parse().unwrap()), "2001:db8:abcd::");
        assert_eq!(shorten_ip("::ffff:10.1.2.3".parse().unwrap()), "10.1.2.0");
    }

    #[test]
    fn the_echo_never_returns_the_token_or_the_honeypot() {
        let i = input(&[("token", "t"), (HONEYPOT, "spam"), ("name", "Ann")]);
        assert!(i.is_bot());
        assert_eq!(i.echo().into_iter().collect::<Vec<_>>(), vec![("name".to_owned(), "Ann".to_owned())]);
    }
}
