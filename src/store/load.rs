//! Reading a whole [`Site`] back from the database, as the renderer's snapshot.

use std::collections::{BTreeMap, HashMap};

use anyhow::{Context, Result, anyhow};
use sqlx::FromRow;
use sqlx::sqlite::SqliteRow;

use super::Store;
use crate::content::{
    Book, Contributor, DescribedText, Document, EvidenceItem, EvidenceText, Lang, Link, Localized, MediaItem, Meta,
    NewsPost, Page, PageText, PartialDate, Person, PersonText, Petition, PetitionText, PressReport, PressText, Site,
    SiteText, Source, Statement, StatementText, Status, Subject, SummaryText, TimelineEvent, TitledText,
};

/// The columns every item table shares, in this order after the type's own.
#[derive(FromRow)]
struct MetaRow {
    status: String,
    published_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl From<MetaRow> for Meta {
    fn from(r: MetaRow) -> Meta {
        Meta {
            status: Status::parse(&r.status),
            published_at: r.published_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const META: &str = "status, published_at, created_at, updated_at";

fn lang(code: &str) -> Result<Lang> {
    code.parse().map_err(|e: String| anyhow!(e))
}

fn date(s: Option<String>) -> Result<Option<PartialDate>> {
    s.map(|s| s.parse().map_err(|e: String| anyhow!(e))).transpose()
}

/// Runs a query and decodes each row with `f`.
async fn rows<T>(store: &Store, sql: String, site_id: i64, f: impl Fn(&SqliteRow) -> Result<T>) -> Result<Vec<T>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
        .bind(site_id)
        .fetch_all(&store.pool)
        .await
        .with_context(|| format!("query failed: {sql}"))?;
    rows.iter().map(f).collect()
}

/// Loads `(parent id, lang, T)` translation rows into a per-parent map.
async fn translations<T>(
    store: &Store,
    sql: String,
    site_id: i64,
    f: impl Fn(&SqliteRow) -> Result<T>,
) -> Result<HashMap<i64, Localized<T>>> {
    let mut out: HashMap<i64, Localized<T>> = HashMap::new();
    for (id, l, t) in rows(store, sql, site_id, |r| {
        use sqlx::Row;
        Ok((r.try_get::<i64, _>(0)?, lang(r.try_get::<&str, _>(1)?)?, f(r)?))
    })
    .await?
    {
        out.entry(id).or_default().insert(l, t);
    }
    Ok(out)
}

impl Store {
    /// Loads every item of a site, drafts included, sorted for display.
    pub async fn load_site(&self, site_id: i64) -> Result<Site> {
        use sqlx::Row;
        let (key, languages): (String, String) = sqlx::query_as("SELECT key, languages FROM sites WHERE id = $1")
            .bind(site_id)
            .fetch_one(&self.pool)
            .await?;
        let languages = languages.split(',').map(lang).collect::<Result<Vec<_>>>()?;
        let text: Localized<SiteText> = rows(
            self,
            "SELECT lang, name, tagline, footer FROM site_translations WHERE site_id = $1".into(),
            site_id,
            |r| {
                Ok((
                    lang(r.try_get(0)?)?,
                    SiteText { name: r.try_get(1)?, tagline: r.try_get(2)?, footer: r.try_get(3)? },
                ))
            },
        )
        .await?
        .into_iter()
        .collect();

        let subject = sqlx::query_as::<_, (String, Option<String>, Option<String>, Option<String>)>(
            "SELECT name, birth_date, birth_place, nationality FROM site_subjects WHERE site_id = $1",
        )
        .bind(site_id)
        .fetch_optional(&self.pool)
        .await?
        .map(|(name, birth, place, nationality)| -> Result<Subject> {
            Ok(Subject { name, birth_date: date(birth)?, birth_place: place, nationality })
        })
        .transpose()?;

        // Citations: (subject type, subject id) → source keys in order.
        let mut cites: HashMap<(String, i64), Vec<String>> = HashMap::new();
        for (t, id, k) in rows(
            self,
            "SELECT c.subject_type, c.subject_id, s.key FROM citations c JOIN sources s ON s.id = c.source_id \
             WHERE c.site_id = $1 ORDER BY c.subject_type, c.subject_id, c.position"
                .into(),
            site_id,
            |r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?, r.try_get::<String, _>(2)?)),
        )
        .await?
        {
            cites.entry((t, id)).or_default().push(k);
        }
        let mut cited = |t: &str, id: i64| cites.remove(&(t.to_owned(), id)).unwrap_or_default();

        let meta = |r: &SqliteRow| -> Result<Meta> { Ok(MetaRow::from_row(r)?.into()) };

        // Pages.
        let mut page_text = translations(
            self,
            "SELECT t.page_id, t.lang, t.slug, t.title, t.summary, t.body FROM page_translations t \
             JOIN pages p ON p.id = t.page_id WHERE p.site_id = $1"
                .into(),
            site_id,
            |r| {
                Ok(PageText {
                    slug: r.try_get(2)?,
                    title: r.try_get(3)?,
                    summary: r.try_get(4)?,
                    body: r.try_get(5)?,
                    ..PageText::default()
                })
            },
        )
        .await?;
        let pages = rows(
            self,
            format!(
                "SELECT p.id, p.key, p.template, mi.position, p.petition, p.image, p.{} FROM pages p \
                 LEFT JOIN menus m ON m.site_id = p.site_id AND m.key = 'main' \
                 LEFT JOIN menu_items mi ON mi.menu_id = m.id AND mi.page_id = p.id WHERE p.site_id = $1",
                META.replace(", ", ", p.")
            ),
            site_id,
            |r| {
                let id: i64 = r.try_get(0)?;
                Ok((
                    id,
                    Page {
                        key: r.try_get(1)?,
                        template: r.try_get(2)?,
                        menu_position: r.try_get(3)?,
                        petition: r.try_get(4)?,
                        image: r.try_get(5)?,
                        meta: meta(r)?,
                        ..Page::default()
                    },
                ))
            },
        )
        .await?;
        let mut pages: Vec<Page> = pages
            .into_iter()
            .map(|(id, mut p)| {
                p.text = page_text.remove(&id).unwrap_or_default();
                p.sources = cited("page", id);
                p
            })
            .collect();

        // News.
        let mut news_text = translations(
            self,
            "SELECT t.news_id, t.lang, t.slug, t.title, t.summary, t.body FROM news_translations t \
             JOIN news_posts p ON p.id = t.news_id WHERE p.site_id = $1"
                .into(),
            site_id,
            |r| {
                Ok(PageText {
                    slug: r.try_get(2)?,
                    title: r.try_get(3)?,
                    summary: r.try_get(4)?,
                    body: r.try_get(5)?,
                    ..PageText::default()
                })
            },
        )
        .await?;
        let news = rows(
            self,
            format!("SELECT id, key, date, image, {META} FROM news_posts WHERE site_id = $1"),
            site_id,
            |r| {
                Ok((
                    r.try_get::<i64, _>(0)?,
                    NewsPost {
                        key: r.try_get(1)?,
                        date: date(r.try_get(2)?)?,
                        image: r.try_get(3)?,
                        meta: meta(r)?,
                        ..NewsPost::default()
                    },
                ))
            },
        )
        .await?;
        let mut news: Vec<NewsPost> = news
            .into_iter()
            .map(|(id, mut n)| {
                n.text = news_text.remove(&id).unwrap_or_default();
                n.sources = cited("news", id);
                n
            })
            .collect();

        // Former slugs of pages and news posts.
        let history: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT item_type, item_key, lang, slug FROM slug_history WHERE site_id = $1 ORDER BY created_at, slug",
        )
        .bind(site_id)
        .fetch_all(&self.pool)
        .await?;
        for (item_type, key, code, slug) in history {
            let l = lang(&code)?;
            let text = match item_type.as_str() {
                "page" => pages.iter_mut().find(|p| p.key == key).and_then(|p| p.text.get_mut(&l)),
                _ => news.iter_mut().find(|n| n.key == key).and_then(|n| n.text.get_mut(&l)),
            };
            if let Some(t) = text {
                t.old_slugs.push(slug);
            }
        }

        // Press reports.
        let mut press_text = translations(
            self,
            "SELECT t.report_id, t.lang, t.title, t.summary, t.body FROM press_translations t \
             JOIN press_reports p ON p.id = t.report_id WHERE p.site_id = $1"
                .into(),
            site_id,
            |r| Ok(PressText { title: r.try_get(2)?, summary: r.try_get(3)?, body: r.try_get(4)? }),
        )
        .await?;
        let mut authors: HashMap<i64, Vec<String>> = HashMap::new();
        for (id, name) in rows(
            self,
            "SELECT a.report_id, a.name FROM press_authors a JOIN press_reports p ON p.id = a.report_id \
             WHERE p.site_id = $1 ORDER BY a.report_id, a.position"
                .into(),
            site_id,
            |r| Ok((r.try_get::<i64, _>(0)?, r.try_get::<String, _>(1)?)),
        )
        .await?
        {
            authors.entry(id).or_default().push(name);
        }
        let press_rows = rows(
            self,
            format!("SELECT id, key, title, outlet, date, kind, language, url, quote, {META} FROM press_reports WHERE site_id = $1"),
            site_id,
            |r| {
                Ok((
                    r.try_get::<i64, _>(0)?,
                    PressReport {
                        key: r.try_get(1)?,
                        title: r.try_get(2)?,
                        outlet: r.try_get(3)?,
                        date: date(r.try_get(4)?)?,
                        kind: r.try_get(5)?,
                        language: lang(r.try_get(6)?)?,
                        url: r.try_get(7)?,
                        quote: r.try_get(8)?,
                        meta: meta(r)?,
                        ..PressReport::default()
                    },
                ))
            },
        )
        .await?;
        let press_keys: HashMap<i64, String> = press_rows.iter().map(|(id, p)| (*id, p.key.clone())).collect();
        let press = press_rows
            .into_iter()
            .map(|(id, mut p)| {
                p.text = press_text.remove(&id).unwrap_or_default();
                p.authors = authors.remove(&id).unwrap_or_default();
                p.sources = cited("press", id);
                p
            })
            .collect();

        // Documents and media.
        let mut doc_text = translations(
            self,
            "SELECT t.document_id, t.lang, t.title, t.description FROM document_translations t \
             JOIN documents d ON d.id = t.document_id WHERE d.site_id = $1"
                .into(),
            site_id,
            |r| Ok(DescribedText { title: r.try_get(2)?, description: r.try_get(3)? }),
        )
        .await?;
        let doc_rows = rows(
            self,
            format!(
                "SELECT id, key, file_path, media_type, date, extracted_text, {META} FROM documents WHERE site_id = $1"
            ),
            site_id,
            |r| {
                Ok((
                    r.try_get::<i64, _>(0)?,
                    Document {
                        key: r.try_get(1)?,
                        file: r.try_get(2)?,
                        media_type: r.try_get(3)?,
                        date: date(r.try_get(4)?)?,
                        extracted_text: r.try_get(5)?,
                        meta: meta(r)?,
                        ..Document::default()
                    },
                ))
            },
        )
        .await?;
        let doc_keys: HashMap<i64, String> = doc_rows.iter().map(|(id, d)| (*id, d.key.clone())).collect();
        let documents = doc_rows
            .into_iter()
            .map(|(id, mut d)| {
                d.text = doc_text.remove(&id).unwrap_or_default();
                d.sources = cited("document", id);
                d
            })
            .collect();
        let mut media_text = translations(
            self,
            "SELECT t.media_id, t.lang, t.title, t.description FROM media_translations t \
             JOIN media_items m ON m.id = t.media_id WHERE m.site_id = $1"
                .into(),
            site_id,
            |r| Ok(DescribedText { title: r.try_get(2)?, description: r.try_get(3)? }),
        )
        .await?;
        let media_rows = rows(
            self,
            format!(
                "SELECT id, key, kind, provider, embed_url, page_url, date, {META} FROM media_items WHERE site_id = $1"
            ),
            site_id,
            |r| {
                Ok((
                    r.try_get::<i64, _>(0)?,
                    MediaItem {
                        key: r.try_get(1)?,
                        kind: r.try_get(2)?,
                        provider: r.try_get(3)?,
                        embed_url: r.try_get(4)?,
                        page_url: r.try_get(5)?,
                        date: date(r.try_get(6)?)?,
                        meta: meta(r)?,
                        ..MediaItem::default()
                    },
                ))
            },
        )
        .await?;
        let media_keys: HashMap<i64, String> = media_rows.iter().map(|(id, m)| (*id, m.key.clone())).collect();
        let media = media_rows
            .into_iter()
            .map(|(id, mut m)| {
                m.text = media_text.remove(&id).unwrap_or_default();
                m.sources = cited("media", id);
                m
            })
            .collect();

        // Petitions.
        let mut petition_text = translations(
            self,
            "SELECT t.petition_id, t.lang, t.title, t.summary, t.body FROM petition_translations t \
             JOIN petitions p ON p.id = t.petition_id WHERE p.site_id = $1"
                .into(),
            site_id,
            |r| Ok(PetitionText { title: r.try_get(2)?, summary: r.try_get(3)?, body: r.try_get(4)? }),
        )
        .await?;
        let petitions =
            rows(self, format!("SELECT id, key, open, goal, {META} FROM petitions WHERE site_id = $1"), site_id, |r| {
                Ok((
                    r.try_get::<i64, _>(0)?,
                    Petition {
                        key: r.try_get(1)?,
                        open: r.try_get(2)?,
                        goal: r.try_get(3)?,
                        meta: meta(r)?,
                        ..Petition::default()
                    },
                ))
            })
            .await?
            .into_iter()
            .map(|(id, mut p)| {
                p.text = petition_text.remove(&id).unwrap_or_default();
                p.sources = cited("petition", id);
                p
            })
            .collect();

        // Timeline.
        let mut tl_text = translations(
            self,
            "SELECT t.event_id, t.lang, t.title, t.body FROM timeline_translations t \
             JOIN timeline_events e ON e.id = t.event_id WHERE e.site_id = $1"
                .into(),
            site_id,
            |r| Ok(TitledText { title: r.try_get(2)?, body: r.try_get(3)? }),
        )
        .await?;
        let mut links: HashMap<i64, Vec<(String, i64)>> = HashMap::new();
        for (id, t, target) in rows(
            self,
            "SELECT l.event_id, l.target_type, l.target_id FROM timeline_links l JOIN timeline_events e ON e.id = l.event_id \
             WHERE e.site_id = $1 ORDER BY l.event_id, l.target_type, l.position"
                .into(),
            site_id,
            |r| Ok((r.try_get::<i64, _>(0)?, r.try_get::<String, _>(1)?, r.try_get::<i64, _>(2)?)),
        )
        .await?
        {
            links.entry(id).or_default().push((t, target));
        }
        let timeline = rows(
            self,
            format!("SELECT id, key, date, end_date, {META} FROM timeline_events WHERE site_id = $1"),
            site_id,
            |r| {
                Ok((
                    r.try_get::<i64, _>(0)?,
                    TimelineEvent {
                        key: r.try_get(1)?,
                        date: date(r.try_get(2)?)?,
                        end_date: date(r.try_get(3)?)?,
                        meta: meta(r)?,
                        ..TimelineEvent::default()
                    },
                ))
            },
        )
        .await?;
        let timeline = timeline
            .into_iter()
            .map(|(id, mut e)| {
                e.text = tl_text.remove(&id).unwrap_or_default();
                e.sources = cited("timeline", id);
                for (t, target) in links.remove(&id).unwrap_or_default() {
                    let (list, keys) = match t.as_str() {
                        "press" => (&mut e.press, &press_keys),
                        "document" => (&mut e.documents, &doc_keys),
                        _ => (&mut e.media, &media_keys),
                    };
                    list.extend(keys.get(&target).cloned());
                }
                e
            })
            .collect();

        // People and statements.
        let mut person_text = translations(
            self,
            "SELECT t.person_id, t.lang, t.role, t.body FROM person_translations t \
             JOIN people p ON p.id = t.person_id WHERE p.site_id = $1"
                .into(),
            site_id,
            |r| Ok(PersonText { role: r.try_get(2)?, body: r.try_get(3)? }),
        )
        .await?;
        let mut st_text = translations(
            self,
            "SELECT t.statement_id, t.lang, t.summary, t.translation FROM statement_translations t \
             JOIN statements s ON s.id = t.statement_id JOIN people p ON p.id = s.person_id WHERE p.site_id = $1"
                .into(),
            site_id,
            |r| Ok(StatementText { summary: r.try_get(2)?, translation: r.try_get(3)? }),
        )
        .await?;
        let mut statements: BTreeMap<i64, Vec<Statement>> = BTreeMap::new();
        for (person, id, mut s) in rows(
            self,
            format!(
                "SELECT s.person_id, s.id, s.key, s.date, s.quote, s.language, s.{} FROM statements s \
                 JOIN people p ON p.id = s.person_id WHERE p.site_id = $1 ORDER BY s.person_id, s.position",
                META.replace(", ", ", s.")
            ),
            site_id,
            |r| {
                Ok((
                    r.try_get::<i64, _>(0)?,
                    r.try_get::<i64, _>(1)?,
                    Statement {
                        key: r.try_get(2)?,
                        date: date(r.try_get(3)?)?,
                        quote: r.try_get(4)?,
                        language: lang(r.try_get(5)?)?,
                        meta: meta(r)?,
                        ..Statement::default()
                    },
                ))
            },
        )
        .await?
        {
            s.text = st_text.remove(&id).unwrap_or_default();
            s.sources = cited("statement", id);
            statements.entry(person).or_default().push(s);
        }
        let people = rows(
            self,
            format!("SELECT id, key, name, position, {META} FROM people WHERE site_id = $1"),
            site_id,
            |r| {
                Ok((
                    r.try_get::<i64, _>(0)?,
                    Person {
                        key: r.try_get(1)?,
                        name: r.try_get(2)?,
                        position: r.try_get(3)?,
                        meta: meta(r)?,
                        ..Person::default()
                    },
                ))
            },
        )
        .await?;
        let people = people
            .into_iter()
            .map(|(id, mut p)| {
                p.text = person_text.remove(&id).unwrap_or_default();
                p.sources = cited("person", id);
                p.statements = statements.remove(&id).unwrap_or_default();
                p
            })
            .collect();

        // Books.
        let mut book_text = translations(
            self,
            "SELECT t.book_id, t.lang, t.summary, t.body FROM book_translations t \
             JOIN books b ON b.id = t.book_id WHERE b.site_id = $1"
                .into(),
            site_id,
            |r| Ok(SummaryText { summary: r.try_get(2)?, body: r.try_get(3)? }),
        )
        .await?;
        let mut contributors: HashMap<i64, Vec<(String, String)>> = HashMap::new();
        for (id, name, role) in rows(
            self,
            "SELECT c.book_id, c.name, c.role FROM book_contributors c JOIN books b ON b.id = c.book_id \
             WHERE b.site_id = $1 ORDER BY c.book_id, c.position"
                .into(),
            site_id,
            |r| Ok((r.try_get::<i64, _>(0)?, r.try_get::<String, _>(1)?, r.try_get::<String, _>(2)?)),
        )
        .await?
        {
            contributors.entry(id).or_default().push((name, role));
        }
        let mut book_links: HashMap<i64, Vec<Link>> = HashMap::new();
        for (id, link) in rows(
            self,
            "SELECT l.book_id, l.label, l.url FROM book_links l JOIN books b ON b.id = l.book_id \
             WHERE b.site_id = $1 ORDER BY l.book_id, l.position"
                .into(),
            site_id,
            |r| Ok((r.try_get::<i64, _>(0)?, Link { label: r.try_get(1)?, url: r.try_get(2)? })),
        )
        .await?
        {
            book_links.entry(id).or_default().push(link);
        }
        let books = rows(
            self,
            format!(
                "SELECT id, key, title, year, publisher, isbn, language, cover, {META} FROM books WHERE site_id = $1"
            ),
            site_id,
            |r| {
                Ok((
                    r.try_get::<i64, _>(0)?,
                    Book {
                        key: r.try_get(1)?,
                        title: r.try_get(2)?,
                        year: r.try_get(3)?,
                        publisher: r.try_get(4)?,
                        isbn: r.try_get(5)?,
                        language: lang(r.try_get(6)?)?,
                        cover: r.try_get(7)?,
                        meta: meta(r)?,
                        ..Book::default()
                    },
                ))
            },
        )
        .await?;
        let books = books
            .into_iter()
            .map(|(id, mut b)| {
                b.text = book_text.remove(&id).unwrap_or_default();
                b.sources = cited("book", id);
                b.links = book_links.remove(&id).unwrap_or_default();
                for (name, role) in contributors.remove(&id).unwrap_or_default() {
                    if role == "author" {
                        b.authors.push(name);
                    } else {
                        b.contributors.push(Contributor { name, role });
                    }
                }
                b
            })
            .collect();

        // Evidence.
        let mut ev_text = translations(
            self,
            "SELECT t.evidence_id, t.lang, t.title, t.summary, t.contested, t.body FROM evidence_translations t \
             JOIN evidence_items e ON e.id = t.evidence_id WHERE e.site_id = $1"
                .into(),
            site_id,
            |r| {
                Ok(EvidenceText {
                    title: r.try_get(2)?,
                    summary: r.try_get(3)?,
                    contested: r.try_get(4)?,
                    body: r.try_get(5)?,
                })
            },
        )
        .await?;
        let evidence = rows(
            self,
            format!("SELECT id, key, position, {META} FROM evidence_items WHERE site_id = $1"),
            site_id,
            |r| {
                Ok((
                    r.try_get::<i64, _>(0)?,
                    EvidenceItem {
                        key: r.try_get(1)?,
                        position: r.try_get(2)?,
                        meta: meta(r)?,
                        ..EvidenceItem::default()
                    },
                ))
            },
        )
        .await?;
        let evidence = evidence
            .into_iter()
            .map(|(id, mut e)| {
                e.text = ev_text.remove(&id).unwrap_or_default();
                e.sources = cited("evidence", id);
                e
            })
            .collect();

        // Sources.
        let mut src_text = translations(
            self,
            "SELECT t.source_id, t.lang, t.citation FROM source_translations t JOIN sources s ON s.id = t.source_id WHERE s.site_id = $1"
                .into(),
            site_id,
            |r| Ok(r.try_get::<String, _>(2)?),
        )
        .await?;
        let sources = rows(
            self,
            "SELECT id, key, kind, url, press_report_id, document_id FROM sources WHERE site_id = $1 ORDER BY id"
                .into(),
            site_id,
            |r| {
                let id: i64 = r.try_get(0)?;
                Ok((
                    id,
                    Source {
                        key: r.try_get(1)?,
                        kind: r.try_get(2)?,
                        url: r.try_get(3)?,
                        press: r.try_get::<Option<i64>, _>(4)?.and_then(|p| press_keys.get(&p).cloned()),
                        document: r.try_get::<Option<i64>, _>(5)?.and_then(|d| doc_keys.get(&d).cloned()),
                        citation: Localized::new(),
                    },
                ))
            },
        )
        .await?
        .into_iter()
        .map(|(id, mut s)| {
            s.citation = src_text.remove(&id).unwrap_or_default();
            s
        })
        .collect();

        let redirects = rows(
            self,
            "SELECT from_path, to_path, status_code FROM redirects WHERE site_id = $1 ORDER BY id".into(),
            site_id,
            |r| Ok((r.try_get(0)?, r.try_get(1)?, u16::try_from(r.try_get::<i64, _>(2)?).unwrap_or(301))),
        )
        .await?;

        let mut site = Site {
            key,
            languages,
            text,
            subject,
            pages,
            news,
            timeline,
            press,
            people,
            books,
            evidence,
            documents,
            media,
            petitions,
            sources,
            redirects,
        };
        crate::bundle::sort(&mut site);
        Ok(site)
    }
}
