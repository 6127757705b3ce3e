//! One list of every item kind, and what each kind refers to.
//!
//! Everything that must treat all items alike (visibility, dangling
//! references, scheduling, validation, the store, search, the API) goes
//! through [`Site::items`], [`ItemRef`] and [`Item`] instead of naming the
//! kinds one by one: a new kind is added in the `item_kinds!` list below and
//! the compiler points at every `match` that must learn it.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::*;

/// What every stored item has: a key that is unique within its kind, and
/// (except sources and redirects) a status and publication time.
pub trait Keyed {
    /// The stable key.
    fn key(&self) -> &str;
    /// Sets the key (it is not part of an item's stored JSON).
    fn set_key(&mut self, key: String);
    /// Status and times, where the kind has them.
    fn meta(&self) -> Option<&Meta>;
    /// Status and times, for the store to stamp.
    fn meta_mut(&mut self) -> Option<&mut Meta>;
}

macro_rules! keyed {
    (meta: $($t:ty),*) => { $(impl Keyed for $t {
        fn key(&self) -> &str { &self.key }
        fn set_key(&mut self, key: String) { self.key = key; }
        fn meta(&self) -> Option<&Meta> { Some(&self.meta) }
        fn meta_mut(&mut self) -> Option<&mut Meta> { Some(&mut self.meta) }
    })* };
    // Sources and redirects are always public; a redirect's key is its path.
    (no_meta: $($t:ty => $field:ident),*) => { $(impl Keyed for $t {
        fn key(&self) -> &str { &self.$field }
        fn set_key(&mut self, key: String) { self.$field = key; }
        fn meta(&self) -> Option<&Meta> { None }
        fn meta_mut(&mut self) -> Option<&mut Meta> { None }
    })* };
}
keyed!(meta: Page, NewsPost, TimelineEvent, PressReport, Person, Book, EvidenceItem, Document, MediaItem, Petition);
keyed!(no_meta: Source => key, Redirect => from);

