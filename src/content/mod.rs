//! The content model: the types a site is made of, shared by the bundle
//! reader (`bundle`), the database (`store`) and the renderer (`site`).
//!
//! This module does no I/O and knows nothing of SQL or HTML. Per-language
//! text sits in a `BTreeMap<Lang, …>` on every item, so a missing
//! translation is a visible hole, not a silent fallback.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

mod item;
mod slug;
mod validate;

pub use item::{Item, ItemKind, ItemLink, ItemRef, Keyed};
pub use slug::slug;
pub use validate::{Invalid, check_key};

/// A language the site is written in. The engine ships UI strings for these.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// German.
    De,
}

impl Lang {
    /// All languages the engine knows, in display order.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::De];

    /// The ISO 639-1 code.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }

    /// The language's name in itself, for the language switch.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::De => "Deutsch",
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "en" => Ok(Lang::En),
            "de" => Ok(Lang::De),
            other => Err(format!("unknown language `{other}` (expected `en` or `de`)")),
        }
    }
}

/// Per-language values of one item.
pub type Localized<T> = BTreeMap<Lang, T>;

/// Whether an item is visible to the public.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Work in progress, never shown publicly.
    Draft,
    /// Shown from its publication time on.
    #[default]
    Published,
}

impl Status {
    /// The database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Published => "published",
        }
    }

    /// Parses the database spelling.
    pub fn parse(s: &str) -> Status {
        if s == "published" { Status::Published } else { Status::Draft }
    }
}

/// Status, publication and change times shared by every item (unix seconds, UTC).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// Draft or published.
    #[serde(default)]
    pub status: Status,
    /// When the item becomes public; `None` means "as soon as it is published".
    /// In a bundle: an RFC 3339 time such as `"2026-12-01T09:00:00Z"`.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "rfc3339_opt")]
    pub published_at: Option<i64>,
    /// When the item was created.
    #[serde(skip)]
    pub created_at: i64,
    /// When the item was last changed. Not part of its stored JSON (the
    /// row has it); read from a bundle's `updated` (RFC 3339), which an
    /// export writes so that a copy shows the same dates.
    #[serde(default, rename = "updated", skip_serializing, deserialize_with = "rfc3339_or_zero")]
    pub updated_at: i64,
    /// For an item other sites of the install show too: whether its place
    /// on each site names the others ("also on …"). The editor's choice.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub also_on: bool,
}

impl Meta {
    /// Whether the public may see the item at `now`.
    pub fn is_public(&self, now: i64) -> bool {
        self.status == Status::Published && self.published_at.is_none_or(|t| t <= now)
    }
}

/// A date known to the day, the month or only the year.
///
/// The precision is part of the value: "1984-08" is August 1984, never
/// August 1, 1984. Sources are cited with the precision they give.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartialDate {
    /// The year.
    pub year: i32,
    /// The month (1–12), if known.
    pub month: Option<u8>,
    /// The day of the month, if known (only with a month).
    pub day: Option<u8>,
}

impl PartialDate {
    /// The first day this date can mean, as `(year, month, day)`, for sorting and feeds.
    pub fn first_day(self) -> (i32, u8, u8) {
        (self.year, self.month.unwrap_or(1), self.day.unwrap_or(1))
    }
}

impl FromStr for PartialDate {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("invalid date `{s}` (expected YYYY, YYYY-MM or YYYY-MM-DD)");
        let mut parts = s.split('-');
        let year_str = parts.next().ok_or_else(bad)?;
        if year_str.len() != 4 {
            return Err(bad());
        }
        let year: i32 = year_str.parse().map_err(|_| bad())?;
        let month = match parts.next() {
            Some(m) if m.len() == 2 => Some(m.parse::<u8>().map_err(|_| bad())?),
            Some(_) => return Err(bad()),
            None => None,
        };
        let day = match parts.next() {
            Some(d) if d.len() == 2 => Some(d.parse::<u8>().map_err(|_| bad())?),
            Some(_) => return Err(bad()),
            None => None,
        };
        if parts.next().is_some() {
            return Err(bad());
        }
        if let Some(m) = month
            && !(1..=12).contains(&m)
        {
            return Err(bad());
        }
        if let (Some(m), Some(d)) = (month, day)
            && jiff::civil::Date::new(year as i16, m as i8, d as i8).is_err()
        {
            return Err(bad());
        }
        Ok(PartialDate { year, month, day })
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.year)?;
        if let Some(m) = self.month {
            write!(f, "-{m:02}")?;
        }
        if let Some(d) = self.day {
            write!(f, "-{d:02}")?;
        }
        Ok(())
    }
}

