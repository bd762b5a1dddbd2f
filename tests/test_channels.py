"""Pure parts of the channels plugin: sitemap, robots.txt, JSON Feed."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from lxml import etree

from channels import jsonfeed, sitemap

NS = {
    "s": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "x": "http://www.w3.org/1999/xhtml",
}


def test_sitemap_is_valid_xml_with_alternates():
    alternates = sitemap.with_x_default(
        [("en", "https://s.example/en/a/"), ("it", "https://s.example/a/")], "it"
    )
    text = sitemap.render(
        [
            sitemap.SitemapEntry("https://s.example/a/?x=1&y=<2>", None),
            sitemap.SitemapEntry(
                "https://s.example/a/",
                datetime(2026, 1, 2, tzinfo=UTC),
                alternates,
            ),
        ]
    )
    tree = etree.fromstring(text.encode())
    assert tree.xpath("//s:loc/text()", namespaces=NS) == [
        "https://s.example/a/",
        "https://s.example/a/?x=1&y=<2>",
    ]
    links = tree.xpath("//s:url[1]/x:link", namespaces=NS)
    assert [(link.get("hreflang"), link.get("href")) for link in links] == [
        ("en", "https://s.example/en/a/"),
        ("it", "https://s.example/a/"),
        ("x-default", "https://s.example/a/"),
    ]


def test_single_language_pages_get_no_alternates():
    assert sitemap.with_x_default([("it", "https://s.example/a/")], "it") == ()


def test_robots_txt():
    text = sitemap.robots_txt("https://s.example", ["bozze/"])
    assert "Disallow: /bozze/" in text.splitlines()
    assert "Sitemap: https://s.example/sitemap.xml" in text.splitlines()


def test_json_feed_render_and_order():
    def item(n, day):
        return jsonfeed.FeedItem(
            id=f"u{n}",
            url=f"u{n}",
            title=f"T{n}",
            content_html="<p>x</p>",
            summary="x",
            date_published=datetime(2026, 1, day, tzinfo=UTC),
            date_modified=None,
            authors=("A",),
            tags=("t",),
            language="it",
        )

    feed = jsonfeed.Feed(
        title="F",
        home_page_url="h",
        feed_url="f",
        language="it",
        description="d",
        authors=("A",),
        icon=None,
        items=jsonfeed.newest([item(1, 1), item(2, 5)], 1),
    )
    data = json.loads(jsonfeed.render(feed))
    assert data["version"] == "https://jsonfeed.org/version/1.1"
    assert [i["id"] for i in data["items"]] == ["u2"]
    assert "icon" not in data


def test_plain_text_folds_markup():
    assert (
        jsonfeed.plain_text("<p>Ciao <b>mondo</b>\n &amp; amici</p>")
        == "Ciao mondo & amici"
    )
