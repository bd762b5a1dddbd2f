"""Category and tag listings per language: labels, English addresses, redirects."""

from __future__ import annotations

import json

import feedparser
import pytest
from conftest import ROOT
from lxml import etree, html
from pelican.settings import DEFAULT_CONFIG, read_settings
from pelican.urlwrappers import Category, Tag

from multilang.listings import Listings
from piazza import redirects
from piazza.nginxconf import SAMPLE

SETTINGS = {
    **DEFAULT_CONFIG,
    "DEFAULT_LANG": "it",
    "LANGUAGES": {"it": {}, "en": {}},
    "CATEGORY_URL": "categoria/{slug}/",
    "CATEGORY_SAVE_AS": "categoria/{slug}/index.html",
    "TAG_URL": "tag/{slug}/",
    "TAG_SAVE_AS": "tag/{slug}/index.html",
    "CATEGORY_LABELS": {"moto": {"it": "Moto", "en": "Motorcycles"}},
    "TAG_LABELS": {"storia": {"en": "history"}, "listino": {"en": "price list"}},
    "CATEGORY_LANG_URL": "{lang}/category/{slug}/",
    "CATEGORY_LANG_SAVE_AS": "{lang}/category/{slug}/index.html",
    "TAG_LANG_URL": "{lang}/tag/{slug}/",
    "TAG_LANG_SAVE_AS": "{lang}/tag/{slug}/index.html",
}


def test_a_label_gives_the_name_and_the_address_in_its_language():
    listings = Listings(SETTINGS)
    tag, moto = Tag("listino", SETTINGS), Category("Moto", SETTINGS)
    assert listings.label(tag, "en") == "price list"
    assert listings.label(tag, "it") == "listino"
    assert listings.url(tag, "en") == "en/tag/price-list/"
    assert listings.url(tag, "it") == "tag/listino/"
    assert listings.url(moto, "en") == "en/category/motorcycles/"
    assert listings.save_as(moto, "en") == "en/category/motorcycles/index.html"
    unlabelled = Tag("sebino 800", SETTINGS)
    assert listings.label(unlabelled, "en") == "sebino 800"
    assert listings.url(unlabelled, "en") == "en/tag/sebino-800/"


def test_without_a_language_pattern_a_listing_stays_under_the_prefix():
    settings = {k: v for k, v in SETTINGS.items() if "_LANG_" not in k}
    listings = Listings(settings)
    assert listings.url(Tag("storia", settings), "en") == "en/tag/storia/"
    assert listings.moved(["it", "en"]) == []


def test_every_page_of_a_listing_has_its_other_language_page_as_alternate():
    listings = Listings(SETTINGS)
    storia = Tag("storia", SETTINGS)
    alternates = listings.alternates(
        storia, "en/tag/history/pagina/2/index.html", "en", ["it", "en"]
    )
    assert [(a.lang, a.url, a.current) for a in alternates] == [
        ("en", "en/tag/history/pagina/2/", True),
        ("it", "tag/storia/pagina/2/", False),
    ]


def test_moved_listings_become_nginx_map_entries():
    moves = redirects.moved(SETTINGS)
    assert [(m.old, m.new, m.every) for m in moves] == [
        ("en/categoria/moto/", "en/category/motorcycles/", False),
        ("en/categoria/", "en/category/", True),
        ("en/tag/listino/", "en/tag/price-list/", False),
        ("en/tag/storia/", "en/tag/history/", False),
    ]
    entries = redirects.map_entries(moves)
    assert entries[0] == (
        '"~^/en/categoria/moto/(?<piazza_moved_rest>.*)$" '
        "/en/category/motorcycles/$piazza_moved_rest;"
    )
    assert "(?<piazza_moved_rest>.+)$" in entries[1], "never the bare /en/categoria/"


def test_the_nginx_sample_has_the_redirects_the_settings_make():
    settings = read_settings(str(ROOT / "pelicanconf.py"))
    text = SAMPLE.read_text(encoding="utf-8")
    expected = redirects.update(text, redirects.moved(settings), str(SAMPLE))
    assert text == expected, "deploy/nginx.conf is out of date: run `invoke redirects`"


