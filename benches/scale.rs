//! A campaign that posts for years: the default site plus 10,000 generated
//! news posts (20,000 pages in two languages), imported through the store
//! into a data folder that `bench/scale.sh` then serves and measures.
//!
//!     cargo bench --bench scale -- DATA_DIR [POSTS]
//!
//! The text is generated from a small vocabulary with a fixed seed, about
//! 3 KB per language and post (60 MB in all), so runs are comparable.

use std::time::Instant;

use casefile::content::{Lang, NewsPost, PageText, PartialDate};
use casefile::store::{Change, Store};

const WORDS: [&str; 24] = [
    "evidence",
    "pardon",
    "court",
    "Virginia",
    "DNA",
    "samples",
    "petition",
    "governor",
    "campaign",
    "confession",
    "investigator",
    "trial",
    "sentence",
    "extradition",
    "footprint",
    "fingerprint",
    "witness",
    "lawyer",
    "appeal",
    "Bedford",
    "report",
    "documentary",
    "parole",
    "release",
];

/// A deterministic generator (xorshift), so every run writes the same site.
struct Words(u64);

impl Words {
    fn next(&mut self) -> &'static str {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        WORDS[(self.0 % WORDS.len() as u64) as usize]
    }

    fn sentence(&mut self, n: usize) -> String {
        (0..n).map(|_| self.next()).collect::<Vec<_>>().join(" ")
    }
}

fn post(i: usize, words: &mut Words) -> NewsPost {
    let mut text = |lang: &str| PageText {
        slug: format!("post-{i}-{lang}"),
        title: format!("{} {i}", words.sentence(6)),
        summary: words.sentence(25),
        body: (0..6).map(|_| words.sentence(70)).collect::<Vec<_>>().join("\n\n"),
        old_slugs: Vec::new(),
    };
    let (en, de) = (text("en"), text("de"));
    NewsPost {
        key: format!("generated-{i}"),
        date: Some(PartialDate { year: 2000 + (i % 25) as i32, month: Some(1 + (i % 12) as u8), day: Some(1) }),
        text: [(Lang::En, en), (Lang::De, de)].into(),
        ..NewsPost::default()
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let dir = std::path::PathBuf::from(args.first().ok_or_else(|| anyhow::anyhow!("usage: scale DATA_DIR [POSTS]"))?);
    let n: usize = args.get(1).map_or(Ok(10_000), |s| s.parse())?;
    anyhow::ensure!(!dir.join("casefile.db").exists(), "{} holds a database already", dir.display());
    std::fs::create_dir_all(&dir)?;
    let mut site = casefile::bundle::parse(&casefile::bundle::default_files())?;
    let attachments = casefile::bundle::default_attachments();
    casefile::documents::attach(&mut site, &attachments, &casefile::pdf::PdfReader::InProcess)?;
    casefile::documents::store_files(&site, &attachments, &dir.join("files"))?;
    let mut words = Words(0x9e37_79b9_7f4a_7c15);
    site.news.extend((0..n).map(|i| post(i, &mut words)));
    site.sort();
    let store = Store::open(&format!("sqlite:{}", dir.join("casefile.db").display())).await?;
    let started = Instant::now();
    store.import_site(&site, Change { author: "bench", note: "scale" }).await?;
    println!(
        "imported {} news posts ({} items) in {:.2} s",
        site.news.len(),
        site.items().count(),
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let (_, loaded) = store.snapshot(store.site_id(&site.key).await?.unwrap_or(1)).await?;
    println!("snapshot loaded in {:.3} s ({} news posts)", started.elapsed().as_secs_f64(), loaded.news.len());
    store.close().await;
    Ok(())
}
