"""plugins/community/feedparser_speed.py changes how fast feedparser runs,
never what it returns: every fixture feed parses to the same result with and
without it (relative links and nested xml:base included)."""

from __future__ import annotations

import io
import warnings

import feedparser
import pytest
from feedparser.util import FeedParserDict
from feedserver import FIXTURES
from test_community_aggregate import XML_BASE

from community import feedparser_speed
from community.encoding import decode_feed

NESTED_BASES = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://a.example/one/">
  <title>Bases</title>
  <link href="home/"/>
  <entry xml:base="two/">
    <id>tag:a.example,2026:1</id>
    <title type="xhtml" xml:base="../three/">
      <div xmlns="http://www.w3.org/1999/xhtml"><a href="x">x</a></div>
    </title>
    <link href="post.html"/>
    <content type="html" xml:base="javascript:alert(1)"
      >&lt;a href="y"&gt;y&lt;/a&gt;</content>
    <summary type="xhtml" xml:base="//b.example/four/">
      <div xmlns="http://www.w3.org/1999/xhtml"><img src="z.png"/></div>
    </summary>
  </entry>
  <entry xml:base="">
    <id>/relative/id</id>
    <title>Empty base</title>
    <link href="../up.html"/>
    <source><title>Elsewhere</title><link href="src/"/></source>
  </entry>
</feed>
"""


def bodies() -> list[tuple[str, bytes]]:
    files = sorted(
        p
        for p in FIXTURES.rglob("*")
        if p.is_file() and p.suffix in (".xml", ".html", ".rss", ".atom")
    )
    found = [(str(p.relative_to(FIXTURES)), p.read_bytes()) for p in files]
    return [*found, ("xml-base", XML_BASE), ("nested-bases", NESTED_BASES)]


def parse(body: bytes) -> dict:
    """feedparser's whole result, as our parse_feed calls it; its exception
    (compared by identity otherwise) as its type and message."""
    decoded = decode_feed(body, "application/xml")
    result = feedparser.parse(
        io.BytesIO(decoded.body),
        response_headers={
            "content-location": "http://feeds.example/blog/feed.xml",
            "content-type": "application/xml; charset=utf-8",
        },
        resolve_relative_uris=False,
        sanitize_html=False,
    )
    exception = result.pop("bozo_exception", None)
    result["bozo_exception"] = (type(exception).__name__, str(exception))
    return result


@pytest.fixture
def plain_feedparser():
    feedparser_speed.uninstall()
    yield
    assert feedparser_speed.install()


def test_the_pinned_feedparser_has_what_the_speedups_replace():
    assert feedparser_speed.install()
    assert hasattr(feedparser.mixin.make_safe_absolute_uri, "cache_info")


@pytest.mark.parametrize(("name", "body"), bodies(), ids=[n for n, _ in bodies()])
def test_every_feed_parses_the_same_with_and_without_the_speedups(
    name, body, plain_feedparser
):
    plain = parse(body)
    assert feedparser_speed.install()
    fast = parse(body)
    assert fast == plain, name
    if name == "nested-bases":
        first, second = fast.entries
        assert first.link == "http://a.example/one/two/post.html"
        assert first.title_detail.base == "http://a.example/one/three/"
        assert second.link == "http://a.example/up.html"


def _reads(entry) -> dict:
    """What every way of reading an entry gives, for each of its keys, each
    alias FeedParserDict knows and each of its special names."""
    names = set(entry) | set(FeedParserDict.keymap) | {"category", "enclosures"}
    names |= {"license", "updated", "updated_parsed", "absent"}
    seen = {}
    with warnings.catch_warnings():  # "updated" falling back to "published"
        warnings.simplefilter("ignore", DeprecationWarning)
        for name in sorted(names):
            try:
                item = entry[name]
            except KeyError:
                item = KeyError
            seen[name] = (item, entry.get(name, "default"), name in entry)
    return seen


@pytest.mark.parametrize(("name", "body"), bodies(), ids=[n for n, _ in bodies()])
def test_entries_read_the_same_with_and_without_the_speedups(
    name, body, plain_feedparser
):
    """Key aliases (``guid`` for ``id``, ``description`` for ``summary``) and
    the special names read as feedparser's own FeedParserDict reads them."""
    plain = [_reads(e) for e in parse(body).entries]
    assert feedparser_speed.install()
    fast = [_reads(e) for e in parse(body).entries]
    assert fast == plain, name
