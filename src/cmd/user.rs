//! `casefile user` and `casefile token`: the people who edit the site and
//! their API tokens.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, Result, bail};

use crate::accounts::{self, Role};
use crate::cli::{TokenAction, UserAction};
use crate::config::Storage;
use crate::store::{Store, now};

/// Runs a `user` subcommand.
pub async fn user(action: UserAction) -> Result<()> {
    match action {
        UserAction::Add { email, role, sites, storage } => {
            let role: Role = role.parse().map_err(anyhow::Error::msg)?;
            let email = checked_email(&email)?;
            let password = read_password(&email)?;
            // Adding the first owner before the first start is fine: the
            // database is created here, the site on `serve`.
            let storage = Storage::resolve(&storage)?;
            storage.prepare()?;
            let store = Store::open_with(&storage.database_url, &storage.pool).await?;
            for key in &sites {
                crate::content::check_key(key).map_err(|e| anyhow::anyhow!("--site {key}: {}", e.0))?;
            }
            let user = store.add_user(&email, role, &accounts::hash_password(&password), now()).await?;
            store.set_user_sites(user.id, &sites).await?;
            let limited = if sites.is_empty() { String::new() } else { format!(" for {}", sites.join(", ")) };
            eprintln!("added {} {}{limited}", user.role.as_str(), user.email);
            store.close().await;
        }
        UserAction::List { storage } => {
            let store = open(&storage).await?;
            for u in store.users().await? {
                let sites = store.user_sites(u.id).await?;
                let sites = if sites.is_empty() { "every site".to_owned() } else { sites.join(", ") };
                println!("{:<40} {:<6} created {}  {sites}", u.email, u.role.as_str(), crate::site::ymd(u.created_at));
            }
            store.close().await;
        }
        UserAction::Passwd { email, storage } => {
            let store = open(&storage).await?;
            if store.user_for_sign_in(&email).await?.is_none() {
                bail!("no user {email}");
            }
            let password = read_password(&email)?;
            store.set_password(&email, &accounts::hash_password(&password), now()).await?;
            eprintln!("password changed for {}; they are signed out everywhere", email.trim().to_lowercase());
            store.close().await;
        }
        UserAction::Remove { email, storage } => {
            let store = open(&storage).await?;
            store.remove_user(&email).await?;
            eprintln!("removed {}", email.trim().to_lowercase());
            store.close().await;
        }
        UserAction::ResetTwoFactor { email, storage } => {
            let store = open(&storage).await?;
            let was_on = store.disable_two_factor(&email).await?;
            let email = email.trim().to_lowercase();
            if was_on {
                eprintln!(
                    "two-factor sign-in is off for {email}: they sign in with the password and can set it up again"
                );
            } else {
                eprintln!("{email} had no two-factor sign-in");
            }
            store.close().await;
        }
    }
    Ok(())
}

/// Runs a `token` subcommand.
pub async fn token(action: TokenAction) -> Result<()> {
    match action {
        TokenAction::Add { email, name, storage } => {
            if name.trim().is_empty() {
                bail!("give the token a name that says what it is for (--name)");
            }
            let store = open(&storage).await?;
            let (token, hash) = accounts::new_token();
            let info = store.add_token(&email, &name, &hash, now()).await?;
            eprintln!("token {} \"{}\" for {}; it is shown only now:", info.id, info.name, info.email);
            println!("{token}");
            store.close().await;
        }
        TokenAction::List { storage } => {
            let store = open(&storage).await?;
            for t in store.tokens().await? {
                let state = match (t.revoked_at, t.last_used_at) {
                    (Some(at), _) => format!("revoked {}", crate::site::ymd(at)),
                    (None, Some(at)) => format!("last used {}", crate::site::ymd(at)),
                    (None, None) => "never used".to_owned(),
                };
                println!("{:<5} {:<30} {:<40} {state}", t.id, t.name, t.email);
            }
            store.close().await;
        }
        TokenAction::Revoke { id, storage } => {
            let store = open(&storage).await?;
            store.revoke_token(id, now()).await?;
            eprintln!("token {id} revoked");
            store.close().await;
        }
    }
    Ok(())
}

async fn open(args: &crate::cli::StorageArgs) -> Result<Store> {
    super::outbox::open_existing(&Storage::resolve(args)?).await
}

/// A plausible address (it is the sign-in name, not a mailbox we write to).
fn checked_email(email: &str) -> Result<String> {
    let email = email.trim().to_lowercase();
    match email.split_once('@') {
        Some((local, domain)) if !local.is_empty() && domain.contains('.') && !email.contains(char::is_whitespace) => {
            Ok(email)
        }
        _ => bail!("`{email}` is not an e-mail address"),
    }
}

/// The new password: one line of standard input when it is not a terminal
/// (scripts, `echo … |`), else asked for twice without echo. Checked
/// against the rules before anything is stored.
fn read_password(email: &str) -> Result<String> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("New password for {email}: "))?;
        let again = rpassword::prompt_password("Again: ")?;
        if first != again {
            bail!("the two passwords differ");
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    accounts::check_password(&password, email)?;
    Ok(password)
}