impl Serialize for PartialDate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PartialDate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Parses an RFC 3339 time (`2026-12-01T09:00:00Z`, `…+01:00`) to unix seconds.
pub fn parse_rfc3339(s: &str) -> Result<i64, String> {
    s.parse::<jiff::Timestamp>()
        .map(|t| t.as_second())
        .map_err(|_| format!("invalid time `{s}` (expected RFC 3339, e.g. 2026-12-01T09:00:00Z)"))
}

fn rfc3339_or_zero<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(rfc3339_opt::deserialize(d)?.unwrap_or(0))
}

/// An optional time (serde `with`): written as unix seconds, read from
/// RFC 3339 text or unix seconds.
mod rfc3339_opt {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(t) => s.serialize_i64(*t),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Unix(i64),
            Text(String),
        }
        match Option::<Raw>::deserialize(d)? {
            None => Ok(None),
            Some(Raw::Unix(t)) => Ok(Some(t)),
            Some(Raw::Text(s)) => super::parse_rfc3339(&s).map(Some).map_err(serde::de::Error::custom),
        }
    }
}

/// Days in a month of the proleptic Gregorian calendar.
pub fn days_in_month(year: i32, month: u8) -> u8 {
    let date = jiff::civil::Date::new(year as i16, month as i8, 1);
    date.map_or(31, |d| d.days_in_month() as u8)
}

/// The whole public content of one site, as loaded from the store.
///
/// The renderer works from this snapshot only; it is replaced as a whole
/// when content changes, so a request never sees half an edit.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Site {
    /// The site's stable key (`jens-soering`).
    pub key: String,
    /// The languages, the default one first.
    pub languages: Vec<Lang>,
    /// Per-language name, tagline and footer.
    pub text: Localized<SiteText>,
    /// The person the campaign is about, for structured data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Subject>,
    /// Who runs the site.
    #[serde(default)]
    pub operator: Operator,
    /// The public contact address and profiles elsewhere.
    #[serde(default)]
    pub contact: ContactDetails,
    /// Every page, in menu order.
    pub pages: Vec<Page>,
    /// News posts, newest first.
    pub news: Vec<NewsPost>,
    /// Timeline events, oldest first.
    pub timeline: Vec<TimelineEvent>,
    /// Press reports, newest first; undated last.
    pub press: Vec<PressReport>,
    /// People with their statements, in page order.
    pub people: Vec<Person>,
    /// Books, newest first.
    pub books: Vec<Book>,
    /// Evidence items, in page order.
    pub evidence: Vec<EvidenceItem>,
    /// Documents.
    pub documents: Vec<Document>,
    /// Videos and audio.
    pub media: Vec<MediaItem>,
    /// Petitions visitors can sign.
    #[serde(default)]
    pub petitions: Vec<Petition>,
    /// Citable sources.
    pub sources: Vec<Source>,
    /// Old paths that answer with a redirect.
    #[serde(default)]
    pub redirects: Vec<Redirect>,
    /// Sent newsletters the editors put in the public archive, newest
    /// first (stored with the newsletters, not as items).
    #[serde(skip)]
    pub newsletters: Vec<ArchivedNewsletter>,
    /// Items another site stores and this one shows too (a bundle's
    /// `shared.toml`); they are in the lists above as well, so the site
    /// checks and renders as a whole, but are stored once, by their site.
    #[serde(skip)]
    pub included: Option<Included>,
    /// The install's other sites that show some of this site's items whose
    /// editors ask for "also on …" (`Meta::also_on`); filled by the store.
    #[serde(skip)]
    pub elsewhere: Vec<Elsewhere>,
}

