"""The sample site, built with the production settings, checked by parsing it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest
from lxml import etree, html

from piazza.newpost import read_header

ROOT = Path(__file__).resolve().parents[1]
POSTS = ROOT / "content" / "posts"
PAGES = ROOT / "content" / "pages"
TZ = ZoneInfo("Europe/Rome")
NS = {
    "s": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "x": "http://www.w3.org/1999/xhtml",
}


@dataclass(frozen=True)
class Source:
    path: Path
    title: str
    slug: str
    lang: str
    date: datetime | None
    published: bool
    category: str

    def url(self) -> str:
        prefix = "" if self.lang == "it" else f"{self.lang}/"
        if self.date is None:  # a page
            return f"{prefix}{self.slug}/"
        return f"{prefix}{self.date:%Y}/{self.slug}/"


def _sources(folder: Path) -> list[Source]:
    now = datetime.now(TZ)
    sources = []
    for path in sorted(folder.glob("*.md")):
        meta = read_header(path)
        date = (
            datetime.strptime(meta["date"][:16], "%Y-%m-%d %H:%M").replace(tzinfo=TZ)
            if "date" in meta
            else None
        )
        published = meta.get("status", "published") != "draft" and (
            date is None or date <= now
        )
        sources.append(
            Source(
                path,
                meta["title"],
                meta["slug"],
                meta.get("lang", "it"),
                date,
                published,
                meta.get("category", ""),
            )
        )
    return sources


POST_SOURCES = _sources(POSTS)
PAGE_SOURCES = _sources(PAGES)


def _page(site, url: str) -> html.HtmlElement:
    path = (
        site.output / url / "index.html"
        if url.endswith("/") or not url
        else site.output / url
    )
    assert path.is_file(), f"{url} was not written ({path})"
    return html.fromstring(path.read_bytes())


def _hreflangs(doc: html.HtmlElement) -> dict[str, str]:
    return {
        link.get("hreflang"): link.get("href")
        for link in doc.xpath('//head/link[@rel="alternate"][@hreflang]')
    }


def test_sample_content_is_rich_enough():
    published = [s for s in POST_SOURCES if s.published]
    italian = {s.slug for s in published if s.lang == "it"}
    english = {s.slug for s in published if s.lang == "en"}
    assert len(italian) >= 8
    assert len(english & italian) >= len(italian) // 2, "most posts are translated"
    assert any(
        not s.published and s.date and s.date > datetime.now(TZ) for s in POST_SOURCES
    )
    assert any(read_header(s.path).get("status") == "draft" for s in POST_SOURCES)
    assert {s.slug for s in PAGE_SOURCES} >= {
        "chi-siamo",
        "regole-della-comunita",
        "privacy",
    }


@pytest.mark.parametrize(
    "source",
    [s for s in POST_SOURCES + PAGE_SOURCES if s.published],
    ids=lambda s: s.path.name,
)
def test_every_published_version_exists_with_reciprocal_hreflang(
    published_site, source
):
    doc = _page(published_site, source.url())
    assert doc.get("lang") == source.lang
    assert " ".join(doc.xpath("string(//main//h1)").split()) == source.title
    siblings = [
        s
        for s in POST_SOURCES + PAGE_SOURCES
        if s.slug == source.slug
        and s.published
        and (s.date is None) == (source.date is None)
    ]
    links = _hreflangs(doc)
    if len(siblings) == 1:
        assert not links, f"{source.url()} has no translation, so no hreflang"
        return
    expected = {s.lang: f"{published_site.siteurl}/{s.url()}" for s in siblings}
    assert {k: v for k, v in links.items() if k != "x-default"} == expected
    assert links["x-default"] == expected["it"]
    for other in siblings:
        other_links = _hreflangs(_page(published_site, other.url()))
        assert other_links[source.lang] == f"{published_site.siteurl}/{source.url()}"


def test_canonical_and_social_meta_on_articles(published_site):
    source = next(s for s in POST_SOURCES if s.published and s.lang == "en")
    doc = _page(published_site, source.url())
    url = f"{published_site.siteurl}/{source.url()}"
    assert doc.xpath('string(//link[@rel="canonical"]/@href)') == url
    meta = {
        m.get("property") or m.get("name"): m.get("content")
        for m in doc.xpath("//meta")
    }
    assert meta["og:url"] == url
    assert meta["og:type"] == "article"
    assert meta["og:title"] == source.title
    assert meta["og:locale"] == "en_GB"
    assert meta["twitter:card"] == "summary_large_image"
    assert meta["og:image"].startswith(published_site.siteurl)
    ld = json.loads(doc.xpath('string(//script[@type="application/ld+json"])'))
    assert ld["@type"] == "BlogPosting"
    assert ld["headline"] == source.title
    assert ld["inLanguage"] == "en"
    assert ld["url"] == url
    assert datetime.fromisoformat(ld["datePublished"]) == source.date
    assert ld["author"][0]["name"]


def test_drafts_and_future_posts_are_absent(published_site):
    hidden = [s for s in POST_SOURCES if not s.published]
    assert hidden
    public_slugs = {s.slug for s in POST_SOURCES if s.published}
    written = [
        p.relative_to(published_site.output).as_posix()
        for p in published_site.output.rglob("*")
    ]
    everything = "\n".join(
        p.read_text(encoding="utf-8", errors="replace")
        for p in published_site.output.rglob("*")
        if p.suffix in {".html", ".xml", ".json", ".txt"}
    )
    for source in hidden:
        assert source.slug not in public_slugs
        assert not any(source.slug in path for path in written), source.path.name
        assert source.slug not in everything, f"{source.path.name} is linked somewhere"
        assert source.title not in everything, f"{source.path.name} is listed somewhere"


def _published(lang: str | None = None, category: str | None = None) -> list[Source]:
    return [
        s
        for s in POST_SOURCES
        if s.published
        and (lang is None or s.lang == lang)
        and (category is None or s.category == category)
    ]


@pytest.mark.parametrize(
    ("feed", "expected"),
    [
        ("feeds/all.atom.xml", _published),
        ("feeds/all.rss.xml", _published),
        ("feeds/all-it.atom.xml", lambda: _published("it")),
        ("feeds/all-en.atom.xml", lambda: _published("en")),
    ],
)
def test_feeds_parse_and_hold_the_right_entries(published_site, feed, expected):
    parsed = feedparser.parse((published_site.output / feed).read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    links = {e.link for e in parsed.entries}
    assert links == {f"{published_site.siteurl}/{s.url()}" for s in expected()}


def test_category_feeds(published_site):
    categories = {s.category for s in _published("it")}
    assert len(categories) >= 3
    for path in sorted((published_site.output / "feeds").glob("categoria-*.atom.xml")):
        parsed = feedparser.parse(path.read_bytes())
        assert not parsed.bozo
        assert parsed.entries, path.name
    assert len(
        list((published_site.output / "feeds").glob("categoria-*.atom.xml"))
    ) == len(categories)


@pytest.mark.parametrize("lang", ["it", "en"])
def test_json_feed_follows_the_1_1_spec(published_site, lang):
    feed = json.loads((published_site.output / f"feeds/{lang}.json").read_text("utf-8"))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(feed["title"], str) and feed["title"]
    assert feed["feed_url"] == f"{published_site.siteurl}/feeds/{lang}.json"
    assert feed["home_page_url"].startswith(published_site.siteurl)
    assert feed["language"] == lang
    assert isinstance(feed["items"], list)
    assert {i["url"] for i in feed["items"]} == {
        f"{published_site.siteurl}/{s.url()}" for s in _published(lang)
    }
    for item in feed["items"]:
        assert isinstance(item["id"], str) and item["id"]
        assert item.get("content_html") or item.get("content_text")
        datetime.fromisoformat(item["date_published"])  # RFC 3339
        assert all("name" in a for a in item["authors"])
    dates = [i["date_published"] for i in feed["items"]]
    assert dates == sorted(dates, reverse=True)


def _public_pages(site) -> set[str]:
    pages = set()
    for path in site.output.rglob("*.html"):
        rel = path.relative_to(site.output).as_posix()
        doc = html.fromstring(path.read_bytes())
        if doc.xpath('//meta[@name="robots"][contains(@content, "noindex")]'):
            continue
        url = rel[: -len("index.html")] if rel.endswith("index.html") else rel
        pages.add(f"{site.siteurl}/{url}")
    return pages


def test_sitemap_lists_every_public_page(published_site):
    tree = etree.parse(str(published_site.output / "sitemap.xml"))
    locs = set(tree.xpath("//s:url/s:loc/text()", namespaces=NS))
    assert locs == _public_pages(published_site)
    # translated posts carry their alternates, themselves and x-default included
    source = next(s for s in _published("en"))
    url = f"{published_site.siteurl}/{source.url()}"
    alternates = {
        a.get("hreflang"): a.get("href")
        for a in tree.xpath(f'//s:url[s:loc="{url}"]/x:link', namespaces=NS)
    }
    assert alternates["en"] == url
    assert set(alternates) == {"it", "en", "x-default"}


def test_robots_txt_points_to_the_sitemap(published_site):
    robots = (published_site.output / "robots.txt").read_text()
    assert f"Sitemap: {published_site.siteurl}/sitemap.xml" in robots.splitlines()


def test_english_listings_show_posts_in_english(published_site):
    doc = _page(published_site, "en/")
    assert doc.get("lang") == "en"
    titles = {
        a.text_content().strip()
        for a in doc.xpath('//article[contains(@class,"card")]//h2/a')
    }
    english_titles = {s.title for s in _published("en")}
    assert titles and titles <= english_titles | {s.title for s in _published("it")}
    assert titles & english_titles
    assert doc.xpath('string(//a[@class="skip-link"])') == "Skip to content"
    it_doc = _page(published_site, "")
    assert it_doc.xpath('string(//a[@class="skip-link"])') == "Vai al contenuto"


def test_no_broken_internal_links_or_assets(published_site):
    from piazza.check import check_site, format_report

    report = check_site(
        published_site.output, published_site.siteurl, https_required=False
    )
    assert report.ok, format_report(report)


def test_every_content_image_has_alt_text(published_site):
    for path in published_site.output.rglob("*.html"):
        for img in html.fromstring(path.read_bytes()).xpath("//main//img"):
            assert img.get("alt", "").strip(), f"{path}: {img.get('src')} has no alt"


def test_figure_with_caption_is_rendered(published_site):
    figures = [
        (path, fig)
        for path in published_site.output.rglob("*.html")
        for fig in html.fromstring(path.read_bytes()).xpath("//main//figure")
    ]
    assert figures
    for path, fig in figures:
        assert fig.xpath(".//figcaption"), path
        src = fig.xpath("string(.//img/@src)")
        assert src.startswith(published_site.siteurl)
        assert (
            published_site.output / src[len(published_site.siteurl) + 1 :]
        ).is_file()
