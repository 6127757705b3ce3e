//! The theme: templates, UI strings and assets.
//!
//! The built-in theme is embedded in the binary. An operator can override
//! any template or asset by putting a file with the same name under
//! `<data>/theme/templates/` or `<data>/theme/assets/`; it is read once at
//! start-up (never relative to the working directory at request time).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};

use super::RenderError;
use minijinja::{Environment, Value};
use rust_embed::Embed;

use super::assets::Assets;
use super::{dates, to_value};
use crate::content::{Lang, PartialDate};

#[derive(Embed)]
#[folder = "templates/"]
struct BuiltinTemplates;

/// Templates, strings and assets, ready to render with.
pub struct Theme {
    env: Environment<'static>,
    strings: BTreeMap<Lang, Value>,
    /// The hashed static files.
    pub assets: Assets,
}

impl Theme {
    /// Loads the built-in theme, with overrides from `theme_dir` if it exists.
    pub fn load(theme_dir: Option<&Path>) -> Result<Theme> {
        let mut env = Environment::new();
        // Templates are named *.html, so minijinja escapes every value by
        // default; only the `markdown` filter's sanitised output is marked safe.
        // Optional fields are absent from the serialised items; lenient
        // undefined lets templates test them with a plain `if`.
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Lenient);
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .build()
                .expect("valid syntax"),
        );
        for name in BuiltinTemplates::iter() {
            let over = theme_dir.map(|d| d.join("templates").join(name.as_ref())).filter(|p| p.is_file());
            let source = match over {
                Some(p) => std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?,
                None => {
                    let file = BuiltinTemplates::get(&name).expect("listed");
                    String::from_utf8(file.data.into_owned()).context("template is not UTF-8")?
                }
            };
            env.add_template_owned(name.into_owned(), source).context("parsing a template")?;
        }
        env.add_filter("markdown", |s: &str| Value::from_safe_string(crate::markdown::to_html(s)));
        env.add_filter("date", |s: &str, lang: &str| -> String { format_date(s, None, lang) });
        env.add_filter("timestamp", |t: i64, lang: &str| -> String {
            dates::timestamp(t, lang.parse().unwrap_or(Lang::En))
        });
        env.add_filter("iso_date", |t: i64| -> String { dates::ymd(t) });
        env.add_filter("date_range", |s: &str, end: Option<String>, lang: &str| -> String {
            format_date(s, end.as_deref(), lang)
        });

        let mut strings = BTreeMap::new();
        for (lang, text) in
            [(Lang::En, include_str!("../../i18n/en.toml")), (Lang::De, include_str!("../../i18n/de.toml"))]
        {
            let map: BTreeMap<String, String> = toml::from_str(text).with_context(|| format!("i18n/{lang}.toml"))?;
            strings.insert(lang, to_value(&map));
        }
        let assets = Assets::load(theme_dir.map(|d| d.join("assets")).as_deref())?;
        Ok(Theme { env, strings, assets })
    }

    /// The UI strings of a language, as a template value.
    pub fn strings(&self, lang: Lang) -> Value {
        self.strings[&lang].clone()
    }

    /// One UI string.
    pub fn string(&self, lang: Lang, key: &str) -> String {
        self.strings[&lang]
            .get_attr(key)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| key.to_owned())
    }

    /// Renders a template with a context.
    pub fn render(&self, template: &str, ctx: Value) -> Result<String, RenderError> {
        let error = |source| RenderError { template: template.to_owned(), source };
        self.env.get_template(template).and_then(|t| t.render(ctx)).map_err(error)
    }
}

fn format_date(start: &str, end: Option<&str>, lang: &str) -> String {
    let lang: Lang = lang.parse().unwrap_or(Lang::En);
    match start.parse::<PartialDate>() {
        Ok(d) => dates::format_range(d, end.and_then(|e| e.parse().ok()), lang),
        Err(_) => start.to_owned(),
    }
}