/// Another site that shows items this one shows, for their "also on …".
#[derive(Clone, Debug, Default)]
pub struct Elsewhere {
    /// That site's settings and pages only: enough to name it and to
    /// address the page where an item has its place.
    pub site: Site,
    /// Where it is served, once the server that knows it has said so
    /// (nothing links to a site without an address).
    pub url: Option<String>,
    /// The items both show that ask for "also on …".
    pub items: Vec<(ItemKind, String)>,
}

/// The kinds of item one site can show from another: the shared facts.
pub const SHAREABLE: [ItemKind; 4] = [ItemKind::Timeline, ItemKind::Press, ItemKind::Document, ItemKind::Source];

/// The items a site shows that another site stores.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Included {
    /// The key of the site that stores them.
    pub from: String,
    /// Their kinds and keys.
    pub items: Vec<(ItemKind, String)>,
}

/// A sent newsletter in the public archive.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ArchivedNewsletter {
    /// Its number, in its address.
    pub id: i64,
    /// The language of its subscribers.
    pub lang: Lang,
    /// Subject line.
    pub subject: String,
    /// Markdown.
    pub body: String,
    /// When it was sent (unix seconds).
    pub sent_at: i64,
}

/// An old path that answers with a redirect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Redirect {
    /// The path on this site (`/old-page`); the redirect's key.
    #[serde(default)]
    pub from: String,
    /// A path on this site or an http(s) address.
    pub to: String,
    /// 301, 302, 307 or 308.
    #[serde(default = "permanent")]
    pub status: u16,
}

fn permanent() -> u16 {
    301
}

/// A site's settings: what `site.toml` holds, stored as one item.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteSettings {
    /// The languages, the default one first.
    pub languages: Vec<Lang>,
    /// Per-language name, tagline and footer.
    pub text: Localized<SiteText>,
    /// The person the campaign is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Subject>,
    /// Who runs the site: the controller named on the privacy page.
    #[serde(default)]
    pub operator: Operator,
    /// The public contact address and profiles elsewhere, in the footer.
    #[serde(default, skip_serializing_if = "ContactDetails::is_empty")]
    pub contact: ContactDetails,
}

/// How the campaign can be reached, shown in every page's footer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactDetails {
    /// A public e-mail address (the contact form reaches `contact_to`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub email: String,
    /// The campaign's profiles on other sites, linked (never embedded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub social: Vec<SocialLink>,
}

impl ContactDetails {
    /// Whether there is nothing to show.
    pub fn is_empty(&self) -> bool {
        self.email.is_empty() && self.social.is_empty()
    }
}

/// A profile elsewhere: what the link says, and its https address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SocialLink {
    /// "Mastodon", "Facebook", …
    pub label: String,
    /// `https://…`.
    pub url: String,
}

/// The operator of a site (the controller in the sense of the GDPR).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operator {
    /// A person's or an association's name.
    #[serde(default)]
    pub name: String,
    /// A postal address, where the operator gives one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub address: String,
    /// An e-mail address for privacy requests.
    #[serde(default)]
    pub email: String,
}

impl Site {
    /// The default language (the one served without a path prefix).
    pub fn default_lang(&self) -> Lang {
        self.languages.first().copied().unwrap_or(Lang::En)
    }

