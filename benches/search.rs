//! The search target: p99 under 5 ms over 10,000 documents, in-process.
//!
//! Builds the real tantivy index (`site::search::SearchIndex`, English and
//! German analysers) over 10,000 generated documents, half in each language,
//! then times 2,000 queries of one to three words (some stemmed forms, some
//! with no hit) through `SearchIndex::search`, the call `/search` makes.
//!
//! ```sh
//! cargo bench --bench search
//! ```

use std::time::Instant;

use casefile::content::Lang;
use casefile::site::search::{SearchDoc, SearchIndex};

const EN: &str = "evidence fingerprint fingerprints trial court sentence petition pardon governor investigator confession sock footprint blood analysis prison parole letter press documentary witness murder lawyer appeal";
const DE: &str = "Beweise Fingerabdruck Fingerabdrücke Prozess Gericht Urteil Gesuch Begnadigung Gouverneur Ermittler Geständnis Socke Fußabdruck Blut Analyse Gefängnis Bewährung Brief Presse Dokumentarfilm Zeuge Mord Anwalt Berufung";
const FILLER: [&str; 8] = ["the", "and", "of", "was", "der", "die", "und", "war"];

/// A small deterministic generator, so runs are comparable.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 as usize
    }
    fn words(&mut self, vocab: &[&str], n: usize) -> String {
        (0..n)
            .map(|i| if i % 3 == 2 { FILLER[self.next() % FILLER.len()] } else { vocab[self.next() % vocab.len()] })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::var("DOCS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (en, de): (Vec<&str>, Vec<&str>) = (EN.split(' ').collect(), DE.split(' ').collect());
    let kinds = ["page", "news", "timeline", "press", "person", "book", "evidence", "document"];
    let docs: Vec<SearchDoc> = (0..n)
        .map(|i| {
            let (lang, vocab) = if i % 2 == 0 { (Lang::En, &en) } else { (Lang::De, &de) };
            SearchDoc {
                lang,
                kind: kinds[i % kinds.len()],
                title: rng.words(vocab, 6),
                body: rng.words(vocab, 250),
                url: format!("/item/{i}"),
            }
        })
        .collect();
    let built = Instant::now();
    let index = SearchIndex::build(docs)?;
    let build_time = built.elapsed();

    let mut times = Vec::new();
    let mut hits = 0usize;
    for q in 0..2_000 {
        let (lang, vocab) = if q % 2 == 0 { (Lang::En, &en) } else { (Lang::De, &de) };
        let words = 1 + q % 3;
        let query = if q % 50 == 0 { "nonexistentword".to_owned() } else { rng.words(vocab, words) };
        let kind = (q % 5 == 0).then_some(kinds[q % kinds.len()]);
        let start = Instant::now();
        let results = index.search(lang, &query, kind, 1 + q % 3);
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        hits += results.total;
    }
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    println!("documents: {n}, index built in {:.2} s", build_time.as_secs_f64());
    println!(
        "queries: {}, p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms (hits counted: {hits})",
        times.len(),
        pct(0.50),
        pct(0.90),
        pct(0.99),
        times[times.len() - 1]
    );
    Ok(())
}