def test_the_generated_block_needs_its_markers():
    with pytest.raises(redirects.RedirectsError, match="no '# BEGIN moved listings"):
        redirects.update("http {}\n", [], "nginx.conf")


# --- The built site ------------------------------------------------------------


def _doc(site, rel: str) -> html.HtmlElement:
    return html.fromstring((site.output / rel / "index.html").read_bytes())


def test_english_pages_show_english_tags_at_english_addresses(published_site):
    site = published_site.siteurl
    post = _doc(published_site, "en/2025/sebino-800-dieci-anni")
    tags = post.xpath('//p[@class="tags"]/a')
    assert [a.text for a in tags] == ["#sebino 800", "#anniversary", "#history"]
    assert [a.get("href") for a in tags] == [
        f"{site}/en/tag/sebino-800/",
        f"{site}/en/tag/anniversary/",
        f"{site}/en/tag/history/",
    ]
    assert post.xpath('//meta[@property="article:tag"]/@content') == [
        "sebino 800",
        "anniversary",
        "history",
    ]
    [category] = post.xpath('//p[@class="byline"]/a[contains(@href, "/category/")]')
    assert category.get("href") == f"{site}/en/category/motorcycles/"
    assert category.text == "Motorcycles"
    ld = json.loads(post.xpath('string(//script[@type="application/ld+json"])'))
    assert ld["keywords"] == ["sebino 800", "anniversary", "history"]
    assert ld["articleSection"] == "Motorcycles"
    italian = _doc(published_site, "2025/sebino-800-dieci-anni")
    assert [a.text for a in italian.xpath('//p[@class="tags"]/a')] == [
        "#sebino 800",
        "#anniversario",
        "#storia",
    ]


def test_english_listings_link_each_other_and_their_italian_pages(published_site):
    site = published_site.siteurl
    history = _doc(published_site, "en/tag/history")
    assert " ".join(history.xpath("string(//h1)").split()) == "Tag: history"
    alternates = {
        link.get("hreflang"): link.get("href")
        for link in history.xpath('//head/link[@rel="alternate"][@hreflang]')
    }
    assert alternates == {
        "en": f"{site}/en/tag/history/",
        "it": f"{site}/tag/storia/",
        "x-default": f"{site}/tag/storia/",
    }
    storia = _doc(published_site, "tag/storia")
    assert f"{site}/en/tag/history/" in storia.xpath("//a[@hreflang='en']/@href")
    company = _doc(published_site, "en/category/company")
    assert " ".join(company.xpath("string(//h1)").split()) == "Category: Company"
    categories = _doc(published_site, "en/categorie")
    assert f"{site}/en/category/company/" in categories.xpath("//main//a/@href")
    tags = _doc(published_site, "en/tag")
    assert f"{site}/en/tag/history/" in tags.xpath("//main//a/@href")
    assert not (published_site.output / "en" / "categoria").exists()
    assert not (published_site.output / "en" / "tag" / "storia").exists()


def test_the_sitemap_and_feeds_follow(published_site):
    site = published_site.siteurl
    sitemap = etree.parse(str(published_site.output / "sitemap.xml"))
    ns = {
        "s": "http://www.sitemaps.org/schemas/sitemap/0.9",
        "x": "http://www.w3.org/1999/xhtml",
    }
    [entry] = sitemap.xpath(f"//s:url[s:loc='{site}/tag/storia/']", namespaces=ns)
    assert entry.xpath("x:link[@hreflang='en']/@href", namespaces=ns) == [
        f"{site}/en/tag/history/"
    ]
    assert not sitemap.xpath("//s:loc[contains(., '/en/categoria/')]", namespaces=ns)
    feed = feedparser.parse(str(published_site.output / "feeds" / "all-en.atom.xml"))
    entry = next(e for e in feed.entries if e.link.endswith("/sebino-800-dieci-anni/"))
    assert {t.term for t in entry.tags} == {
        "Motorcycles",
        "sebino 800",
        "anniversary",
        "history",
    }
    data = json.loads((published_site.output / "feeds" / "en.json").read_text())
    item = next(
        i for i in data["items"] if i["url"].endswith("/sebino-800-dieci-anni/")
    )
    assert item["tags"] == ["sebino 800", "anniversary", "history"]