    /// The source with this key.
    pub fn source(&self, key: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.key == key)
    }

    /// The page with this key.
    pub fn page(&self, key: &str) -> Option<&Page> {
        self.pages.iter().find(|p| p.key == key)
    }

    /// The settings part of the site.
    pub fn settings(&self) -> SiteSettings {
        SiteSettings {
            languages: self.languages.clone(),
            text: self.text.clone(),
            subject: self.subject.clone(),
            operator: self.operator.clone(),
            contact: self.contact.clone(),
        }
    }

    /// Whether the item is one another site stores and this one shows.
    pub fn shows_from_elsewhere(&self, kind: ItemKind, key: &str) -> bool {
        self.included.as_ref().is_some_and(|i| i.items.iter().any(|(k, x)| *k == kind && x == key))
    }

    /// Replaces the settings part of the site.
    pub fn set_settings(&mut self, s: SiteSettings) {
        self.languages = s.languages;
        self.text = s.text;
        self.subject = s.subject;
        self.operator = s.operator;
        self.contact = s.contact;
    }

    /// Drops everything the public may not see at `now`.
    pub fn retain_public(&mut self, now: i64) {
        self.retain_items(|i| i.is_public(now));
        for p in &mut self.people {
            p.statements.retain(|s| s.meta.is_public(now));
        }
        self.drop_dangling_references();
    }

    /// The earliest future publication time of any item: when the public
    /// snapshot must be rebuilt.
    pub fn next_publication(&self, now: i64) -> Option<i64> {
        self.items().filter_map(|i| i.next_publication(now)).min()
    }

    /// After hidden items are gone, nothing may point at them: references
    /// to them are removed, and sources no public item cites are dropped
    /// (a page, a feed or the API must not reveal that a draft exists).
    fn drop_dangling_references(&mut self) {
        use std::collections::HashSet;
        let present: HashSet<(ItemKind, String)> = self.items().map(|i| (i.kind(), i.key().to_owned())).collect();
        let has = |kind: ItemKind, key: &String| present.contains(&(kind, key.clone()));
        for e in &mut self.timeline {
            e.press.retain(|k| has(ItemKind::Press, k));
            e.documents.retain(|k| has(ItemKind::Document, k));
            e.media.retain(|k| has(ItemKind::Media, k));
        }
        for p in &mut self.pages {
            if p.petition.as_ref().is_some_and(|k| !has(ItemKind::Petition, k)) {
                p.petition = None;
            }
            if p.parent.as_ref().is_some_and(|k| !has(ItemKind::Page, k)) {
                p.parent = None;
            }
            p.media.retain(|k| has(ItemKind::Media, k));
        }
        for n in &mut self.news {
            n.media.retain(|k| has(ItemKind::Media, k));
        }
        for s in &mut self.sources {
            if s.press.as_ref().is_some_and(|k| !has(ItemKind::Press, k)) {
                s.press = None;
            }
            if s.document.as_ref().is_some_and(|k| !has(ItemKind::Document, k)) {
                s.document = None;
            }
        }
        let cited: HashSet<String> = self
            .items()
            .filter(|i| i.kind() != ItemKind::Source)
            .flat_map(|i| i.links())
            .filter(|(kind, _)| *kind == ItemKind::Source)
            .map(|(_, key)| key.to_owned())
            .collect();
        self.sources.retain(|s| cited.contains(&s.key));
    }

    /// Puts every list in the order the site shows it.
    pub fn sort(&mut self) {
        self.pages.sort_by(|a, b| {
            (a.menu_position.is_none(), a.menu_position, &a.key).cmp(&(
                b.menu_position.is_none(),
                b.menu_position,
                &b.key,
            ))
        });
        self.news.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.key.cmp(&b.key)));
        self.timeline.sort_by(|a, b| a.date.cmp(&b.date).then_with(|| a.key.cmp(&b.key)));
        self.press.sort_by(|a, b| {
            (b.date.is_some(), b.date).cmp(&(a.date.is_some(), a.date)).then_with(|| a.key.cmp(&b.key))
        });
        self.people.sort_by(|a, b| (a.position, &a.key).cmp(&(b.position, &b.key)));
        self.books.sort_by(|a, b| b.year.cmp(&a.year).then_with(|| a.key.cmp(&b.key)));
        self.evidence.sort_by(|a, b| (a.position, &a.key).cmp(&(b.position, &b.key)));
        self.documents.sort_by(|a, b| a.key.cmp(&b.key));
        self.media.sort_by(|a, b| a.key.cmp(&b.key));
        self.petitions.sort_by(|a, b| a.key.cmp(&b.key));
        self.sources.sort_by(|a, b| a.key.cmp(&b.key));
    }

    /// The first page with this template (the news page, the search page …).
    pub fn page_with(&self, template: Template) -> Option<&Page> {
        self.pages.iter().find(|p| p.template == template)
    }

    /// The petition with this key.
    pub fn petition(&self, key: &str) -> Option<&Petition> {
        self.petitions.iter().find(|p| p.key == key)
    }
}