macro_rules! item_kinds {
    ($( $variant:ident($ty:ty): $field:ident, $name:literal, $folder:literal; )*) => {
        /// Every kind of stored content, the site's settings included.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum ItemKind {
            /// The site's name, languages, subject and operator (one per site).
            Settings,
            $( #[doc = concat!("`", $folder, "/` in a bundle.")] $variant, )*
        }

        impl ItemKind {
            /// Every kind, settings first, then in the order items are imported.
            pub const ALL: &[ItemKind] = &[ItemKind::Settings, $(ItemKind::$variant),*];

            /// The stored and API spelling (`page`, `news`, …).
            pub fn as_str(self) -> &'static str {
                match self {
                    ItemKind::Settings => "settings",
                    $( ItemKind::$variant => $name, )*
                }
            }

            /// The folder of a bundle that holds this kind.
            pub fn folder(self) -> &'static str {
                match self {
                    ItemKind::Settings => "site.toml",
                    $( ItemKind::$variant => $folder, )*
                }
            }
        }

        /// An item of any kind (the settings aside), owned: what the store writes.
        #[derive(Clone, Debug)]
        pub enum Item {
            $( #[doc = concat!("A `", $name, "` item.")] $variant($ty), )*
        }

        /// An item of any kind, borrowed from a [`Site`]. It serialises as
        /// the item itself.
        #[derive(Clone, Copy, Debug, Serialize)]
        #[serde(untagged)]
        pub enum ItemRef<'a> {
            $( #[doc = concat!("A `", $name, "` item.")] $variant(&'a $ty), )*
        }

        impl Item {
            /// Borrows it.
            pub fn as_ref(&self) -> ItemRef<'_> {
                match self { $( Item::$variant(x) => ItemRef::$variant(x), )* }
            }

            /// Status and times, for the store to stamp.
            pub fn meta_mut(&mut self) -> Option<&mut Meta> {
                match self { $( Item::$variant(x) => x.meta_mut(), )* }
            }

            /// Reads an item from its stored JSON; the key is stored beside it.
            pub fn from_json(kind: ItemKind, key: &str, json: &str) -> Result<Item, String> {
                let bad = |e: serde_json::Error| format!("{} `{key}`: {e}", kind.as_str());
                match kind {
                    ItemKind::Settings => Err("the settings are not an item".into()),
                    $( ItemKind::$variant => {
                        let mut x: $ty = serde_json::from_str(json).map_err(bad)?;
                        x.set_key(key.to_owned());
                        Ok(Item::$variant(x))
                    } )*
                }
            }
        }

        impl<'a> ItemRef<'a> {
            /// Its kind.
            pub fn kind(self) -> ItemKind {
                match self { $( ItemRef::$variant(_) => ItemKind::$variant, )* }
            }

            /// Its key.
            pub fn key(self) -> &'a str {
                match self { $( ItemRef::$variant(x) => x.key(), )* }
            }

            /// Status and times, where the kind has them.
            pub fn meta(self) -> Option<&'a Meta> {
                match self { $( ItemRef::$variant(x) => x.meta(), )* }
            }

            /// The item as stored: its JSON without `key` (stored beside it;
            /// sources and redirects keep their `id` and `from`).
            pub fn to_json(self) -> String {
                let value = match self { $( ItemRef::$variant(x) => serde_json::to_value(x), )* };
                let mut value = value.expect("content serialises");
                if let Some(map) = value.as_object_mut() {
                    map.remove("key");
                }
                value.to_string()
            }

            /// A copy.
            pub fn to_owned(self) -> Item {
                match self { $( ItemRef::$variant(x) => Item::$variant(x.clone()), )* }
            }
        }

        impl Site {
            /// Every item of the site, kind by kind in [`ItemKind::ALL`] order.
            pub fn items(&self) -> impl Iterator<Item = ItemRef<'_>> {
                std::iter::empty() $( .chain(self.$field.iter().map(ItemRef::$variant)) )*
            }

            /// Adds an item. Keys are unique per kind (the store's rows are),
            /// so this does not look for an existing one: loading stays linear.
            pub fn push(&mut self, item: Item) {
                match item { $( Item::$variant(x) => self.$field.push(x), )* }
            }

            /// Keeps the items for which `keep` is true.
            pub fn retain_items(&mut self, mut keep: impl FnMut(ItemRef<'_>) -> bool) {
                $( self.$field.retain(|x| keep(ItemRef::$variant(x))); )*
            }
        }
    };
}

item_kinds! {
    Source(Source): sources, "source", "sources.toml";
    Redirect(Redirect): redirects, "redirect", "redirects.toml";
    Press(PressReport): press, "press", "press";
    Document(Document): documents, "document", "documents";
    Media(MediaItem): media, "media", "media";
    Petition(Petition): petitions, "petition", "petitions";
    Page(Page): pages, "page", "pages";
    News(NewsPost): news, "news", "news";
    Timeline(TimelineEvent): timeline, "timeline", "timeline";
    Person(Person): people, "person", "people";
    Book(Book): books, "book", "books";
    Evidence(EvidenceItem): evidence, "evidence", "evidence";
}

impl std::fmt::Display for ItemKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ItemKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ItemKind::ALL.iter().copied().find(|k| k.as_str() == s).ok_or_else(|| format!("unknown item kind `{s}`"))
    }
}

/// A reference from one item to another: `(kind, key)`.
pub type ItemLink<'a> = (ItemKind, &'a str);

