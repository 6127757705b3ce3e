//! `casefile operator`: show or set who runs the site, the controller the
//! privacy page names. A change is a settings revision like any other.

use anyhow::Result;

use crate::cli::OperatorArgs;
use crate::config::Storage;
use crate::store::Change;

/// Prints the operator, after applying the options given.
pub async fn run(storage: Storage, args: OperatorArgs) -> Result<()> {
    let store = super::outbox::open_existing(&storage).await?;
    let key = store.first_site_key().await?.ok_or_else(|| anyhow::anyhow!("the database holds no site yet"))?;
    let site_id = store.site_id(&key).await?.ok_or_else(|| anyhow::anyhow!("the site `{key}` vanished"))?;
    let mut settings = store.settings(site_id).await?;
    let before = settings.operator.clone();
    let o = &mut settings.operator;
    for (field, value) in [(&mut o.name, args.name), (&mut o.email, args.email), (&mut o.address, args.address)] {
        if let Some(v) = value {
            *field = v.trim().to_owned();
        }
    }
    if settings.operator != before {
        store.save_settings(site_id, &settings, Change { author: "cli", note: "operator changed" }).await?;
        println!("saved; running servers show it within seconds");
    }
    let o = &settings.operator;
    println!("name:    {}\nemail:   {}\naddress: {}", o.name, o.email, o.address);
    store.close().await;
    Ok(())
}