/// Site-wide text in one language.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteText {
    /// The site's name ("Friends of Jens Söring").
    pub name: String,
    /// One line under the name.
    pub tagline: String,
    /// The footer line.
    pub footer: String,
}

/// The person a campaign is about (schema.org `Person`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    /// Full name.
    pub name: String,
    /// Date of birth, as precise as the sources give it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<PartialDate>,
    /// Place of birth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_place: Option<String>,
    /// Country of nationality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nationality: Option<String>,
}

/// A page: its template decides what list (if any) it shows below its body.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Page {
    /// Stable key (`case`).
    #[serde(default, skip_deserializing)]
    pub key: String,
    /// What the page shows below its body.
    pub template: Template,
    /// Position in the main menu; `None` keeps the page out of it.
    #[serde(default, rename = "menu", skip_serializing_if = "Option::is_none")]
    pub menu_position: Option<i64>,
    /// Keys of the sources the body cites.
    #[serde(default)]
    pub sources: Vec<String>,
    /// The petition shown (with its signing form) below the body, by key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub petition: Option<String>,
    /// An image beside the item (`pages/<image>`), its share card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The page this one sits under (by key): named above its title, and
    /// this page listed below the parent's body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Videos and audio shown below the body, click-to-load (keys).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<String>,
    /// Status and times.
    #[serde(flatten)]
    pub meta: Meta,
    /// Per-language text.
    #[serde(flatten)]
    pub text: Localized<PageText>,
}

/// The layouts a page can have: what it shows below its body. The
/// renderer maps each to its view in one `match` (`site::views`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Template {
    /// The home page: supporters' quotes, the latest news.
    Home,
    /// Just the page's own text.
    #[default]
    Page,
    /// Every timeline event, by year.
    Timeline,
    /// Every evidence item.
    Evidence,
    /// People and their statements.
    Voices,
    /// The press archive, filterable by year and kind.
    Press,
    /// Films and videos.
    Film,
    /// Every book.
    Books,
    /// The news list, in pages; the news posts live under this page.
    News,
    /// The search form and results.
    Search,
    /// The newsletter form.
    Newsletter,
    /// The contact form.
    Contact,
    /// "Manage my data".
    MyData,
    /// The privacy policy, headed by the operator's details from the settings.
    Privacy,
}

impl Template {
    /// The template file that renders it.
    pub fn file(self) -> &'static str {
        match self {
            Template::Home => "home.html",
            Template::Page => "page.html",
            Template::Timeline => "timeline.html",
            Template::Evidence => "evidence.html",
            Template::Voices => "voices.html",
            Template::Press => "press.html",
            Template::Film => "film.html",
            Template::Books => "books.html",
            Template::News => "news.html",
            Template::Search => "search.html",
            Template::Newsletter => "newsletter.html",
            Template::Contact => "contact.html",
            Template::MyData => "my_data.html",
            Template::Privacy => "privacy.html",
        }
    }
}

/// A page's text in one language.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PageText {
    /// The path segment (`case`, `fall`); empty for the home page.
    pub slug: String,
    /// The title.
    pub title: String,
    /// One sentence, also the meta description.
    pub summary: String,
    /// Markdown.
    #[serde(default)]
    pub body: String,
    /// Former slugs: their addresses redirect (301) to the current one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub old_slugs: Vec<String>,
}

/// A dated news post.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct NewsPost {
    /// Stable key.
    #[serde(default, skip_deserializing)]
    pub key: String,
    /// The date of the news.
    pub date: Option<PartialDate>,
    /// An image beside the item (`news/<image>`), its share card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Citations.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Topics, shown with the post (categories and tags of an imported blog).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Videos and audio shown below the body, click-to-load (keys).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<String>,
    /// Status and times.
    #[serde(flatten)]
    pub meta: Meta,
    /// Per-language text (slug, title, summary, body).
    #[serde(flatten)]
    pub text: Localized<PageText>,
}

