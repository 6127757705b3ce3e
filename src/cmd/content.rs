//! `casefile import` and `casefile export-content`: content in and out as
//! a bundle (`docs/BUNDLE.md`). The merge rules are in
//! `store::content::import`; here are the files, the questions and the
//! report.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context, Result, bail};

use crate::bundle;
use crate::cli::{ExportContentArgs, ImportArgs};
use crate::config::Storage;
use crate::content::Site;
use crate::documents::Attachment;
use crate::store::{Action, Change, DEFAULT_CONTENT, ImportReport, ImportRules, Store};

/// Imports a bundle folder, or the built-in default content (`--default`).
pub async fn import(args: ImportArgs) -> Result<()> {
    let storage = Storage::resolve(&args.storage)?;
    storage.prepare()?;
    let store = Store::open_with(&storage.database_url, &storage.pool).await?;
    let (site, attachments, images, from) = match &args.dir {
        Some(dir) => {
            let (texts, others) = bundle::read_folder(dir)?;
            let site = read_bundle(&texts, &others, &shown_from(&store, &texts).await?)?;
            let images = bundle::images::read(&texts, &others).map_err(|problems| {
                anyhow::anyhow!("the bundle's images have mistakes; nothing was imported:\n{problems}")
            })?;
            (site, others, images, format!("imported from {}", dir.display()))
        }
        None => {
            let others = bundle::default_attachments();
            let site = read_bundle(&bundle::default_files(), &others, &[])?;
            (site, others, Vec::new(), format!("the built-in default site of Casefile {}", env!("CARGO_PKG_VERSION")))
        }
    };
    let change = if args.default {
        Change { author: DEFAULT_CONTENT.author, note: &from }
    } else {
        Change { author: "import", note: &from }
    };
    // The default content changes only what it put there itself.
    let only_by = args.default.then_some(DEFAULT_CONTENT.author);
    let rules = ImportRules { prune: args.prune, only_by, dry_run: true, confirmed: None };

    let plan = store.import_bundle(&site, rules, change).await?;
    let new_images = new_images(&store, &site, &images).await?;
    let replaced = replaced_files(&store, &site, &attachments, &storage.files_dir).await?;
    if args.dry_run || (!plan.changes_anything() && new_images.is_empty() && replaced.is_empty()) {
        for (image, _) in &new_images {
            println!("create  image `{}`", image.key);
        }
        for (path, _, _) in &replaced {
            println!("replace file `{path}`");
        }
        if args.default && !args.dry_run {
            // Nothing to bring in (or only what editors changed): up to date.
            crate::cmd::serve::remember_default_content(&store).await?;
        }
        print_report(&plan);
        println!("{}", if args.dry_run { "dry run: nothing was changed" } else { "nothing to change" });
        store.close().await;
        return Ok(());
    }
    if !args.yes && !confirm_prune(&plan)? {
        store.close().await;
        bail!("nothing was changed");
    }
    // New files first: a failure in between leaves files nobody links,
    // never links to missing files. A new version of a stored file goes
    // in once the import is committed, so a failed import changes none.
    crate::documents::store_files(&site, &attachments, &storage.files_dir)?;
    store_images(&storage, &new_images)?;
    let confirmed = Some(plan.planned.as_slice());
    let report = store.import_bundle(&site, ImportRules { dry_run: false, confirmed, ..rules }, change).await?;
    for (path, name, bytes) in &replaced {
        crate::documents::store_file(&storage.files_dir, name, bytes)?;
        println!("replace file `{path}`");
    }
    record_images(&store, &site, &new_images).await?;
    if args.default {
        crate::cmd::serve::remember_default_content(&store).await?;
    }
    print_report(&report);
    println!("imported; a running server shows it within seconds");
    store.close().await;
    Ok(())
}

