//! `/admin/files`: the PDFs documents show. An editor uploads one (a
//! multipart form: the file and, optionally, the name it is stored under),
//! its text is read for search in a limited child process (`crate::pdf`),
//! and a document names it in its `file` field ("New document with this
//! file" fills that in). A file is served at `/files/<name>` only while a
//! published document names it, and cannot be deleted while any document
//! does.

use std::sync::Arc;

use axum::extract::{Multipart, Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::{Value, context};

use super::items::{done, failed, not_found};
use super::{Page, Signed, page, redirect, signed};
use crate::documents::MAX_FILE_BYTES;
use crate::store::{DocumentFile, Error as StoreError};
use crate::web::state::AppState;

/// The body an upload may have: the file and a few fields.
pub const UPLOAD_BODY_LIMIT: usize = MAX_FILE_BYTES + 64 * 1024;

/// What was posted with an upload.
#[derive(Default)]
struct Upload {
    csrf: String,
    /// The name asked for, or else the uploaded file's.
    name: String,
    file: Vec<u8>,
    /// The body could not be read whole (too large, cut off).
    broken: bool,
}

/// `GET /admin/files`.
pub async fn list(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let message = match req.uri().query() {
        Some("deleted=1") => Some("admin_files_deleted"),
        Some("uploaded=1") => Some("admin_files_uploaded"),
        _ => None,
    };
    done(
        async {
            let s = signed(&state, req).await?;
            let p = Page { message, ..s.page("admin_files", "files") };
            list_page(&state, &s, &p, "", None, StatusCode::OK).await
        }
        .await,
    )
}

async fn list_page(
    state: &AppState,
    s: &Signed,
    p: &Page<'_>,
    name: &str,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, Response> {
    let files = state.store.files().await.map_err(|e| failed(state, s, &e))?;
    let documents = state.store.file_users().await.map_err(|e| failed(state, s, &e))?;
    let rows: Vec<Value> = files
        .iter()
        .map(|f| {
            let size = std::fs::metadata(state.files_dir.join(&f.name)).ok().map(|m| m.len());
            let used_by: Vec<String> =
                documents.iter().filter(|(_, file)| file == &f.name).map(|(key, _)| key.clone()).collect();
            let words = f.text.split_whitespace().count();
            context! {
                name => &f.name, size, created_at => f.created_at, created_by => &f.created_by,
                words, note => &f.note, used_by,
            }
        })
        .collect();
    let ctx = context! { rows, name, error };
    Ok(page(state, "admin/files.html", p, ctx, status))
}

/// `POST /admin/files`: checks the session, the origin and the CSRF token
/// as every admin post does, then the file; reads its text and stores it.
pub async fn upload(State(state): State<Arc<AppState>>, req: Request) -> Response {
    done(
        async {
            let (s, multipart) = super::signed_upload(&state, req).await?;
            let form = match multipart {
                Some(multipart) => read(multipart).await,
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

async fn read(mut multipart: Multipart) -> Upload {
    let mut form = Upload::default();
    let mut chosen = String::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => {
                form.broken = true;
                break;
            }
        };
        match field.name().unwrap_or("") {
            "file" => {
                form.name = field.file_name().unwrap_or("").chars().filter(|c| !c.is_control()).take(200).collect();
                match field.bytes().await {
                    Ok(bytes) => form.file = bytes.to_vec(),
                    Err(_) => {
                        form.broken = true;
                        break;
                    }
                }
            }
            "csrf" => form.csrf = field.text().await.unwrap_or_default(),
            "name" => chosen = field.text().await.unwrap_or_default().chars().take(200).collect(),
            _ => {}
        }
    }
    if !chosen.trim().is_empty() {
        form.name = chosen;
    }
    form
}

async fn store_upload(state: &Arc<AppState>, s: &Signed, form: Upload) -> Result<Response, Response> {
    let again = |key: &str| {
        let advice = state.theme.string(s.lang, "admin_media_err_again");
        format!("{} {advice}", state.theme.string(s.lang, key))
    };
    let asked = form.name.clone();
    let refuse = |error: String| {
        let asked = &asked;
        async move {
            let p = s.page("admin_files", "files");
            list_page(state, s, &p, asked, Some(error), StatusCode::UNPROCESSABLE_ENTITY).await
        }
    };
    if form.broken {
        return Err(refuse(again("admin_files_err_too_big")).await?);
    }
    if form.file.is_empty() {
        return Err(refuse(state.theme.string(s.lang, "admin_files_err_file")).await?);
    }
    let Some(name) = crate::documents::stored_name(&form.name, "pdf") else {
        return Err(refuse(again("admin_files_err_name")).await?);
    };
    if let Err(e) = crate::documents::check_content(&name, &form.file) {
        return Err(refuse(format!("{} ({e})", again("admin_files_err_pdf"))).await?);
    }
    let taken = state.theme.string(s.lang, "admin_files_err_taken").replace("{name}", &name);
    let exists = state.store.file(&name).await.map_err(|e| failed(state, s, &e))?.is_some();
    if exists || state.files_dir.join(&name).exists() {
        return Err(refuse(format!("{taken} {}", state.theme.string(s.lang, "admin_media_err_again"))).await?);
    }
    let (reader, dir, file_name) = (state.pdf_reader.clone(), state.files_dir.clone(), name.clone());
    let bytes = form.file;
    // The file first: a crash in between leaves a file no row names,
    // never a row naming a missing file. Another editor's file of the
    // same name, stored a moment ago, stands.
    let stored = tokio::task::spawn_blocking(move || {
        let new = crate::documents::store_new_file(&dir, &file_name, &bytes)?;
        Ok::<_, anyhow::Error>(new.then(|| reader.text(&bytes)))
    })
    .await;
    let text = match stored {
        Ok(Ok(Some(text))) => text,
        Ok(Ok(None)) => return Err(refuse(taken).await?),
        other => {
            tracing::error!(result = ?other.map(|r| r.map(|_| ())), "storing an uploaded file failed");
            return Err(failed(state, s, &StoreError::Corrupt("the file could not be stored".into())));
        }
    };
    if let Err(e) = &text {
        tracing::warn!(file = %name, error = %e, "an uploaded PDF's text could not be read");
    }
    let row = DocumentFile {
        name: name.clone(),
        media_type: "application/pdf".into(),
        note: text.as_ref().err().map(ToString::to_string).unwrap_or_default(),
        text: text.unwrap_or_default(),
        created_by: s.session.user.email.clone(),
        created_at: state.clock.now(),
    };
    if !state.store.add_file(&row).await.map_err(|e| failed(state, s, &e))? {
        // A row without its file (removed by hand): this file is not its.
        let _ = std::fs::remove_file(state.files_dir.join(&name));
        return Err(refuse(taken).await?);
    }
    Ok(redirect("/admin/files?uploaded=1"))
}

/// `POST /admin/files/<name>/delete`: refused while a document names it.
pub async fn delete(State(state): State<Arc<AppState>>, Path(name): Path<String>, req: Request) -> Response {
    done(
        async {
            let s = signed(&state, req).await?;
            let found = state.store.file(&name).await.map_err(|e| failed(&state, &s, &e))?;
            if found.is_none() || !crate::documents::is_file_name(&name) {
                return Err(not_found(&state, &s));
            }
            let users = state.store.file_users().await.map_err(|e| failed(&state, &s, &e))?;
            let users: Vec<String> = users.into_iter().filter(|(_, f)| *f == name).map(|(k, _)| k).collect();
            if !users.is_empty() {
                let p = Page {
                    error: Some("admin_files_in_use"),
                    detail: Some(users.join(", ")),
                    ..s.page("admin_files", "files")
                };
                return Err(list_page(&state, &s, &p, "", None, StatusCode::CONFLICT).await?);
            }
            state.store.remove_file(&name).await.map_err(|e| failed(&state, &s, &e))?;
            if let Err(e) = std::fs::remove_file(state.files_dir.join(&name)) {
                tracing::warn!(error = %e, file = %name, "a deleted file stays on the disk");
            }
            Ok(redirect("/admin/files?deleted=1"))
        }
        .await,
    )
}