/// An event on the timeline.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TimelineEvent {
    /// Stable key, also the anchor on the timeline page.
    #[serde(default, skip_deserializing)]
    pub key: String,
    /// When it happened.
    pub date: Option<PartialDate>,
    /// The end of a range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<PartialDate>,
    /// Citations.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Related press reports (keys).
    #[serde(default)]
    pub press: Vec<String>,
    /// Related documents (keys).
    #[serde(default)]
    pub documents: Vec<String>,
    /// Related videos and audio (keys).
    #[serde(default)]
    pub media: Vec<String>,
    /// Status and times.
    #[serde(flatten)]
    pub meta: Meta,
    /// Per-language title and body.
    #[serde(flatten)]
    pub text: Localized<TitledText>,
}

/// A title and a Markdown body.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TitledText {
    /// The title.
    pub title: String,
    /// Markdown.
    #[serde(default)]
    pub body: String,
}

/// The kinds of press report.
pub const PRESS_KINDS: [&str; 7] = ["article", "op-ed", "letter", "radio", "podcast", "tv", "film"];

/// A media report about the case.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PressReport {
    /// Stable key.
    #[serde(default, skip_deserializing)]
    pub key: String,
    /// The report's own title, untranslated; `None` where the sources give none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Newspaper, magazine, broadcaster or podcast.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outlet: Option<String>,
    /// Authors in byline order.
    #[serde(default)]
    pub authors: Vec<String>,
    /// Publication date, as precise as known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<PartialDate>,
    /// One of [`PRESS_KINDS`].
    pub kind: String,
    /// The report's language, where the sources say (or its quote shows) it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Lang>,
    /// Address, where a source gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A short exact excerpt in the report's language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    /// Citations.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Status and times.
    #[serde(flatten)]
    pub meta: Meta,
    /// Per-language description.
    #[serde(flatten)]
    pub text: Localized<PressText>,
}

/// A press report's text in one language.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PressText {
    /// A description used where the report's own title is unknown.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// What the report says, in the site's words.
    pub summary: String,
    /// Markdown (optional).
    #[serde(default)]
    pub body: String,
}

/// Someone who spoke about the case.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Person {
    /// Stable key.
    #[serde(default, skip_deserializing)]
    pub key: String,
    /// Full name.
    pub name: String,
    /// Order on the voices page.
    #[serde(default)]
    pub position: i64,
    /// Citations for the introduction.
    #[serde(default)]
    pub sources: Vec<String>,
    /// What they said, in order.
    #[serde(default)]
    pub statements: Vec<Statement>,
    /// Status and times.
    #[serde(flatten)]
    pub meta: Meta,
    /// Per-language role and introduction.
    #[serde(flatten)]
    pub text: Localized<PersonText>,
}

/// A person's role and introduction in one language.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PersonText {
    /// One line: "Attorney", "Original lead investigator".
    pub role: String,
    /// Markdown.
    #[serde(default)]
    pub body: String,
}

/// A statement: exact words where a source quotes them, or a summary in the site's words.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Statement {
    /// Unique within the site.
    pub key: String,
    /// When it was said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<PartialDate>,
    /// The exact words, only where a source gives them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    /// The language of the quote.
    #[serde(default = "default_lang")]
    pub language: Lang,
    /// Citations.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Status and times.
    #[serde(flatten)]
    pub meta: Meta,
    /// Per-language summary and translation of the quote.
    #[serde(flatten)]
    pub text: Localized<StatementText>,
}

fn default_lang() -> Lang {
    Lang::En
}

/// A statement's text in one language.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct StatementText {
    /// What was said or done, in the site's words.
    #[serde(default)]
    pub summary: String,
    /// A translation of the quote (the site's own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub translation: Option<String>,
}

