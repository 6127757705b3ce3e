//! `casefile site list`: the install's sites, where each is served and
//! what it holds.

use anyhow::Result;

use crate::cli::SiteAction;
use crate::config::ServeConfig;

/// Runs a `site` subcommand.
pub async fn run(action: SiteAction) -> Result<()> {
    match action {
        SiteAction::List(args) => list(&ServeConfig::resolve(&args)?).await,
    }
}

async fn list(config: &ServeConfig) -> Result<()> {
    let store = crate::cmd::outbox::open_existing(&config.storage).await?;
    for (n, (id, site)) in store.site_names().await?.into_iter().enumerate() {
        let (own, shown) = store.site_counts(id).await?;
        let shown = if shown > 0 { format!(", {shown} shown from another site") } else { String::new() };
        let served = match config.site_hosts.iter().find(|(key, _)| *key == site.key) {
            _ if n == 0 => first_address(config),
            Some((_, hosts)) => {
                format!("{} ({})", crate::cmd::serve::site_url(config, hosts, config.listen.port()), hosts.join(", "))
            }
            None => "not served: no host names (site_hosts)".to_owned(),
        };
        let langs: Vec<&str> = site.languages.iter().map(|l| l.code()).collect();
        println!("{}  {}  [{}]  {own} items{shown}  {served}", site.key, site.name, langs.join(", "));
    }
    store.close().await;
    Ok(())
}

/// Where the first site answers: its own address, and every host no other
/// site names unless those get a 404.
fn first_address(config: &ServeConfig) -> String {
    let url = config.base_url.clone().unwrap_or_else(|| format!("http://{}", config.listen));
    if config.unknown_host_404 { url } else { format!("{url} and any host no other site names") }
}
