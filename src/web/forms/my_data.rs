//! "Manage my data": a link mailed to the address shows what the site holds
//! about it, as a page and as JSON, with a button that erases it all.

use crate::web::error::Error;

type Result<T> = std::result::Result<T, Error>;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;

use super::{FormRequest, fresh};
use crate::forms::{DataRequest, Input};
use crate::ids::nonce;
use crate::mail::compose::compose;
use crate::site::Notice;
use crate::web::tokens::{DATA_LINK_SECONDS, Purpose};

pub(super) async fn submit(req: &FormRequest<'_>, input: &Input) -> Result<Response> {
    let d = match DataRequest::validate(input) {
        Ok(d) => d,
        Err(errors) => return Ok(req.form_again(input, errors, None).await),
    };
    let state = req.state;
    let n = nonce();
    let token = state.forms.signer.link_token(Purpose::DataAccess, &n, state.clock.now() + DATA_LINK_SECONDS);
    let mail = compose(
        &state.theme,
        &state.forms.mail,
        "data_access",
        req.lang,
        &d.email,
        context! { site_name => req.site_name(), view_url => req.link("view", &token) },
    )?;
    let outcome = state.store.request_data(state.site_id, &d.email, &n, &mail, state.clock.now()).await?;
    tracing::info!(outcome = ?outcome, "data access request");
    state.forms.wake.notify_one();
    Ok(req.redirect("thanks"))
}

/// The address behind a valid data link.
async fn email_of(req: &FormRequest<'_>, token: &str) -> Result<Option<String>> {
    let Some(nonce) = req.state.forms.signer.check_link_token(Purpose::DataAccess, token, req.state.clock.now()) else {
        return Ok(None);
    };
    Ok(req
        .state
        .store
        .data_request(&nonce, req.state.clock.now())
        .await?
        .filter(|(site, _)| *site == req.state.site_id)
        .map(|(_, e)| e))
}

pub(super) async fn view(req: &FormRequest<'_>, token: &str) -> Result<Response> {
    let Some(email) = email_of(req, token).await? else { return Ok(req.notice(Notice::new("link_invalid", 404))) };
    let data = req.state.store.personal_data(req.state.site_id, &email).await?;
    let base = req.page_path.trim_end_matches('/');
    let r = crate::site::render_personal_data(&req.state.theme, req.index, req.lang, &data, base, token)?;
    Ok(fresh(r, StatusCode::OK))
}

pub(super) async fn export(req: &FormRequest<'_>, token: &str) -> Result<Response> {
    let Some(email) = email_of(req, token).await? else { return Ok(req.notice(Notice::new("link_invalid", 404))) };
    let data = req.state.store.personal_data(req.state.site_id, &email).await?;
    let json = serde_json::to_string_pretty(&data)?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"my-data.json\""),
            (header::CACHE_CONTROL, "no-store"),
        ],
        json,
    )
        .into_response())
}

pub(super) async fn erase(req: &FormRequest<'_>, token: &str) -> Result<Response> {
    let Some(email) = email_of(req, token).await? else { return Ok(req.notice(Notice::new("link_invalid", 404))) };
    req.state.store.erase_personal_data(req.state.site_id, &email).await?;
    if let Some(dir) = &req.state.forms.mail_dir {
        crate::mail::erase_files(dir, &email);
    }
    tracing::info!("personal data erased on request");
    Ok(req.notice(Notice::new("mydata_erased", 200)))
}
