//! `casefile export`: the public site as static files (`crate::export`),
//! with a progress bar on a terminal and a summary at the end.

use std::sync::Arc;

use anyhow::{Context, Result};

use crate::cli::{ExportArgs, ServeArgs};
use crate::clock::Clock;
use crate::config::ServeConfig;
use crate::mail::Mailer;

/// Exports the site of an existing data folder.
pub async fn run(args: ExportArgs) -> Result<()> {
    let started = std::time::Instant::now();
    let Some(base_url) = args.base_url.clone() else {
        anyhow::bail!("give --base-url: the address the exported site will have (https://…)");
    };
    let url =
        url::Url::parse(&base_url).ok().filter(|u| u.host_str().is_some()).context("the base URL names no host")?;
    let host = url.host_str().map(|h| url.port().map_or(h.to_owned(), |p| format!("{h}:{p}"))).unwrap_or_default();
    // Another site than the first answers on the base URL's host.
    let site_hosts = args.site.iter().map(|key| format!("{key}={}", url.host_str().unwrap_or(""))).collect();
    let serve =
        ServeArgs { storage: args.storage.clone(), base_url: Some(base_url), site_hosts, ..ServeArgs::default() };
    let config = ServeConfig { site_links: false, ..ServeConfig::resolve(&serve)? };
    crate::cmd::outbox::open_existing(&config.storage).await?.close().await;
    // The same state and router as `serve`; nothing listens, nothing is mailed.
    let mailer = Mailer::Memory(Arc::default());
    let (first, _worker) = crate::cmd::serve::build(&config, config.listen, mailer, Clock::system()).await?;
    let state = match &args.site {
        Some(key) if *key != first.index().site.key => {
            let found = first.others().iter().find(|s| s.index().site.key == *key).cloned();
            let keys: Vec<String> = first.store.sites().await?.into_iter().map(|(_, k)| k).collect();
            found.with_context(|| format!("there is no site `{key}`; the sites are {}", keys.join(", ")))?
        }
        _ => Arc::clone(&first),
    };
    state.exporting.store(true, std::sync::atomic::Ordering::Relaxed);
    let router = crate::web::router::app(Arc::clone(&first));
    let index = state.index();
    let bar = if args.quiet { indicatif::ProgressBar::hidden() } else { indicatif::ProgressBar::new_spinner() };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {pos} files {wide_msg}").expect("a valid template"),
    );
    let forms_url = match &args.forms_url {
        Some(url) => Some(forms_url(url)?),
        None => None,
    };
    let target = crate::export::Destination {
        out: &args.out,
        host: &host,
        forms_url: forms_url.as_deref(),
        twins: !args.no_twins,
    };
    let summary = crate::export::export(router, &index, target, |path| {
        bar.inc(1);
        bar.set_message(path.to_owned());
    })
    .await?;
    bar.finish_and_clear();
    state.store.close().await;
    if !args.quiet {
        println!(
            "exported {} files ({} bytes, .gz and .br twins beside) into {}: {} written, {} removed, in {:.1} s",
            summary.files,
            summary.bytes,
            args.out.display(),
            summary.written,
            summary.removed,
            started.elapsed().as_secs_f64()
        );
        if !summary.dynamic.is_empty() {
            println!("{} links need the dynamic site (a query in the address), for example:", summary.dynamic.len());
            for (link, page) in summary.dynamic.iter().take(5) {
                println!("  {link} (on {page})");
            }
        }
    }
    Ok(())
}

/// A `--forms-url`: an http(s) address, without a trailing slash.
fn forms_url(url: &str) -> Result<String> {
    match url::Url::parse(url.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() && u.query().is_none() => {
            Ok(u.as_str().trim_end_matches('/').to_owned())
        }
        _ => anyhow::bail!("--forms-url: `{url}` is not an http(s) address like https://forms.example"),
    }
}