/// The bundle's files that are a new version of a stored file (the same
/// name, other bytes), as (path in the bundle, name, bytes). Files are
/// shared by every site of the install, so that is refused, with every
/// such file listed, where an item the bundle does not bring names the
/// stored file (another site's, or one left out of the bundle): it would
/// show bytes it never had.
async fn replaced_files<'a>(
    store: &Store,
    site: &Site,
    attachments: &'a [Attachment],
    dir: &std::path::Path,
) -> Result<Vec<(String, String, &'a [u8])>> {
    let mut replaced = Vec::new();
    for (path, name) in crate::documents::bundle_paths(site) {
        let Some((_, bytes)) = attachments.iter().find(|(p, _)| *p == path) else { continue };
        if std::fs::read(dir.join(&name)).is_ok_and(|stored| stored != *bytes) {
            replaced.push((path, name, bytes.as_slice()));
        }
    }
    if replaced.is_empty() {
        return Ok(replaced);
    }
    let brought = |kind: &str, key: &str| site.items().any(|i| i.kind().as_str() == kind && i.key() == key);
    let mut problems = Vec::new();
    for (site_key, kind, key, name) in store.stored_file_users().await? {
        let Some((path, ..)) = replaced.iter().find(|(_, n, _)| *n == name) else { continue };
        if site_key != site.key || !brought(&kind, &key) {
            problems.push(format!(
                "{path}: a different file of this name is stored already, and the {kind} `{key}` of the site \
                 `{site_key}` shows it; give the bundle's file another name"
            ));
        }
    }
    if !problems.is_empty() {
        problems.dedup();
        bail!("the bundle's files have mistakes; nothing was imported:\n{}", problems.join("\n"));
    }
    Ok(replaced)
}

/// The bundle's images the site does not have yet (matched by key; one the
/// site has keeps its descriptions).
async fn new_images<'a>(
    store: &Store,
    site: &Site,
    images: &'a [(bundle::images::Image, crate::media::Processed)],
) -> Result<Vec<&'a (bundle::images::Image, crate::media::Processed)>> {
    let Some(site_id) = store.site_id(&site.key).await? else { return Ok(images.iter().collect()) };
    let mut out = Vec::new();
    for entry in images {
        if store.media_file(site_id, &entry.0.key).await?.is_none() {
            out.push(entry);
        }
    }
    Ok(out)
}

/// Writes the new images' variants (recorded once the site exists).
fn store_images(storage: &Storage, images: &[&(bundle::images::Image, crate::media::Processed)]) -> Result<()> {
    for (image, processed) in images {
        crate::media::store(&storage.files_dir, processed)?;
        println!("create  image `{}`", image.key);
    }
    Ok(())
}

/// Records the new images (after the import made the site).
async fn record_images(
    store: &Store,
    site: &Site,
    images: &[&(bundle::images::Image, crate::media::Processed)],
) -> Result<()> {
    let Some(site_id) = store.site_id(&site.key).await? else { return Ok(()) };
    for (image, processed) in images {
        let row = crate::store::MediaFile {
            key: image.key.clone(),
            name: if image.name.is_empty() { image.file.clone() } else { image.name.clone() },
            width: i64::from(processed.width),
            height: i64::from(processed.height),
            bytes: processed.original.len() as i64,
            alt: serde_json::to_string(&image.alt)?,
            created_by: "import".into(),
            created_at: crate::store::now(),
        };
        store.add_media(site_id, &row).await?;
    }
    Ok(())
}

/// The site whose items a bundle shows (`shared.toml`), if the database
/// holds it: the bundle is read against it.
async fn shown_from(store: &Store, texts: &[bundle::BundleFile]) -> Result<Vec<Site>> {
    let Some(from) = bundle::shared_from(texts) else { return Ok(Vec::new()) };
    match store.site_id(&from).await? {
        Some(id) => Ok(vec![store.load_site(id).await?]),
        None => Ok(Vec::new()),
    }
}

/// Parses and checks a bundle (against the sites whose items it shows);
/// every mistake is listed and nothing is read.
fn read_bundle(texts: &[bundle::BundleFile], attachments: &[Attachment], shown_from: &[Site]) -> Result<Site> {
    let mut site = bundle::parse_with(texts, shown_from).map_err(|problems| {
        let n = problems.0.len();
        anyhow::anyhow!(
            "the bundle has {n} mistake{}; nothing was imported:\n{problems}",
            if n == 1 { "" } else { "s" }
        )
    })?;
    let reader = crate::pdf::PdfReader::this_program();
    for note in crate::documents::attach(&mut site, attachments, &reader).context("nothing was imported")? {
        eprintln!("warning: {note}");
    }
    Ok(site)
}

