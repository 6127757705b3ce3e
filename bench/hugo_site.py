#!/usr/bin/env python3
"""The same generated news posts twice: as a Casefile bundle and as a Hugo
site, for bench/hugo.sh.

    python3 bench/hugo_site.py POSTS BUNDLE_DIR HUGO_DIR

Every post has an English and a German version (title, summary, slug, a date,
one to three cited sources, a body of about 500 words of Markdown with
paragraphs, a heading, a list, a link and bold text), generated from a small
vocabulary with a fixed seed, so every run writes the same sites. The Hugo
site is multilingual (post-N.md and post-N.de.md), with small layouts of its
own (no theme), news lists of 20 a page, RSS, sitemap and robots.txt, and no
taxonomies: one page per post and language, as Casefile exports. Its
en-only.toml, added to config.toml, builds the English pages alone.
"""

import datetime
import json
import os
import random
import shutil
import sys

EN = (
    "the court evidence pardon Virginia DNA samples petition governor campaign confession investigator "
    "trial sentence extradition footprint fingerprint witness lawyer appeal Bedford report documentary "
    "parole release record analysis judge jury prosecutor defence statement hearing letter archive "
    "and of to in that was for with on as by from not new old which after before"
).split()
DE = (
    "der die das Gericht Beweise Begnadigung Virginia DNA Proben Petition Gouverneur Kampagne Geständnis "
    "Ermittler Prozess Urteil Auslieferung Fußabdruck Fingerabdruck Zeuge Anwältin Berufung Bedford Bericht "
    "Dokumentarfilm Bewährung Freilassung Akte Gutachten Richter Geschworene Staatsanwaltschaft Verteidigung "
    "Aussage Anhörung Brief Archiv Überprüfung und von zu im dass war für mit auf als durch aus nicht neue "
    "alte nach vor über"
).split()
SOURCES = 40
START = datetime.date(2000, 1, 1)


def toml_str(s):
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(s, ensure_ascii=False)


def cap(s):
    return s[:1].upper() + s[1:]


def slugify(s):
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        s = s.lower().replace(a, b)
    out = "".join(c if c.isascii() and c.isalnum() else "-" for c in s)
    return "-".join(p for p in out.split("-") if p)


class Words:
    def __init__(self, rng, vocab):
        self.rng, self.vocab = rng, vocab

    def words(self, n):
        return [self.rng.choice(self.vocab) for _ in range(n)]

    def sentence(self):
        w = self.words(self.rng.randint(8, 18))
        return cap(" ".join(w)) + "."

    def paragraph(self, n):
        out, count = [], 0
        while count < n:
            s = self.sentence()
            out.append(s)
            count += len(s.split())
        return " ".join(out)


def body(w, i, lang):
    """About 500 words: four paragraphs, a heading, a list, a link, bold."""
    p1 = w.paragraph(90).split(" ")
    # Bold two words in the first paragraph, and link three in the third.
    k = len(p1) // 3
    p1[k] = "**" + p1[k]
    p1[k + 1] = p1[k + 1] + "**"
    p3 = w.paragraph(130).split(" ")
    k = len(p3) // 2
    p3[k] = "[" + p3[k]
    p3[k + 2] = p3[k + 2] + "](https://records.example/" + lang + "/case/" + str(i) + ")"
    heading = "## " + cap(" ".join(w.words(4)))
    items = "\n".join("- " + w.sentence() for _ in range(4))
    return "\n\n".join([" ".join(p1), heading, w.paragraph(130), items, " ".join(p3), w.paragraph(110)])


def text(w, i, lang):
    title = cap(" ".join(w.words(6))) + " " + str(i)
    return {
        "title": title,
        "slug": slugify(title),
        "summary": cap(" ".join(w.words(25))) + ".",
        "body": body(w, i, lang),
    }


