//! Writing a whole [`Site`] into an empty database, in one transaction.

use std::collections::HashMap;

use anyhow::{Context, Result, bail};
use sqlx::{Sqlite, Transaction};

use super::{Store, now};
use crate::content::{DescribedText, Localized, Meta, PageText, Site};

type Tx<'a> = Transaction<'a, Sqlite>;

/// Imports a parsed bundle as a new site; returns its id. Fails (and writes
/// nothing) if a site with the same key exists.
pub async fn import_site(store: &Store, site: &Site) -> Result<i64> {
    if store.site_id(&site.key).await?.is_some() {
        bail!("a site with the key `{}` exists already", site.key);
    }
    let mut tx = store.pool.begin().await?;
    let ts = now();
    let langs: Vec<&str> = site.languages.iter().map(|l| l.code()).collect();
    let site_id: i64 = sqlx::query_scalar(
        "INSERT INTO sites (key, default_lang, languages, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id",
    )
    .bind(&site.key)
    .bind(site.default_lang().code())
    .bind(langs.join(","))
    .bind(ts)
    .fetch_one(&mut *tx)
    .await?;
    for (l, t) in &site.text {
        sqlx::query("INSERT INTO site_translations (site_id, lang, name, tagline, footer) VALUES ($1, $2, $3, $4, $5)")
            .bind(site_id)
            .bind(l.code())
            .bind(&t.name)
            .bind(&t.tagline)
            .bind(&t.footer)
            .execute(&mut *tx)
            .await?;
    }
    if let Some(s) = &site.subject {
        sqlx::query("INSERT INTO site_subjects (site_id, name, birth_date, birth_place, nationality) VALUES ($1, $2, $3, $4, $5)")
            .bind(site_id)
            .bind(&s.name)
            .bind(s.birth_date.map(|d| d.to_string()))
            .bind(&s.birth_place)
            .bind(&s.nationality)
            .execute(&mut *tx)
            .await?;
    }
    let mut w = Writer { tx, site_id, ts, sources: HashMap::new() };
    w.write_all(site).await.with_context(|| format!("importing site `{}`", site.key))?;
    sqlx::query("INSERT INTO content_version (site_id, version) VALUES ($1, 1)")
        .bind(site_id)
        .execute(&mut *w.tx)
        .await?;
    w.tx.commit().await?;
    Ok(site_id)
}

struct Writer<'a> {
    tx: Tx<'a>,
    site_id: i64,
    ts: i64,
    /// Source key → row id, for citations.
    sources: HashMap<String, i64>,
}