/// A book.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Book {
    /// Stable key.
    #[serde(default, skip_deserializing)]
    pub key: String,
    /// The title as published.
    pub title: String,
    /// Year of publication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    /// Publisher.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// ISBN as printed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isbn: Option<String>,
    /// The book's language.
    #[serde(default = "default_lang")]
    pub language: Lang,
    /// Authors, the main author first.
    #[serde(default)]
    pub authors: Vec<String>,
    /// Others who contributed (foreword, translation).
    #[serde(default)]
    pub contributors: Vec<Contributor>,
    /// Where to buy it.
    #[serde(default)]
    pub links: Vec<Link>,
    /// Path of a cover image inside the bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover: Option<String>,
    /// Citations.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Status and times.
    #[serde(flatten)]
    pub meta: Meta,
    /// Per-language summary and description.
    #[serde(flatten)]
    pub text: Localized<SummaryText>,
}

/// Someone who contributed to a book, and how.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Contributor {
    /// Name.
    pub name: String,
    /// foreword, translator, editor, …
    pub role: String,
}

/// A labelled link.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Link {
    /// What the visitor reads.
    pub label: String,
    /// The address.
    pub url: String,
}

/// A one-sentence summary and a Markdown body.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SummaryText {
    /// One sentence.
    pub summary: String,
    /// Markdown.
    #[serde(default)]
    pub body: String,
}

/// A piece of evidence and what is contested about it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct EvidenceItem {
    /// Stable key, also the anchor on the evidence page.
    #[serde(default, skip_deserializing)]
    pub key: String,
    /// Order on the page.
    #[serde(default)]
    pub position: i64,
    /// Citations.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Status and times.
    #[serde(flatten)]
    pub meta: Meta,
    /// Per-language text.
    #[serde(flatten)]
    pub text: Localized<EvidenceText>,
}

/// An evidence item's text in one language.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct EvidenceText {
    /// Title.
    pub title: String,
    /// One sentence.
    pub summary: String,
    /// What is disputed.
    pub contested: String,
    /// Markdown.
    #[serde(default)]
    pub body: String,
}

/// A document such as a PDF.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Document {
    /// Stable key.
    #[serde(default, skip_deserializing)]
    pub key: String,
    /// The file's name: beside the item in a bundle (`documents/<file>`),
    /// under `<data>/files/` once imported, served at `/files/<file>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The file's media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The text of the file, for search (not part of the item's JSON).
    #[serde(skip)]
    pub extracted_text: String,
    /// The document's date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<PartialDate>,
    /// Citations.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Status and times.
    #[serde(flatten)]
    pub meta: Meta,
    /// Per-language title and description.
    #[serde(flatten)]
    pub text: Localized<DescribedText>,
}

/// A title and a plain description.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct DescribedText {
    /// Title.
    pub title: String,
    /// Plain text.
    pub description: String,
}

/// A video or an audio recording hosted elsewhere.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct MediaItem {
    /// Stable key.
    #[serde(default, skip_deserializing)]
    pub key: String,
    /// `video` or `audio`.
    pub kind: String,
    /// youtube, vimeo, podcast, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The player address, loaded only after the visitor clicks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embed_url: Option<String>,
    /// The provider's page for the item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_url: Option<String>,
    /// The recording's date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<PartialDate>,
    /// Citations.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Status and times.
    #[serde(flatten)]
    pub meta: Meta,
    /// Per-language title and description.
    #[serde(flatten)]
    pub text: Localized<DescribedText>,
}

/// A petition visitors sign with name, email and country; a signature
/// counts once its signer confirms it by email.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Petition {
    /// Stable key.
    #[serde(default, skip_deserializing)]
    pub key: String,
    /// Whether it takes signatures.
    #[serde(default = "yes")]
    pub open: bool,
    /// The number of signatures it aims for, if it names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goal: Option<i64>,
    /// Citations for the text.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Status and times.
    #[serde(flatten)]
    pub meta: Meta,
    /// Per-language title, summary and the text signers put their name to.
    #[serde(flatten)]
    pub text: Localized<PetitionText>,
}

fn yes() -> bool {
    true
}

/// A petition's text in one language.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PetitionText {
    /// The title.
    pub title: String,
    /// One sentence.
    pub summary: String,
    /// Markdown: what the signers declare.
    #[serde(default)]
    pub body: String,
}