impl<'a> ItemRef<'a> {
    /// Everything this item refers to: the sources it cites, the items it
    /// links. The store refuses to delete an item something refers to.
    pub fn links(self) -> Vec<ItemLink<'a>> {
        let cites = |keys: &'a [String]| keys.iter().map(|k| (ItemKind::Source, k.as_str()));
        let mut out: Vec<ItemLink<'a>> = match self {
            ItemRef::Source(s) => s
                .press
                .iter()
                .map(|k| (ItemKind::Press, k.as_str()))
                .chain(s.document.iter().map(|k| (ItemKind::Document, k.as_str())))
                .collect(),
            ItemRef::Redirect(_) => Vec::new(),
            ItemRef::Page(p) => cites(&p.sources)
                .chain(p.petition.iter().map(|k| (ItemKind::Petition, k.as_str())))
                .chain(p.parent.iter().map(|k| (ItemKind::Page, k.as_str())))
                .chain(p.media.iter().map(|k| (ItemKind::Media, k.as_str())))
                .collect(),
            ItemRef::Timeline(e) => cites(&e.sources)
                .chain(e.press.iter().map(|k| (ItemKind::Press, k.as_str())))
                .chain(e.documents.iter().map(|k| (ItemKind::Document, k.as_str())))
                .chain(e.media.iter().map(|k| (ItemKind::Media, k.as_str())))
                .collect(),
            ItemRef::Person(p) => {
                cites(&p.sources).chain(p.statements.iter().flat_map(|s| cites(&s.sources))).collect()
            }
            ItemRef::News(x) => {
                cites(&x.sources).chain(x.media.iter().map(|k| (ItemKind::Media, k.as_str()))).collect()
            }
            ItemRef::Press(x) => cites(&x.sources).collect(),
            ItemRef::Book(x) => cites(&x.sources).collect(),
            ItemRef::Evidence(x) => cites(&x.sources).collect(),
            ItemRef::Document(x) => cites(&x.sources).collect(),
            ItemRef::Media(x) => cites(&x.sources).collect(),
            ItemRef::Petition(x) => cites(&x.sources).collect(),
        };
        let mut seen = HashSet::new();
        out.retain(|l| seen.insert(*l));
        out
    }

    /// The names this item claims that must be unique in the site: the
    /// current and former slugs of pages and news posts (per language), the
    /// anchors of statements. `(namespace, name)`.
    pub fn names(self) -> Vec<(String, String)> {
        let slugs = |kind: &str, text: &Localized<PageText>| {
            text.iter()
                .flat_map(|(l, t)| {
                    std::iter::once(&t.slug).chain(&t.old_slugs).map(move |s| (format!("{kind}:{l}"), s.clone()))
                })
                .collect()
        };
        match self {
            ItemRef::Page(p) => slugs("page", &p.text),
            ItemRef::News(n) => slugs("news", &n.text),
            ItemRef::Person(p) => p.statements.iter().map(|s| ("statement".to_owned(), s.key.clone())).collect(),
            _ => Vec::new(),
        }
    }

    /// Whether the public may see it at `now` (sources and redirects always).
    pub fn is_public(self, now: i64) -> bool {
        self.meta().is_none_or(|m| m.is_public(now))
    }

    /// The earliest future publication time in this item (statements included).
    pub fn next_publication(self, now: i64) -> Option<i64> {
        let due = |m: &Meta| Some(m).filter(|m| m.status == Status::Published).and_then(|m| m.published_at);
        let own = self.meta().and_then(due);
        let nested = match self {
            ItemRef::Person(p) => p.statements.iter().filter_map(|s| due(&s.meta)).min(),
            _ => None,
        };
        own.into_iter().chain(nested).filter(|&t| t > now).min()
    }
}

impl Item {
    /// Keeps the addresses of `previous` working: a page's or news post's
    /// slug that changed in a language becomes one of its former slugs
    /// (which redirect with 301), and former slugs are never dropped.
    pub fn keep_old_slugs(&mut self, previous: &Item) {
        let (now, before) = match (self, previous) {
            (Item::Page(a), Item::Page(b)) => (&mut a.text, &b.text),
            (Item::News(a), Item::News(b)) => (&mut a.text, &b.text),
            _ => return,
        };
        for (lang, text) in now.iter_mut() {
            let Some(old) = before.get(lang) else { continue };
            for slug in std::iter::once(&old.slug).chain(&old.old_slugs) {
                if !slug.is_empty() && *slug != text.slug && !text.old_slugs.contains(slug) {
                    text.old_slugs.push(slug.clone());
                }
            }
        }
    }
}