def write(path, content):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(content)


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: hugo_site.py POSTS BUNDLE_DIR HUGO_DIR")
    posts, bundle, hugo = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    rng = random.Random(20261126)
    words = {"en": Words(rng, EN), "de": Words(rng, DE)}
    repo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

    # Sources, cited by the posts: sources.toml for Casefile, a data file for Hugo.
    sources = []
    for k in range(1, SOURCES + 1):
        sources.append(
            {
                "id": f"src-{k}",
                "url": f"https://sources.example/report-{k}",
                "en": f"Report {k} on the case, {1990 + k % 30}",
                "de": f"Bericht {k} zum Fall, {1990 + k % 30}",
            }
        )
    write(
        f"{bundle}/sources.toml",
        "".join(
            f'[[source]]\nid = "{s["id"]}"\nkind = "url"\nurl = "{s["url"]}"\nen = {toml_str(s["en"])}\nde = {toml_str(s["de"])}\n\n'
            for s in sources
        ),
    )
    write(
        f"{hugo}/data/sources.toml",
        "".join(
            f'[{s["id"]}]\nurl = "{s["url"]}"\nen = {toml_str(s["en"])}\nde = {toml_str(s["de"])}\n\n' for s in sources
        ),
    )

    site = {
        "en": ("Casefile benchmark", "News of a campaign that posts for years", "A generated site for the benchmark."),
        "de": ("Casefile-Messung", "Neuigkeiten einer Kampagne, die seit Jahren schreibt", "Eine erzeugte Website für die Messung."),
    }
    write(
        f"{bundle}/site.toml",
        'key = "bench"\ndefault_language = "en"\nlanguages = ["en", "de"]\n\n'
        '[operator]\nname = "Bench"\nemail = "bench@bench.example"\n\n'
        + "".join(
            f"[{l}]\nname = {toml_str(n)}\ntagline = {toml_str(t)}\nfooter = {toml_str(f)}\n\n"
            for l, (n, t, f) in site.items()
        ),
    )
    hugo_langs = {"en": ("English", 1), "de": ("Deutsch", 2)}
    write(
        f"{hugo}/config.toml",
        'baseURL = "https://bench.example/"\n'
        'defaultContentLanguage = "en"\n'
        "defaultContentLanguageInSubdir = false\n"
        # Casefile writes /news/<slug> as news/<slug>.html: the same layout.
        "uglyURLs = true\n"
        "buildFuture = true\n"
        "enableRobotsTXT = true\n"
        "paginate = 20\n"
        'disableKinds = ["taxonomy", "term"]\n\n'
        + "".join(
            f"[languages.{l}]\nlanguageName = {toml_str(name)}\nweight = {weight}\ntitle = {toml_str(site[l][0])}\n"
            f"[languages.{l}.params]\ndescription = {toml_str(site[l][1])}\nfooter = {toml_str(site[l][2])}\n\n"
            for l, (name, weight) in hugo_langs.items()
        ),
    )
    # The target's Hugo side is 10,000 pages: the same posts in English
    # only (`hugo --config config.toml,en-only.toml`).
    write(f"{hugo}/en-only.toml", 'disableLanguages = ["de"]\n')

    # The home and news pages, with a short body each.
    pages = {
        "home": ("home", {"en": "", "de": ""}, None),
        "news": ("news", {"en": "news", "de": "neuigkeiten"}, 90),
    }
    titles = {"home": {"en": "Casefile benchmark", "de": "Casefile-Messung"}, "news": {"en": "News", "de": "Neuigkeiten"}}
    for key, (template, slugs, menu) in pages.items():
        texts = {l: {"summary": words[l].sentence(), "body": words[l].paragraph(120)} for l in ("en", "de")}
        fm = f'+++\ntemplate = "{template}"\n' + (f"menu = {menu}\n" if menu else "") + 'sources = ["src-1"]\n\n'
        for l in ("en", "de"):
            fm += f'[{l}]\nslug = "{slugs[l]}"\ntitle = {toml_str(titles[key][l])}\nsummary = {toml_str(texts[l]["summary"])}\n\n'
        write(
            f"{bundle}/pages/{key}.md",
            fm.rstrip("\n") + "\n+++\n" + "".join(f"::: {l}\n{texts[l]['body']}\n\n" for l in ("en", "de")),
        )
        folder = f"{hugo}/content" + ("/news" if key == "news" else "")
        for l in ("en", "de"):
            name = "_index.md" if l == "en" else f"_index.{l}.md"
            extra = 'menu = "main"\nweight = 90\n' if menu else ""
            write(
                f"{folder}/{name}",
                f'+++\ntitle = {toml_str(titles[key][l])}\nsummary = {toml_str(texts[l]["summary"])}\n'
                f'sources = ["src-1"]\n{extra}+++\n{texts[l]["body"]}\n',
            )

    # The posts, dated over 24 years up to 2024, the newest last.
    for i in range(posts):
        date = (START + datetime.timedelta(days=i * 8760 // max(posts, 1))).isoformat()
        cites = sorted(rng.sample(range(1, SOURCES + 1), rng.randint(1, 3)))
        cites = "[" + ", ".join(f'"src-{k}"' for k in cites) + "]"
        t = {l: text(words[l], i, l) for l in ("en", "de")}
        fm = f'+++\ndate = "{date}"\nsources = {cites}\n\n'
        for l in ("en", "de"):
            fm += f'[{l}]\nslug = "{t[l]["slug"]}"\ntitle = {toml_str(t[l]["title"])}\nsummary = {toml_str(t[l]["summary"])}\n\n'
        write(
            f"{bundle}/news/post-{i}.md",
            fm.rstrip("\n") + "\n+++\n" + "".join(f"::: {l}\n{t[l]['body']}\n\n" for l in ("en", "de")),
        )
        for l in ("en", "de"):
            name = f"post-{i}.md" if l == "en" else f"post-{i}.{l}.md"
            write(
                f"{hugo}/content/news/{name}",
                f'+++\ntitle = {toml_str(t[l]["title"])}\ndate = "{date}"\nslug = "{t[l]["slug"]}"\n'
                f'summary = {toml_str(t[l]["summary"])}\nsources = {cites}\n+++\n{t[l]["body"]}\n',
            )

    # Hugo's static files: the same assets Casefile's pages load.
    for name in ("style.css", "favicon.svg", "media.js"):
        src = os.path.join(repo, "assets", name)
        if os.path.exists(src):
            os.makedirs(f"{hugo}/static", exist_ok=True)
            shutil.copy(src, f"{hugo}/static/{name}")
    for name, content in LAYOUTS.items():
        write(f"{hugo}/layouts/{name}", content.lstrip("\n"))


# Small, realistic layouts, in the shape of Casefile's templates: head with
# description, canonical, hreflang alternates and feed; header with the
# language switch and menu; the post with its date, lede, body and numbered
# sources; news lists of 20 a page with a pager; the home with the latest 3.
NOTES = """
{{ with .Params.sources }}
<section class="notes">
  <h2>{{ if eq $.Lang "de" }}Quellen{{ else }}Sources{{ end }}</h2>
  <ol>
  {{ range $i, $k := . }}{{ $s := index site.Data.sources $k }}
    <li id="note-{{ add $i 1 }}"><a href="{{ $s.url }}">{{ index $s $.Lang }}</a></li>
  {{ end }}
  </ol>
</section>
{{ end }}
"""
LAYOUTS = {
    "_default/baseof.html": """
<!doctype html>
<html lang="{{ .Lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ if .IsHome }}{{ site.Title }}{{ else }}{{ .Title }} · {{ site.Title }}{{ end }}</title>
<meta name="description" content="{{ with .Params.summary }}{{ . }}{{ else }}{{ site.Params.description }}{{ end }}">
<link rel="canonical" href="{{ .Permalink }}">
{{ range .AllTranslations }}<link rel="alternate" hreflang="{{ .Lang }}" href="{{ .Permalink }}">
{{ end }}
{{ with site.GetPage "/news" }}{{ with .OutputFormats.Get "rss" }}<link rel="alternate" type="application/rss+xml" href="{{ .Permalink }}">{{ end }}{{ end }}
<meta property="og:site_name" content="{{ site.Title }}">
<meta property="og:title" content="{{ .Title }}">
<meta property="og:url" content="{{ .Permalink }}">
<meta property="og:type" content="{{ if .IsPage }}article{{ else }}website{{ end }}">
<link rel="stylesheet" href="{{ "style.css" | absURL }}">
<link rel="icon" href="{{ "favicon.svg" | absURL }}" type="image/svg+xml">
<script src="{{ "media.js" | absURL }}" defer></script>
</head>
<body>
<header class="site-header">
  <div class="bar">
    <a class="site-name" href="{{ site.Home.RelPermalink }}">{{ site.Title }}</a>
    <nav class="lang-switch"><ul>
    {{ range .AllTranslations }}<li>{{ if eq .Lang $.Lang }}<span aria-current="true">{{ .Language.LanguageName }}</span>{{ else }}<a href="{{ .RelPermalink }}" hreflang="{{ .Lang }}">{{ .Language.LanguageName }}</a>{{ end }}</li>{{ end }}
    </ul></nav>
  </div>
  <nav class="main-nav"><ul>
  {{ range site.Menus.main }}<li><a href="{{ .URL }}">{{ .Name }}</a></li>{{ end }}
  </ul></nav>
</header>
<main id="main">
{{ block "main" . }}{{ end }}
</main>
<footer class="site-footer"><p>{{ site.Params.footer }}</p></footer>
</body>
</html>
""",
    "_default/single.html": """
{{ define "main" }}
<article class="news-item">
  <p class="meta"><time datetime="{{ .Date.Format "2006-01-02" }}">{{ .Date | time.Format ":date_long" }}</time></p>
  <h1>{{ .Title }}</h1>
  <p class="lede">{{ .Params.summary }}</p>
  <div class="prose">{{ .Content }}</div>
</article>
""" + NOTES + """
<p><a href="{{ .Parent.RelPermalink }}">{{ if eq .Lang "de" }}Alle Neuigkeiten{{ else }}All news{{ end }}</a></p>
{{ end }}
""",
    "_default/list.html": """
{{ define "main" }}
<h1>{{ .Title }}</h1>
<div class="prose">{{ .Content }}</div>
<ul class="news-list">
{{ range (.Paginate .Pages).Pages }}
  <li>
    <time datetime="{{ .Date.Format "2006-01-02" }}">{{ .Date | time.Format ":date_long" }}</time>
    <h2><a href="{{ .RelPermalink }}">{{ .Title }}</a></h2>
    <p>{{ .Params.summary }}</p>
  </li>
{{ end }}
</ul>
{{ template "_internal/pagination.html" . }}
""" + NOTES + """
{{ end }}
""",
    "index.html": """
{{ define "main" }}
<section class="hero">
  <h1>{{ .Title }}</h1>
  <p class="lede">{{ .Params.summary }}</p>
</section>
<div class="prose">{{ .Content }}</div>
<section class="latest">
  <h2>{{ if eq .Lang "de" }}Neueste Meldungen{{ else }}Latest news{{ end }}</h2>
  <ul class="news-list">
  {{ range first 3 (where site.RegularPages "Section" "news") }}
    <li>
      <time datetime="{{ .Date.Format "2006-01-02" }}">{{ .Date | time.Format ":date_long" }}</time>
      <a href="{{ .RelPermalink }}">{{ .Title }}</a>
      <p>{{ .Params.summary }}</p>
    </li>
  {{ end }}
  </ul>
</section>
""" + NOTES + """
{{ end }}
""",
    "404.html": """
{{ define "main" }}
<h1>{{ if eq .Lang "de" }}Seite nicht gefunden{{ else }}Page not found{{ end }}</h1>
{{ end }}
""",
}

if __name__ == "__main__":
    main()
