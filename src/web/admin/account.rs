//! `/admin/account`: what each user sets for themselves (the language they
//! read the admin in; two-factor sign-in has its own page).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;

use super::items::{done, failed};
use super::{Page, page, redirect, signed};
use crate::content::Lang;
use crate::web::state::AppState;

/// `GET /admin/account`.
pub async fn form(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let saved = req.uri().query() == Some("saved=1");
    done(signed(&state, req).await.map(|s| {
        let chosen = s.session.user.ui_lang.map_or("", Lang::code);
        let langs: Vec<_> = Lang::ALL
            .iter()
            .map(|l| context! { code => l.code(), name => state.theme.string(*l, &format!("lang_{}", l.code())) })
            .collect();
        let p = Page { message: saved.then_some("admin_account_saved"), ..s.page("admin_account", "account") };
        page(&state, "admin/account.html", &p, context! { chosen, langs }, StatusCode::OK)
    }))
}

/// `POST /admin/account`: an unknown language is the browser's choice.
pub async fn save(State(state): State<Arc<AppState>>, req: Request) -> Response {
    done(
        async {
            let s = signed(&state, req).await?;
            let lang = s.field("ui_lang").and_then(|c| c.parse::<Lang>().ok());
            state.store.set_ui_lang(s.session.user.id, lang).await.map_err(|e| failed(&state, &s, &e))?;
            Ok(redirect("/admin/account?saved=1"))
        }
        .await,
    )
}