/// A citable source.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Source {
    /// Stable id used in `sources = [...]`.
    #[serde(rename = "id")]
    pub key: String,
    /// seed, url, press or document.
    pub kind: String,
    /// Address, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The press report this source is (key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub press: Option<String>,
    /// The document this source is (key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
    /// The citation line per language.
    #[serde(flatten)]
    pub citation: Localized<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_dates_parse_with_their_precision() {
        let d: PartialDate = "1984-08".parse().unwrap();
        assert_eq!((d.year, d.month, d.day), (1984, Some(8), None));
        assert_eq!(d.to_string(), "1984-08");
        assert_eq!("1985-03-30".parse::<PartialDate>().unwrap().day, Some(30));
        assert_eq!("1986".parse::<PartialDate>().unwrap().month, None);
    }

    #[test]
    fn impossible_dates_are_rejected() {
        for bad in ["1985-02-30", "1985-13", "85-03-30", "1985-3-30", "1985-03-30-01", "", "2016-07-26..29"] {
            assert!(bad.parse::<PartialDate>().is_err(), "{bad} should be rejected");
        }
        assert!("2016-02-29".parse::<PartialDate>().is_ok());
        assert!("2015-02-29".parse::<PartialDate>().is_err());
    }

    #[test]
    fn less_precise_dates_sort_before_more_precise_ones_of_the_same_period() {
        let mut v: Vec<PartialDate> =
            ["1985-03-30", "1985", "1984-08", "1985-03"].iter().map(|s| s.parse().unwrap()).collect();
        v.sort();
        let s: Vec<String> = v.iter().map(ToString::to_string).collect();
        assert_eq!(s, ["1984-08", "1985", "1985-03", "1985-03-30"]);
    }

    #[test]
    fn rfc3339_times_convert_to_unix_seconds() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_rfc3339("2019-11-25T00:00:00Z"), Ok(1_574_640_000));
        assert_eq!(parse_rfc3339("2019-11-25T01:00:00+01:00"), Ok(1_574_640_000));
        assert_eq!(parse_rfc3339("2019-11-25T00:00:00.5Z"), Ok(1_574_640_000));
        assert!(parse_rfc3339("2019-11-25").is_err());
        assert!(parse_rfc3339("2019-11-25T25:00:00Z").is_err());
    }

    #[test]
    fn the_public_snapshot_points_at_nothing_hidden() {
        let mut site = crate::bundle::parse(&crate::bundle::default_files()).unwrap();
        let hidden = site.press[0].key.clone();
        site.press[0].meta.status = Status::Draft;
        let cited_only_by_it: Vec<String> = site.press[0].sources.clone();
        site.timeline[0].press.push(hidden.clone());
        site.retain_public(0);
        assert!(site.timeline.iter().all(|e| !e.press.contains(&hidden)), "no link to the draft");
        assert!(site.sources.iter().all(|s| s.press.as_deref() != Some(hidden.as_str())));
        for key in cited_only_by_it {
            let still_cited = site.press.iter().any(|p| p.sources.contains(&key))
                || site.pages.iter().any(|p| p.sources.contains(&key))
                || site.timeline.iter().any(|p| p.sources.contains(&key))
                || site.news.iter().any(|p| p.sources.contains(&key))
                || site
                    .people
                    .iter()
                    .any(|p| p.sources.contains(&key) || p.statements.iter().any(|s| s.sources.contains(&key)))
                || site.books.iter().any(|p| p.sources.contains(&key))
                || site.evidence.iter().any(|p| p.sources.contains(&key))
                || site.documents.iter().any(|p| p.sources.contains(&key))
                || site.media.iter().any(|p| p.sources.contains(&key))
                || site.petitions.iter().any(|p| p.sources.contains(&key));
            assert_eq!(site.source(&key).is_some(), still_cited, "source {key}");
        }
    }

    #[test]
    fn scheduled_items_are_not_public_before_their_time() {
        let meta = Meta { status: Status::Published, published_at: Some(100), ..Meta::default() };
        assert!(!meta.is_public(99));
        assert!(meta.is_public(100));
        let draft = Meta { status: Status::Draft, ..Meta::default() };
        assert!(!draft.is_public(i64::MAX));
    }
}
