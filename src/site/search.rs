//! A plain in-memory search over the public snapshot.
//!
//! Interim: every word of the query must appear (case-insensitive) in an
//! item's text in the page's language. Full-text search with stemming
//! (tantivy, English and German analysers) replaces this in issue #4; the
//! page, its URL and its result shape stay.

use serde::Serialize;

use super::Theme;
use super::routes::SiteIndex;
use crate::content::Lang;
use crate::markdown::to_text;

/// One hit.
#[derive(Serialize)]
pub struct Hit {
    /// What kind of item ("Timeline", "Press report").
    pub kind: String,
    /// Its title.
    pub title: String,
    /// Where it is, with an anchor where the item has one.
    pub url: String,
    /// Text before the highlighted word.
    pub before: String,
    /// The highlighted word as it appears in the text.
    pub mark: String,
    /// Text after it.
    pub after: String,
}

const MAX_QUERY_CHARS: usize = 200;
const MAX_HITS: usize = 50;

/// Searches the snapshot in `lang`.
pub fn search(index: &SiteIndex, lang: Lang, query: &str, theme: &Theme) -> Vec<Hit> {
    let query: String = query.chars().take(MAX_QUERY_CHARS).collect::<String>().to_lowercase();
    let words: Vec<&str> = query
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return Vec::new();
    }
    let site = &index.site;
    let label = |k: &str| theme.string(lang, k);
    let path = |key: &str| index.path_of(key, lang).unwrap_or_default();
    let mut docs: Vec<(String, String, String, String)> = Vec::new(); // kind, title, url, text
    for p in &site.pages {
        if let (Some(t), Some(url)) = (p.text.get(&lang), index.path_of(&p.key, lang)) {
            docs.push((label("result_page"), t.title.clone(), url, format!("{} {}", t.summary, to_text(&t.body))));
        }
    }
    for n in &site.news {
        if let Some(t) = n.text.get(&lang) {
            docs.push((
                label("result_news"),
                t.title.clone(),
                format!("{}/{}", path("news"), t.slug),
                format!("{} {}", t.summary, to_text(&t.body)),
            ));
        }
    }
    for e in &site.timeline {
        if let Some(t) = e.text.get(&lang) {
            docs.push((
                label("result_timeline"),
                t.title.clone(),
                format!("{}#{}", path("timeline"), e.key),
                to_text(&t.body),
            ));
        }
    }
    for r in &site.press {
        if let Some(t) = r.text.get(&lang) {
            let title = r.title.clone().unwrap_or_else(|| t.title.clone());
            let text = format!(
                "{} {} {} {}",
                r.outlet.as_deref().unwrap_or(""),
                r.authors.join(" "),
                t.summary,
                r.quote.as_deref().unwrap_or("")
            );
            docs.push((label("result_press"), title, format!("{}#{}", path("press"), r.key), text));
        }
    }
    for p in &site.people {
        if let Some(t) = p.text.get(&lang) {
            let mut text = format!("{} {}", t.role, to_text(&t.body));
            for s in &p.statements {
                text.push(' ');
                text.push_str(s.quote.as_deref().unwrap_or(""));
                if let Some(st) = s.text.get(&lang) {
                    text.push(' ');
                    text.push_str(&st.summary);
                }
            }
            docs.push((label("result_person"), p.name.clone(), format!("{}#{}", path("voices"), p.key), text));
        }
    }
    for b in &site.books {
        if let Some(t) = b.text.get(&lang) {
            docs.push((
                label("result_book"),
                b.title.clone(),
                format!("{}#{}", path("books"), b.key),
                format!("{} {}", t.summary, to_text(&t.body)),
            ));
        }
    }
    for e in &site.evidence {
        if let Some(t) = e.text.get(&lang) {
            docs.push((
                label("result_evidence"),
                t.title.clone(),
                format!("{}#{}", path("evidence"), e.key),
                format!("{} {} {}", t.summary, t.contested, to_text(&t.body)),
            ));
        }
    }
    let mut hits = Vec::new();
    for (kind, title, url, text) in docs {
        let hay = format!("{title} {text}");
        let lower = hay.to_lowercase();
        if !words.iter().all(|w| lower.contains(w)) {
            continue;
        }
        let (before, mark, after) = snippet(&hay, &lower, words[0]);
        hits.push(Hit { kind, title, url, before, mark, after });
        if hits.len() == MAX_HITS {
            break;
        }
    }
    hits
}

/// Cuts about 80 characters around the first match. Works on char
/// boundaries of the original text (lowercasing can change byte lengths,
/// so positions are found by walking both strings together).
fn snippet(hay: &str, lower: &str, word: &str) -> (String, String, String) {
    let chars: Vec<char> = hay.chars().collect();
    let lower_chars: Vec<char> = lower.chars().collect();
    let word_chars: Vec<char> = word.chars().collect();
    let start = if chars.len() == lower_chars.len() {
        lower_chars.windows(word_chars.len().max(1)).position(|w| w == word_chars.as_slice())
    } else {
        None
    };
    let Some(start) = start else {
        return (chars.iter().take(160).collect(), String::new(), String::new());
    };
    let end = start + word_chars.len();
    let from = start.saturating_sub(80);
    let to = (end + 80).min(chars.len());
    let mut before: String = chars[from..start].iter().collect();
    if from > 0 {
        before.insert(0, '…');
    }
    let mut after: String = chars[end..to].iter().collect();
    if to < chars.len() {
        after.push('…');
    }
    (before, chars[start..end].iter().collect(), after)
}