/// Lists what `--prune` would delete and asks; without a terminal to ask
/// on, `--yes` is required.
fn confirm_prune(plan: &ImportReport) -> Result<bool> {
    let removed: Vec<_> =
        plan.planned.iter().filter(|p| matches!(p.action, Action::Delete | Action::Exclude)).collect();
    if removed.is_empty() {
        return Ok(true);
    }
    println!(
        "--prune moves these {} items to the trash (or, stored by another site, stops showing them):",
        removed.len()
    );
    for p in &removed {
        println!("  {} `{}`", p.kind, p.key);
    }
    if !std::io::stdin().is_terminal() {
        bail!("nothing was changed: add --yes to move them to the trash without being asked");
    }
    print!("Move them to the trash and import? [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

pub(crate) fn print_report(report: &ImportReport) {
    for p in &report.planned {
        let (word, why) = match &p.action {
            Action::Create => ("create", String::new()),
            Action::Update => ("update", String::new()),
            Action::Delete => ("delete", String::new()),
            Action::Keep(why) => ("keep", format!(" ({why})")),
            Action::Include => ("include", " (stored by another site)".to_owned()),
            Action::Exclude => ("exclude", " (stored by another site)".to_owned()),
        };
        println!("{word:<7} {} `{}`{why}", p.kind, p.key);
    }
    let count = |f: fn(&Action) -> bool| report.planned.iter().filter(|p| f(&p.action)).count();
    println!(
        "{} created, {} updated, {} deleted, {} kept, {} unchanged",
        count(|a| *a == Action::Create),
        count(|a| *a == Action::Update),
        count(|a| *a == Action::Delete),
        count(|a| matches!(a, Action::Keep(_))),
        report.unchanged
    );
    let (shown, hidden) = (count(|a| *a == Action::Include), count(|a| *a == Action::Exclude));
    if shown + hidden > 0 {
        println!("{shown} of another site's items now shown, {hidden} no longer");
    }
}

/// Writes the site's content, drafts included, as a bundle folder.
pub async fn export(args: ExportContentArgs) -> Result<()> {
    let storage = Storage::resolve(&args.storage)?;
    let store = crate::cmd::outbox::open_existing(&storage).await?;
    let key = match args.site.clone() {
        Some(key) => key,
        None => store.first_site_key().await?.ok_or_else(|| anyhow::anyhow!("the database holds no site yet"))?,
    };
    let site_id = store.site_id(&key).await?.ok_or_else(|| anyhow::anyhow!("there is no site `{key}`"))?;
    let site = store.load_site(site_id).await?;
    let mut texts = bundle::to_files(&site)?;
    let mut files = Vec::new();
    // The files of the site's own items (another site's go with it).
    let mut own = site.clone();
    own.retain_items(|i| !site.shows_from_elsewhere(i.kind(), i.key()));
    for (path, name) in crate::documents::bundle_paths(&own) {
        let stored = storage.files_dir.join(&name);
        let bytes =
            std::fs::read(&stored).with_context(|| format!("{path}: its file is missing from {}", stored.display()))?;
        files.push((path, bytes));
    }
    let images = store.media(site_id).await?;
    if !images.is_empty() {
        let mut list = Vec::new();
        for m in &images {
            let (file, bytes) = original(&storage, &m.key)?;
            list.push(bundle::images::Image {
                key: m.key.clone(),
                file: file.clone(),
                name: m.name.clone(),
                alt: serde_json::from_str(&m.alt).unwrap_or_default(),
            });
            files.push((format!("images/{file}"), bytes));
        }
        texts.push((bundle::images::LIST.to_owned(), bundle::images::write(&list)?));
    }
    if args.revisions {
        texts.push((bundle::REVISIONS.to_owned(), revisions_jsonl(&store, site_id).await?));
    }
    store.close().await;
    bundle::write_folder(&args.out, &texts, &files)?;
    println!(
        "wrote {} items, {} images and {} files into {}",
        site.items().count(),
        images.len(),
        files.len(),
        args.out.display()
    );
    Ok(())
}

/// An uploaded image's original: its bundle file name and its bytes.
fn original(storage: &Storage, key: &str) -> Result<(String, Vec<u8>)> {
    let folder = crate::media::folder(&storage.files_dir, key);
    let entries =
        std::fs::read_dir(&folder).with_context(|| format!("the image `{key}`: {} is missing", folder.display()))?;
    for entry in entries {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if let Some(ext) = name.strip_prefix("original.") {
            let bytes = std::fs::read(folder.join(&name))?;
            return Ok((format!("{key}.{ext}"), bytes));
        }
    }
    bail!("the image `{key}`: its original is missing from {}", folder.display())
}

/// Every revision of the site, oldest first, one JSON object per line.
async fn revisions_jsonl(store: &Store, site_id: i64) -> Result<String> {
    let mut out = String::new();
    for r in store.site_revisions(site_id).await? {
        let data: serde_json::Value = serde_json::from_str(&r.data).unwrap_or(serde_json::Value::Null);
        let line = serde_json::json!({
            "id": r.info.id, "kind": r.kind, "key": r.key, "action": r.info.action, "author": r.info.author,
            "note": r.info.note, "version": r.info.version, "created_at": r.info.created_at, "data": data,
        });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    Ok(out)
}