impl Writer<'_> {
    async fn write_all(&mut self, site: &Site) -> Result<()> {
        let (site_id, ts) = (self.site_id, self.ts);

        let mut press_ids = HashMap::new();
        for p in &site.press {
            let id = self
                .item(
                    "INSERT INTO press_reports (site_id, key, title, outlet, date, kind, language, url, quote, status, published_at, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
                    &p.key,
                    &p.meta,
                    |q| {
                        q.bind(p.title.clone())
                            .bind(p.outlet.clone())
                            .bind(p.date.map(|d| d.to_string()))
                            .bind(p.kind.clone())
                            .bind(p.language.code())
                            .bind(p.url.clone())
                            .bind(p.quote.clone())
                    },
                )
                .await?;
            for (i, name) in p.authors.iter().enumerate() {
                sqlx::query("INSERT INTO press_authors (report_id, position, name) VALUES ($1, $2, $3)")
                    .bind(id)
                    .bind(i as i64)
                    .bind(name)
                    .execute(&mut *self.tx)
                    .await?;
            }
            for (l, t) in &p.text {
                sqlx::query("INSERT INTO press_translations (report_id, lang, title, summary, body) VALUES ($1, $2, $3, $4, $5)")
                    .bind(id)
                    .bind(l.code())
                    .bind(&t.title)
                    .bind(&t.summary)
                    .bind(&t.body)
                    .execute(&mut *self.tx)
                    .await?;
            }
            press_ids.insert(p.key.clone(), id);
        }

        let mut doc_ids = HashMap::new();
        for d in &site.documents {
            let id = self
                .item(
                    "INSERT INTO documents (site_id, key, file_path, media_type, date, extracted_text, status, published_at, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
                    &d.key,
                    &d.meta,
                    |q| {
                        q.bind(d.file.clone())
                            .bind(d.media_type.clone())
                            .bind(d.date.map(|x| x.to_string()))
                            .bind(d.extracted_text.clone())
                    },
                )
                .await?;
            self.described("document_translations", "document_id", id, &d.text).await?;
            doc_ids.insert(d.key.clone(), id);
        }

        let mut media_ids = HashMap::new();
        let mut petition_ids = HashMap::new();
        for m in &site.media {
            let id = self
                .item(
                    "INSERT INTO media_items (site_id, key, kind, provider, embed_url, page_url, date, status, published_at, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
                    &m.key,
                    &m.meta,
                    |q| {
                        q.bind(m.kind.clone())
                            .bind(m.provider.clone())
                            .bind(m.embed_url.clone())
                            .bind(m.page_url.clone())
                            .bind(m.date.map(|x| x.to_string()))
                    },
                )
                .await?;
            self.described("media_translations", "media_id", id, &m.text).await?;
            media_ids.insert(m.key.clone(), id);
        }

        for p in &site.petitions {
            let id = self
                .item(
                    "INSERT INTO petitions (site_id, key, open, goal, status, published_at, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
                    &p.key,
                    &p.meta,
                    |q| q.bind(p.open).bind(p.goal),
                )
                .await?;
            for (l, t) in &p.text {
                sqlx::query("INSERT INTO petition_translations (petition_id, lang, title, summary, body) VALUES ($1, $2, $3, $4, $5)")
                    .bind(id)
                    .bind(l.code())
                    .bind(&t.title)
                    .bind(&t.summary)
                    .bind(&t.body)
                    .execute(&mut *self.tx)
                    .await?;
            }
            petition_ids.insert(p.key.clone(), id);
        }

        for s in &site.sources {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO sources (site_id, key, kind, url, press_report_id, document_id, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
            )
            .bind(site_id)
            .bind(&s.key)
            .bind(&s.kind)
            .bind(&s.url)
            .bind(s.press.as_ref().and_then(|k| press_ids.get(k)))
            .bind(s.document.as_ref().and_then(|k| doc_ids.get(k)))
            .bind(ts)
            .fetch_one(&mut *self.tx)
            .await?;
            for (l, c) in &s.citation {
                sqlx::query("INSERT INTO source_translations (source_id, lang, citation) VALUES ($1, $2, $3)")
                    .bind(id)
                    .bind(l.code())
                    .bind(c)
                    .execute(&mut *self.tx)
                    .await?;
            }
            self.sources.insert(s.key.clone(), id);
        }
        for (key, id) in &press_ids {
            let p = site.press.iter().find(|p| &p.key == key).expect("imported above");
            self.cite("press", *id, &p.sources).await?;
        }
        for d in &site.documents {
            self.cite("document", doc_ids[&d.key], &d.sources).await?;
        }
        for m in &site.media {
            self.cite("media", media_ids[&m.key], &m.sources).await?;
        }
        for p in &site.petitions {
            self.cite("petition", petition_ids[&p.key], &p.sources).await?;
        }

        let menu_id: i64 = sqlx::query_scalar("INSERT INTO menus (site_id, key) VALUES ($1, 'main') RETURNING id")
            .bind(site_id)
            .fetch_one(&mut *self.tx)
            .await?;
        for p in &site.pages {
            let id = self
                .item(
                    "INSERT INTO pages (site_id, key, template, petition, image, status, published_at, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
                    &p.key,
                    &p.meta,
                    |q| q.bind(p.template.clone()).bind(p.petition.clone()).bind(p.image.clone()),
                )
                .await?;
            for (l, t) in &p.text {
                sqlx::query("INSERT INTO page_translations (page_id, lang, slug, title, summary, body) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(id)
                    .bind(l.code())
                    .bind(&t.slug)
                    .bind(&t.title)
                    .bind(&t.summary)
                    .bind(&t.body)
                    .execute(&mut *self.tx)
                    .await?;
            }
            if let Some(pos) = p.menu_position {
                sqlx::query("INSERT INTO menu_items (menu_id, position, page_id) VALUES ($1, $2, $3)")
                    .bind(menu_id)
                    .bind(pos)
                    .bind(id)
                    .execute(&mut *self.tx)
                    .await?;
            }
            self.cite("page", id, &p.sources).await?;
            self.slug_history("page", &p.key, &p.text).await?;
        }

        for n in &site.news {
            let id = self
                .item(
                    "INSERT INTO news_posts (site_id, key, date, image, status, published_at, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
                    &n.key,
                    &n.meta,
                    |q| q.bind(n.date.map(|d| d.to_string())).bind(n.image.clone()),
                )
                .await?;
            for (l, t) in &n.text {
                sqlx::query("INSERT INTO news_translations (news_id, lang, slug, title, summary, body) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(id)
                    .bind(l.code())
                    .bind(&t.slug)
                    .bind(&t.title)
                    .bind(&t.summary)
                    .bind(&t.body)
                    .execute(&mut *self.tx)
                    .await?;
            }
            self.cite("news", id, &n.sources).await?;
            self.slug_history("news", &n.key, &n.text).await?;
        }

        for e in &site.timeline {
            let id = self
                .item(
                    "INSERT INTO timeline_events (site_id, key, date, end_date, status, published_at, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
                    &e.key,
                    &e.meta,
                    |q| q.bind(e.date.map(|d| d.to_string())).bind(e.end_date.map(|d| d.to_string())),
                )
                .await?;
            for (l, t) in &e.text {
                sqlx::query("INSERT INTO timeline_translations (event_id, lang, title, body) VALUES ($1, $2, $3, $4)")
                    .bind(id)
                    .bind(l.code())
                    .bind(&t.title)
                    .bind(&t.body)
                    .execute(&mut *self.tx)
                    .await?;
            }
            for (kind, keys, ids) in
                [("press", &e.press, &press_ids), ("document", &e.documents, &doc_ids), ("media", &e.media, &media_ids)]
            {
                for (i, k) in keys.iter().enumerate() {
                    sqlx::query("INSERT INTO timeline_links (event_id, target_type, target_id, position) VALUES ($1, $2, $3, $4)")
                        .bind(id)
                        .bind(kind)
                        .bind(ids[k])
                        .bind(i as i64)
                        .execute(&mut *self.tx)
                        .await?;
                }
            }
            self.cite("timeline", id, &e.sources).await?;
        }

        for p in &site.people {
            let id = self
                .item(
                    "INSERT INTO people (site_id, key, name, position, status, published_at, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
                    &p.key,
                    &p.meta,
                    |q| q.bind(p.name.clone()).bind(p.position),
                )
                .await?;
            for (l, t) in &p.text {
                sqlx::query("INSERT INTO person_translations (person_id, lang, role, body) VALUES ($1, $2, $3, $4)")
                    .bind(id)
                    .bind(l.code())
                    .bind(&t.role)
                    .bind(&t.body)
                    .execute(&mut *self.tx)
                    .await?;
            }
            self.cite("person", id, &p.sources).await?;
            for (i, s) in p.statements.iter().enumerate() {
                let sid: i64 = sqlx::query_scalar(
                    "INSERT INTO statements (person_id, key, position, date, quote, language, status, published_at, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
                )
                .bind(id)
                .bind(&s.key)
                .bind(i as i64)
                .bind(s.date.map(|d| d.to_string()))
                .bind(&s.quote)
                .bind(s.language.code())
                .bind(s.meta.status.as_str())
                .bind(s.meta.published_at)
                .bind(ts)
                .fetch_one(&mut *self.tx)
                .await?;
                for (l, t) in &s.text {
                    sqlx::query("INSERT INTO statement_translations (statement_id, lang, summary, translation) VALUES ($1, $2, $3, $4)")
                        .bind(sid)
                        .bind(l.code())
                        .bind(&t.summary)
                        .bind(&t.translation)
                        .execute(&mut *self.tx)
                        .await?;
                }
                self.cite("statement", sid, &s.sources).await?;
            }
        }

        for b in &site.books {
            let id = self
                .item(
                    "INSERT INTO books (site_id, key, title, year, publisher, isbn, language, cover, status, published_at, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
                    &b.key,
                    &b.meta,
                    |q| {
                        q.bind(b.title.clone())
                            .bind(b.year)
                            .bind(b.publisher.clone())
                            .bind(b.isbn.clone())
                            .bind(b.language.code())
                            .bind(b.cover.clone())
                    },
                )
                .await?;
            let people = b
                .authors
                .iter()
                .map(|a| (a.as_str(), "author"))
                .chain(b.contributors.iter().map(|c| (c.name.as_str(), c.role.as_str())));
            for (i, (name, role)) in people.enumerate() {
                sqlx::query("INSERT INTO book_contributors (book_id, position, name, role) VALUES ($1, $2, $3, $4)")
                    .bind(id)
                    .bind(i as i64)
                    .bind(name)
                    .bind(role)
                    .execute(&mut *self.tx)
                    .await?;
            }
            for (i, link) in b.links.iter().enumerate() {
                sqlx::query("INSERT INTO book_links (book_id, position, label, url) VALUES ($1, $2, $3, $4)")
                    .bind(id)
                    .bind(i as i64)
                    .bind(&link.label)
                    .bind(&link.url)
                    .execute(&mut *self.tx)
                    .await?;
            }
            for (l, t) in &b.text {
                sqlx::query("INSERT INTO book_translations (book_id, lang, summary, body) VALUES ($1, $2, $3, $4)")
                    .bind(id)
                    .bind(l.code())
                    .bind(&t.summary)
                    .bind(&t.body)
                    .execute(&mut *self.tx)
                    .await?;
            }
            self.cite("book", id, &b.sources).await?;
        }

        for e in &site.evidence {
            let id = self
                .item(
                    "INSERT INTO evidence_items (site_id, key, position, status, published_at, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
                    &e.key,
                    &e.meta,
                    |q| q.bind(e.position),
                )
                .await?;
            for (l, t) in &e.text {
                sqlx::query("INSERT INTO evidence_translations (evidence_id, lang, title, summary, contested, body) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(id)
                    .bind(l.code())
                    .bind(&t.title)
                    .bind(&t.summary)
                    .bind(&t.contested)
                    .bind(&t.body)
                    .execute(&mut *self.tx)
                    .await?;
            }
            self.cite("evidence", id, &e.sources).await?;
        }

        for (from, to, status) in &site.redirects {
            sqlx::query("INSERT INTO redirects (site_id, from_path, to_path, status_code, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(site_id)
                .bind(from)
                .bind(to)
                .bind(i64::from(*status))
                .bind(ts)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    /// Inserts one item row. The statement's first two parameters are the
    /// site id and the key; `bind` adds the type's own columns; status,
    /// publication time and the created/updated time come last.
    async fn item<'q>(
        &mut self,
        sql: &'static str,
        key: &str,
        meta: &Meta,
        bind: impl FnOnce(
            sqlx::query::QueryScalar<'q, Sqlite, i64, sqlx::sqlite::SqliteArguments>,
        ) -> sqlx::query::QueryScalar<'q, Sqlite, i64, sqlx::sqlite::SqliteArguments>,
    ) -> Result<i64> {
        let q = sqlx::query_scalar(sql).bind(self.site_id).bind(key.to_owned());
        let id = bind(q)
            .bind(meta.status.as_str())
            .bind(meta.published_at)
            .bind(self.ts)
            .fetch_one(&mut *self.tx)
            .await
            .with_context(|| format!("inserting `{key}`"))?;
        Ok(id)
    }

    /// Inserts the title/description translations of documents and media.
    async fn described(
        &mut self,
        table: &'static str,
        fk: &'static str,
        id: i64,
        text: &Localized<DescribedText>,
    ) -> Result<()> {
        for (l, t) in text {
            let sql = format!("INSERT INTO {table} ({fk}, lang, title, description) VALUES ($1, $2, $3, $4)");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .bind(l.code())
                .bind(&t.title)
                .bind(&t.description)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    async fn slug_history(&mut self, item_type: &str, key: &str, text: &Localized<PageText>) -> Result<()> {
        for (l, t) in text {
            for slug in &t.old_slugs {
                sqlx::query(
                    "INSERT INTO slug_history (site_id, item_type, item_key, lang, slug, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(self.site_id)
                .bind(item_type)
                .bind(key)
                .bind(l.code())
                .bind(slug)
                .bind(self.ts)
                .execute(&mut *self.tx)
                .await?;
            }
        }
        Ok(())
    }

    async fn cite(&mut self, subject_type: &str, subject_id: i64, keys: &[String]) -> Result<()> {
        for (i, k) in keys.iter().enumerate() {
            let Some(source_id) = self.sources.get(k) else { bail!("unknown source `{k}`") };
            sqlx::query("INSERT INTO citations (site_id, subject_type, subject_id, position, source_id) VALUES ($1, $2, $3, $4, $5)")
                .bind(self.site_id)
                .bind(subject_type)
                .bind(subject_id)
                .bind(i as i64)
                .bind(source_id)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }
}
