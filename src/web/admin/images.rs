//! `/admin/images`: images editors upload (a multipart form: the file and
//! its description per language), see, describe and delete. The files are
//! made by `crate::media`; a text shows one with `![alt](media:<key>)`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Multipart, Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::{Value, context};

use super::items::{done, failed};
use super::{Page, Signed, page, redirect, signed};
use crate::content::Lang;
use crate::media::{MAX_UPLOAD_BYTES, Refused};
use crate::store::{Error as StoreError, MediaFile};
use crate::web::state::AppState;

/// The body an upload may have: the file and a few fields.
pub const UPLOAD_BODY_LIMIT: usize = MAX_UPLOAD_BYTES + 64 * 1024;

/// What was posted with an upload, and what is wrong with it.
#[derive(Default)]
struct Upload {
    csrf: String,
    name: String,
    file: Vec<u8>,
    alt: BTreeMap<Lang, String>,
    errors: BTreeMap<String, String>,
}

/// `GET /admin/images`.
pub async fn list(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let deleted = req.uri().query() == Some("deleted=1");
    done(
        async {
            let s = signed(&state, req).await?;
            let p = Page { message: deleted.then_some("admin_media_deleted"), ..s.page("admin_media", "images") };
            list_page(&state, &s, &p, &Upload::default(), StatusCode::OK).await
        }
        .await,
    )
}

async fn list_page(
    state: &AppState,
    s: &Signed,
    p: &Page<'_>,
    form: &Upload,
    status: StatusCode,
) -> Result<Response, Response> {
    let rows = state.store.media(state.site_id).await.map_err(|e| failed(state, s, &e))?;
    let rows: Vec<Value> = rows
        .iter()
        .map(|m| {
            let thumb = crate::media::widths(m.width as u32)[0];
            context! { key => &m.key, name => &m.name, width => m.width, height => m.height, thumb, alt => m.alt_in(s.lang.code()) }
        })
        .collect();
    let langs = langs(state, s, &form.alt, &form.errors);
    let ctx = context! { rows, langs, errors => &form.errors };
    Ok(page(state, "admin/images.html", p, ctx, status))
}

/// The site's languages with a value and an error each, for a form.
fn langs(
    state: &AppState,
    s: &Signed,
    values: &BTreeMap<Lang, String>,
    errors: &BTreeMap<String, String>,
) -> Vec<Value> {
    state
        .index()
        .site
        .languages
        .iter()
        .map(|&l| {
            context! {
                code => l.code(),
                name => super::lang_name(state, s.lang, l),
                value => values.get(&l).cloned().unwrap_or_default(),
                error => errors.get(&format!("alt.{}", l.code())),
            }
        })
        .collect()
}

/// `POST /admin/images`: checks the session, the origin and the CSRF token
/// as every admin post does, then the file and the descriptions.
pub async fn upload(State(state): State<Arc<AppState>>, req: Request) -> Response {
    done(
        async {
            let (s, multipart) = super::signed_upload(&state, req).await?;
            let form = match multipart {
                Some(multipart) => read(multipart, &state).await,
                None => Upload::default(),
            };
            if let Some(refused) = super::upload_csrf(&state, &s, &form.csrf) {
                return Err(refused);
            }
            store_upload(&state, &s, form).await
        }
        .await,
    )
}

async fn read(mut multipart: Multipart, state: &AppState) -> Upload {
    let mut form = Upload::default();
    let langs = state.index().site.languages.clone();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => {
                form.errors.insert("file".into(), "admin_media_err_too_big".into());
                break;
            }
        };
        let name = field.name().unwrap_or("").to_owned();
        if name == "file" {
            form.name = field.file_name().unwrap_or("").chars().filter(|c| !c.is_control()).take(200).collect();
            match field.bytes().await {
                Ok(bytes) => form.file = bytes.to_vec(),
                Err(_) => {
                    form.errors.insert("file".into(), "admin_media_err_too_big".into());
                    break;
                }
            }
            continue;
        }
        let Ok(text) = field.text().await else { continue };
        match name.as_str() {
            "csrf" => form.csrf = text,
            other => {
                if let Some(lang) = other.strip_prefix("alt.").and_then(|c| c.parse::<Lang>().ok())
                    && langs.contains(&lang)
                {
                    form.alt.insert(lang, text.trim().chars().take(300).collect());
                }
            }
        }
    }
    form
}

