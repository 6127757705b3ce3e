//! `casefile import-wordpress FILE.xml`: a WordPress export merged into
//! the site (`crate::wordpress`), imported by the bundle import's rules,
//! with a report of what came in and what did not, and why.

use anyhow::{Context, Result};

use crate::cli::ImportWordpressArgs;
use crate::config::Storage;
use crate::store::{Change, ImportRules, Store};
use crate::wordpress::{self, Options};

/// Imports a WXR file into the site of a data folder (made from the
/// export's title when the folder is empty).
pub async fn import(args: ImportWordpressArgs) -> Result<()> {
    let text = std::fs::read_to_string(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?;
    let export = wordpress::read(&text).with_context(|| format!("{}: nothing was imported", args.file.display()))?;
    let storage = Storage::resolve(&args.storage)?;
    storage.prepare()?;
    let store = Store::open_with(&storage.database_url, &storage.pool).await?;
    let result = run(&store, &export, &args).await;
    store.close().await;
    result
}

async fn run(store: &Store, export: &wordpress::Export, args: &ImportWordpressArgs) -> Result<()> {
    let site = match store.first_site_key().await? {
        Some(key) => {
            let id = store.site_id(&key).await?.context("the site vanished")?;
            Some(store.load_site(id).await?)
        }
        None => None,
    };
    let merged = wordpress::merge(export, site, Options { lang: args.lang }, crate::store::now())?;
    let note = format!("imported from the WordPress export {}", args.file.display());
    let change = Change { author: "wordpress", note: &note };
    let rules = ImportRules { prune: false, only_by: None, dry_run: args.dry_run, confirmed: None };
    let report = store.import_bundle(&merged.site, rules, change).await?;
    println!("From {} ({}):", export.title, export.link);
    for (kind, n) in &merged.counts {
        println!("  {n} {kind}");
    }
    if !merged.notes.is_empty() {
        println!("Imported differently or not at all:");
        for line in &merged.notes {
            println!("  {line}");
        }
    }
    crate::cmd::content::print_report(&report);
    println!(
        "{}",
        if args.dry_run {
            "dry run: nothing was changed"
        } else {
            "imported; a running server shows it within seconds"
        }
    );
    Ok(())
}