async fn store_upload(state: &Arc<AppState>, s: &Signed, mut form: Upload) -> Result<Response, Response> {
    let string = |k: &str| state.theme.string(s.lang, k);
    let keys: Vec<(String, String)> = form.errors.iter().map(|(f, k)| (f.clone(), string(k))).collect();
    form.errors = keys.into_iter().collect();
    if form.file.is_empty() && form.errors.is_empty() {
        form.errors.insert("file".into(), string("admin_media_err_file"));
    }
    for l in &state.index().site.languages {
        if form.alt.get(l).is_none_or(|a| a.is_empty()) {
            form.errors.insert(format!("alt.{}", l.code()), string("admin_media_err_alt"));
        }
    }
    let processed = if form.errors.is_empty() {
        let bytes = std::mem::take(&mut form.file);
        match tokio::task::spawn_blocking(move || crate::media::process(&bytes)).await {
            Ok(Ok(p)) => Some(p),
            Ok(Err(refused)) => {
                form.errors.insert("file".into(), refused_text(state, s, &refused));
                None
            }
            Err(_) => {
                form.errors.insert("file".into(), string("admin_error"));
                None
            }
        }
    } else {
        None
    };
    let Some(image) = processed else {
        if !form.errors.contains_key("file") {
            form.errors.insert("file".into(), string("admin_media_err_again"));
        }
        let p = s.page("admin_media", "images");
        return list_page(state, s, &p, &form, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let files = state.files_dir.clone();
    let stored = {
        let files = files.clone();
        tokio::task::spawn_blocking(move || crate::media::store(&files, &image).map(|()| image)).await
    };
    let image = match stored {
        Ok(Ok(image)) => image,
        other => {
            tracing::error!(result = ?other.map(|r| r.map(|_| ())), "storing an upload failed");
            return Err(failed(state, s, &StoreError::Corrupt("the image could not be stored".into())));
        }
    };
    let alt: BTreeMap<&str, &String> = form.alt.iter().map(|(l, a)| (l.code(), a)).collect();
    let row = MediaFile {
        key: image.key.clone(),
        name: if form.name.is_empty() { image.key.clone() } else { form.name.clone() },
        width: i64::from(image.width),
        height: i64::from(image.height),
        bytes: image.original.len() as i64,
        alt: serde_json::to_string(&alt).unwrap_or_else(|_| "{}".into()),
        created_by: s.session.user.email.clone(),
        created_at: state.clock.now(),
    };
    // The same image again keeps what the library says of it; the page
    // says so, so that descriptions typed now are not thought saved.
    let new = state.store.add_media(state.site_id, &row).await.map_err(|e| failed(state, s, &e))?;
    Ok(redirect(&format!("/admin/images/{}?{}=1", image.key, if new { "uploaded" } else { "known" })))
}

fn refused_text(state: &AppState, s: &Signed, refused: &Refused) -> String {
    // The reason is the media module's (English); the advice is the UI's.
    format!("{} ({refused})", state.theme.string(s.lang, "admin_media_err_again"))
}

/// `GET /admin/images/<key>`.
pub async fn show(State(state): State<Arc<AppState>>, Path(key): Path<String>, req: Request) -> Response {
    let message = match req.uri().query() {
        Some("uploaded=1") => Some("admin_media_uploaded"),
        Some("known=1") => Some("admin_media_known"),
        _ => None,
    };
    done(
        async {
            let s = signed(&state, req).await?;
            let m = find(&state, &s, &key).await?;
            let p = Page { message, ..s.page("admin_media", "images") };
            file_page(&state, &s, &p, &m, &BTreeMap::new(), StatusCode::OK).await
        }
        .await,
    )
}

async fn find(state: &AppState, s: &Signed, key: &str) -> Result<MediaFile, Response> {
    match state.store.media_file(state.site_id, key).await {
        Ok(Some(m)) => Ok(m),
        Ok(None) => Err(super::items::not_found(state, s)),
        Err(e) => Err(failed(state, s, &e)),
    }
}

async fn file_page(
    state: &AppState,
    s: &Signed,
    p: &Page<'_>,
    m: &MediaFile,
    errors: &BTreeMap<String, String>,
    status: StatusCode,
) -> Result<Response, Response> {
    let used_by = state.store.media_used_by(state.site_id, &m.key).await.map_err(|e| failed(state, s, &e))?;
    let values: BTreeMap<Lang, String> =
        state.index().site.languages.iter().map(|&l| (l, m.alt_in(l.code()))).collect();
    let picture = crate::markdown::picture(&m.key, &m.alt_in(s.lang.code()));
    let ctx = context! { m => context! { key => &m.key, name => &m.name, width => m.width, height => m.height, bytes => m.bytes }, picture, used_by, langs => langs(state, s, &values, errors) };
    Ok(page(state, "admin/image.html", p, ctx, status))
}

/// `POST /admin/images/<key>`: new descriptions.
pub async fn save(State(state): State<Arc<AppState>>, Path(key): Path<String>, req: Request) -> Response {
    done(
        async {
            let s = signed(&state, req).await?;
            let m = find(&state, &s, &key).await?;
            let mut alt = BTreeMap::new();
            let mut errors = BTreeMap::new();
            for l in state.index().site.languages.iter() {
                let value: String =
                    s.field(&format!("alt.{}", l.code())).unwrap_or("").trim().chars().take(300).collect();
                if value.is_empty() {
                    errors.insert(format!("alt.{}", l.code()), state.theme.string(s.lang, "admin_media_err_alt"));
                }
                alt.insert(l.code(), value);
            }
            if !errors.is_empty() {
                let p = s.page("admin_media", "images");
                return file_page(&state, &s, &p, &m, &errors, StatusCode::UNPROCESSABLE_ENTITY).await;
            }
            let json = serde_json::to_string(&alt).unwrap_or_else(|_| "{}".into());
            state.store.set_media_alt(state.site_id, &key, &json).await.map_err(|e| failed(&state, &s, &e))?;
            Ok(redirect(&format!("/admin/images/{key}")))
        }
        .await,
    )
}

/// `POST /admin/images/<key>/delete`: refused while a text shows it.
pub async fn delete(State(state): State<Arc<AppState>>, Path(key): Path<String>, req: Request) -> Response {
    done(
        async {
            let s = signed(&state, req).await?;
            let m = find(&state, &s, &key).await?;
            match state.store.delete_media(state.site_id, &key).await {
                Ok(unused) => {
                    // Another site's copy of the same image keeps its files.
                    let folder = crate::media::folder(&state.files_dir, &m.key);
                    if unused && let Err(e) = std::fs::remove_dir_all(&folder) {
                        tracing::warn!(error = %e, folder = %folder.display(), "the files of a deleted image stay");
                    }
                    Ok(redirect("/admin/images?deleted=1"))
                }
                Err(StoreError::Conflict(detail)) => {
                    let p = Page {
                        error: Some("admin_media_in_use"),
                        detail: Some(detail),
                        ..s.page("admin_media", "images")
                    };
                    file_page(&state, &s, &p, &m, &BTreeMap::new(), StatusCode::CONFLICT).await
                }
                Err(e) => Err(failed(&state, &s, &e)),
            }
        }
        .await,
    )
}
