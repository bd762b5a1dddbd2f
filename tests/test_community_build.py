"""The Community section as built into the site: from the shipped snapshot,
from a cache full of hostile entries, from no feeds at all, and from a broken
feeds.toml."""

from __future__ import annotations

import filecmp
import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from conftest import ROOT, build_site, run_pelican
from feedserver import FeedServer
from lxml import etree, html
from markup import assert_no_executable_markup
from test_community_encoding import CASES as ENCODING_CASES
from test_community_encoding import ENCODINGS, make_encodings
from test_community_encoding import content_type as encoding_content_type
from test_html_validity import vnu_errors
from test_sanitize import FORBIDDEN

from community.aggregate import run_aggregate
from community.settings import CommunitySettings
from community.subscriptions import load_subscriptions
from community.view import sort_key

SNAPSHOT = ROOT / "content" / "community" / "cache"
DEMO_FEEDS = ROOT / "content" / "community" / "feeds.toml"
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def page(site: Path, path: str) -> html.HtmlElement:
    return html.parse(str(site / path)).getroot()


def snapshot_entries() -> list[dict]:
    found = []
    for path in sorted((SNAPSHOT / "entries").glob("*.json")):
        found += json.loads(path.read_text())["entries"]
    return found


# --- The demo, from the shipped snapshot ------------------------------------------


def test_the_community_section_shows_every_snapshot_entry_newest_first(
    published_site,
):
    root = page(published_site.output, "comunita/index.html")
    cards = root.cssselect("article.community-card")
    expected = sorted(snapshot_entries(), key=lambda e: e["date"], reverse=True)
    assert len(cards) == len(expected) > 10
    titles = [c.cssselect(".community-card__title")[0].text_content() for c in cards]
    assert titles == [e["title"] for e in expected]
    dates = [c.cssselect("time")[0].get("datetime") for c in cards]
    assert dates == sorted(dates, reverse=True)
    first = cards[0]
    link = first.cssselect(".community-card__title a")[0]
    assert link.get("href") == expected[0]["link"]
    assert link.get("rel") == "nofollow noopener ugc"
    source = first.cssselect(".community-source")[0]
    assert source.get("href").endswith("/comunita/fonti/moto-club-sebino/")
    assert source.cssselect("img.community-avatar")[0].get("alt")
    # The club's classified ads are excluded in feeds.toml.
    assert "Mercatino" not in root.text_content()


def test_each_source_has_its_page_in_both_languages(published_site):
    feeds = load_subscriptions(DEMO_FEEDS)
    for sub in feeds:
        for prefix in ("", "en/"):
            root = page(
                published_site.output, f"{prefix}comunita/fonti/{sub.slug}/index.html"
            )
            assert root.cssselect("h1")[0].text_content().strip() == sub.name
            held = json.loads((SNAPSHOT / "entries" / f"{sub.slug}.json").read_text())
            assert len(root.cssselect("article.community-card")) == len(
                [
                    e
                    for e in held["entries"]
                    if sub.wants(e["title"], tuple(e["categories"]))
                ]
            )


def test_the_home_page_shows_the_latest_community_entries(published_site):
    for prefix, heading in (("", "Dalla comunità"), ("en/", "From the community")):
        root = page(published_site.output, f"{prefix}index.html")
        block = root.cssselect("section.community-latest")[0]
        assert block.cssselect("h2")[0].text_content() == heading
        lines = block.cssselect("li.community-line")
        assert len(lines) == 5
        newest = max(snapshot_entries(), key=lambda e: e["date"])
        assert lines[0].cssselect("a")[0].get("href") == newest["link"]


def test_the_ui_is_in_the_page_language(published_site):
    it = page(published_site.output, "comunita/index.html")
    en = page(published_site.output, "en/comunita/index.html")
    assert it.get("lang") == "it" and en.get("lang") == "en"
    assert it.cssselect("h1")[0].text_content() == "Comunità"
    assert en.cssselect("h1")[0].text_content() == "Community"
    assert "Leggi su" in it.text_content() and "Read on" in en.text_content()
    nav = [a.text_content() for a in it.cssselect(".site-nav a")]
    assert "Comunità" in nav
    assert (
        it.cssselect('.site-nav a[aria-current="page"]')[0].text_content() == "Comunità"
    )
    hreflangs = {
        link.get("hreflang"): link.get("href")
        for link in it.cssselect('link[rel="alternate"][hreflang]')
    }
    assert hreflangs["en"].endswith("/en/comunita/")


def test_the_community_atom_feed_and_opml(published_site):
    parsed = feedparser.parse(
        (published_site.output / "feeds/comunita.atom.xml").read_bytes()
    )
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert len(parsed.entries) == len(snapshot_entries())
    assert (
        parsed.entries[0].link
        == max(snapshot_entries(), key=lambda e: e["date"])["link"]
    )
    opml = etree.parse(str(published_site.output / "comunita/feeds.opml"))
    urls = [o.get("xmlUrl") for o in opml.iter("outline")]
    assert urls == [sub.url for sub in load_subscriptions(DEMO_FEEDS)]


def test_the_status_page_is_for_editors_only(published_site):
    out = published_site.output
    root = page(out, "comunita/stato/index.html")
    assert root.cssselect('meta[name="robots"]')[0].get("content") == "noindex"
    # Every demo feed is healthy: counted in the summary, not given a row.
    assert root.cssselect("tbody tr") == []
    summary = root.cssselect(".community-status__summary")[0].text_content()
    feeds = len(load_subscriptions(DEMO_FEEDS))
    assert f"{feeds} feed in feeds.toml" in summary
    assert f"{feeds} sono a posto" in summary
    assert "invoke aggregate" in root.text_content()  # it says these are samples
    sitemap = etree.parse(str(out / "sitemap.xml"))
    locs = sitemap.xpath("//s:loc/text()", namespaces=NS)
    assert not [loc for loc in locs if "/comunita/stato/" in loc]
    assert [loc for loc in locs if loc.endswith("/comunita/")]
    assert "Disallow: /comunita/stato/" in (out / "robots.txt").read_text()
    for path in out.rglob("*.html"):
        if "stato" not in path.parts:
            assert "comunita/stato" not in path.read_text(), path


def test_two_builds_from_the_shipped_cache_are_identical(published_site, tmp_path):
    again = build_site(
        tmp_path / "output",
        SITEURL=published_site.siteurl,
        FEED_DOMAIN=published_site.siteurl,
    )
    paths = ["comunita", "en/comunita", "feeds/comunita.atom.xml", "index.html"]
    for rel in paths:
        first, second = published_site.output / rel, again / rel
        if first.is_file():
            assert first.read_bytes() == second.read_bytes(), rel
            continue
        files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
        assert files == sorted(
            p.relative_to(second) for p in second.rglob("*") if p.is_file()
        )
        _, mismatch, errors = filecmp.cmpfiles(first, second, files, shallow=False)
        assert not mismatch and not errors, (rel, mismatch, errors)


# --- Hostile entries never become executable markup ---------------------------------


def aggregate_and_build(tmp: Path, feeds: Path, failing: int = 0, **overrides) -> Path:
    """Aggregate the feeds of ``feeds`` (served on loopback) into a cache in
    ``tmp``, check every feed but ``failing`` ones was read, and build the
    site from it."""
    settings = CommunitySettings.from_pelican(
        {
            "PATH": str(ROOT / "content"),
            "COMMUNITY_FEEDS_FILE": str(feeds),
            "COMMUNITY_CACHE_DIR": str(tmp / "cache"),
            "COMMUNITY_TIMEOUT": 5,
            **overrides,
        },
        root=tmp,
    )
    report = run_aggregate(
        load_subscriptions(feeds),
        settings,
        now=datetime(2026, 11, 21, 12, 0, tzinfo=UTC),
    )
    assert sum(not feed.status.ok for feed in report.feeds) == failing, report
    return build_site(
        tmp / "output",
        COMMUNITY_FEEDS_FILE=str(feeds),
        COMMUNITY_CACHE_DIR=str(tmp / "cache"),
        **overrides,
    )


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    """The site built from a cache that aggregated hostile and good feeds."""
    tmp = tmp_path_factory.mktemp("hostile")
    feeds = tmp / "feeds.toml"
    with FeedServer().running() as server:
        feeds.write_text(
            "[[feeds]]\n"
            'name = "Hostile <script>alert(1)</script>"\n'
            f'url = "{server.fixture("/hostile", "hostile.xml")}"\n'
            'site = "https://hostile.example/"\n\n'
            "[[feeds]]\n"
            'name = "Officina Rossi"\n'
            f'url = "{server.fixture("/rss2", "rss2.xml")}"\n',
            encoding="utf-8",
        )
        return aggregate_and_build(tmp, feeds)


def test_hostile_feeds_produce_no_executable_markup(hostile_site):
    pages = [
        p
        for p in hostile_site.rglob("*.html")
        if "comunita" in p.parts
        or (p.name == "index.html" and p.parent == hostile_site)
    ]
    assert len(pages) >= 6
    for path in pages:
        text = path.read_text()
        assert_no_executable_markup(html.fromstring(text), str(path))
        assert "<script>alert" not in text, path
    root = page(hostile_site, "comunita/index.html")
    cards = root.cssselect("article.community-card")
    assert len(cards) == 5  # 2 hostile entries + the good feed's 3
    hostile = next(c for c in cards if "Testo" in c.text_content())
    # The text survives as text; the tricks do not.
    assert "normale." in hostile.text_content()
    title = hostile.cssselect(".community-card__title")[0]
    assert title.cssselect("a") == []  # its javascript: link was dropped
    assert "alert('title')" in title.text_content()  # shown as text, escaped
    names = [a.text_content() for a in root.cssselect(".community-source span")]
    assert "Hostile <script>alert(1)</script>" in names  # escaped, not run
    atom = (hostile_site / "feeds/comunita.atom.xml").read_bytes()
    parsed = feedparser.parse(atom)
    assert not parsed.bozo
    for entry in parsed.entries:
        content = entry.get("summary", "") + "".join(
            c.value for c in entry.get("content", [])
        )
        fragment = html.fragment_fromstring(content or "<p></p>", create_parent="div")
        assert_no_executable_markup(fragment, "atom:" + entry.title)


# --- Configuration ------------------------------------------------------------------


@pytest.mark.parametrize("content", [None, "", "# no feeds yet\n"])
def test_no_feeds_means_an_empty_section_that_says_so(tmp_path, content):
    feeds = tmp_path / "feeds.toml"
    if content is not None:
        feeds.write_text(content)
    output = build_site(tmp_path / "output", COMMUNITY_FEEDS_FILE=str(feeds))
    it = page(output, "comunita/index.html")
    assert "Non ci sono ancora feed della comunità." in it.text_content()
    en = page(output, "en/comunita/index.html")
    assert "There are no community feeds yet." in en.text_content()
    assert page(output, "index.html").cssselect("section.community-latest") == []


def test_a_malformed_feeds_file_fails_the_build_naming_the_line(tmp_path):
    feeds = tmp_path / "feeds.toml"
    feeds.write_text('[[feeds]]\nname = "A"\nurl = "https://a.example/f\n')
    result = run_pelican(
        tmp_path / "output", overrides={"COMMUNITY_FEEDS_FILE": str(feeds)}
    )
    assert result.returncode != 0
    assert f"{feeds}:3: not valid TOML" in " ".join(result.log.split())
    assert "Traceback" not in result.log


# --- Every encoding, broken and hostile markup, built into pages ---------------------


@pytest.fixture(scope="module")
def wide_site(tmp_path_factory):
    """The site built from feeds in every legacy encoding (declared,
    undeclared, wrongly declared) and from hostile and broken markup, all
    served by a real HTTP server on loopback and aggregated for real."""
    tmp = tmp_path_factory.mktemp("wide")
    feeds = tmp / "feeds.toml"
    expected = {}
    with FeedServer().running() as server:
        tables = []
        for encoding, variant in ENCODING_CASES:
            name = f"{encoding} {variant}"
            url = server.route(
                f"/{encoding}/{variant}",
                body=(ENCODINGS / f"{encoding}.{variant}.xml").read_bytes(),
                content_type=encoding_content_type(encoding, variant),
            )
            tables.append(f'[[feeds]]\nname = "{name}"\nurl = "{url}"\n')
            expected[name] = make_encodings.TEXTS[encoding]
        for name in ("hostile", "broken-markup", "malformed", "dates", "rss1"):
            url = server.fixture(f"/{name}", f"{name}.xml")
            tables.append(f'[[feeds]]\nname = "{name}"\nurl = "{url}"\n')
        feeds.write_text("\n".join(tables), encoding="utf-8")
        output = aggregate_and_build(tmp, feeds)
    return output, {s.name: s for s in load_subscriptions(feeds)}, expected


def test_every_legacy_encoding_renders_as_written(wide_site):
    output, subs, expected = wide_site
    assert len(expected) == 24
    for name, (lang, _title, entries) in expected.items():
        for prefix in ("", "en/"):
            root = page(output, f"{prefix}comunita/fonti/{subs[name].slug}/index.html")
            cards = root.cssselect("article.community-card")
            shown = [
                (
                    c.cssselect(".community-card__title")[0].text_content().strip(),
                    c.cssselect(".community-card__excerpt")[0].text_content().strip(),
                )
                for c in cards
            ]
            assert shown == entries, (name, prefix)
            assert {c.get("lang") for c in cards} == {lang.split("-")[0]}, name


def community_pages(output: Path) -> list[Path]:
    return sorted(
        p
        for p in output.rglob("*.html")
        if "comunita" in p.parts or (p.name == "index.html" and p.parent == output)
    )


def test_community_pages_from_hostile_and_broken_feeds_are_valid_html(wide_site):
    output, _subs, _expected = wide_site
    pages = community_pages(output)
    assert len(pages) > 50
    errors = vnu_errors([str(p) for p in pages])
    assert not errors, "\n".join(errors[:50])


def test_no_control_or_noncharacter_reaches_a_page(wide_site):
    output, subs, _expected = wide_site
    for path in community_pages(output):
        text = path.read_text(encoding="utf-8")
        assert not FORBIDDEN.search(text), (path, FORBIDDEN.search(text))
    root = page(output, f"comunita/fonti/{subs['broken-markup'].slug}/index.html")
    titles = [t.text_content().strip() for t in root.cssselect(".community-card h2")]
    assert "Controlli C1: DrecomRSS …fine" in titles
    excerpt = root.cssselect(".community-card__excerpt")[0]
    # The excerpt's own headings sit under the card's h2, none skipped.
    assert [h.tag for h in excerpt.iter("h1", "h2", "h3", "h4", "h5", "h6")][:2] == [
        "h3",
        "h4",
    ]


# --- A thousand sources ---------------------------------------------------------------

SOURCES = 1000
FAILING = 7  # feeds that answer 404: the status page lists them first
WORDS = (
    "Moto", "Club", "Curve", "Lago", "Passo", "Officina", "Raduno", "Pista",
    "Valle", "Strada", "Motori", "Amici", "Garage", "Ruote", "Sella", "Casco",
)  # fmt: skip
SCRIPTS = ("Ålesund", "Émile", "Москва", "東京", "Ελλάδα", "9 Valli", "Zanzara")


def many_feed(number: int) -> bytes:
    items = "".join(
        f"<item><title>Giro {number}.{n} sul lago</title>"
        f"<link>https://fonte{number}.example/{n}</link>"
        f"<guid>https://fonte{number}.example/{n}</guid>"
        f"<pubDate>Tue, {18 - n} Nov 2026 {number % 24:02d}:00:00 +0000</pubDate>"
        "<description>&lt;p&gt;"
        + "Una giornata in sella tra curve e lago, con gli amici del club. " * 6
        + "&lt;/p&gt;</description></item>"
        for n in range(1 + number % 4)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Fonte {number}</title><link>https://fonte{number}.example/</link>"
        f"{items}</channel></rss>"
    ).encode()


def many_name(number: int) -> str:
    if number % 50 == 0:
        return f"{SCRIPTS[number // 50 % len(SCRIPTS)]} {number}"
    first = WORDS[number % len(WORDS)]
    second = WORDS[number // len(WORDS) % len(WORDS)]
    return f"{first} {second} {number}"


@pytest.fixture(scope="module")
def thousand_site(tmp_path_factory):
    """The site built from 1,000 feeds aggregated from a loopback server."""
    tmp = tmp_path_factory.mktemp("thousand")
    feeds = tmp / "feeds.toml"
    with FeedServer().running() as server:
        tables = []
        for number in range(SOURCES):
            if number < FAILING:
                url = server.url(f"/missing/{number}")  # 404
            else:
                url = server.route(f"/feed/{number}", body=many_feed(number))
            tables.append(f'[[feeds]]\nname = "{many_name(number)}"\nurl = "{url}"\n')
        feeds.write_text("\n".join(tables), encoding="utf-8")
        output = aggregate_and_build(tmp, feeds, FAILING, COMMUNITY_TIMEOUT=20)
    return output, load_subscriptions(feeds)


def test_a_listing_page_stays_small_at_a_thousand_sources(thousand_site):
    output, _subs = thousand_site
    for path in ("comunita/index.html", "en/comunita/index.html"):
        body = (output / path).read_bytes()
        assert len(body) < 60 * 1024, (path, len(body))
        assert len(gzip.compress(body, 9)) < 20 * 1024, path
        root = html.fromstring(body)
        # The sidebar names the most active sources, and links all of them.
        listed = root.cssselect(".community-sources .community-source-list li")
        assert len(listed) == 10
        counts = [int(li.cssselect(".count")[0].text.strip("()")) for li in listed]
        assert counts == sorted(counts, reverse=True) and counts[0] == 3
        (link,) = root.cssselect(".community-sources__all a")
        assert link.get("href").endswith(
            "/en/comunita/fonti/" if path.startswith("en/") else "/comunita/fonti/"
        )
        assert "1000" in link.text_content()


def test_the_sources_directory_lists_every_source_once_a_to_z(thousand_site):
    output, subs = thousand_site
    for prefix in ("", "en/"):
        first = page(output, f"{prefix}comunita/fonti/index.html")
        pages = [first] + [
            page(output, f"{prefix}comunita/fonti/pagina/{n}/index.html")
            for n in range(2, 11)
        ]
        assert not (output / f"{prefix}comunita/fonti/pagina/11").exists()
        names = [
            a.text_content().strip()
            for p in pages
            for a in p.cssselect(".community-letter a > span:last-child")
        ]
        assert sorted(names) == sorted(s.name for s in subs)
        assert len(names) == len(set(names)) == SOURCES
        headings = [h.text_content() for p in pages for h in p.cssselect("h2[id]")]
        letters = [h for h in dict.fromkeys(headings) if len(h) == 1]
        assert letters == sorted(letters)
        # Each initial links to the page and section where it starts.
        by_url = {
            f"{prefix}comunita/fonti/": first,
            **{
                f"{prefix}comunita/fonti/pagina/{n}/": pages[n - 1]
                for n in range(2, 11)
            },
        }
        for a in first.cssselect(".community-letters a"):
            url, anchor = a.get("href").split("#")
            target = by_url[url.split("/", 3)[3]]
            assert target.cssselect(f"h2#{anchor}"), a.get("href")
        # Numbered pages link each other; no script needed.
        assert len(first.cssselect(".pagination a")) == 9
        assert first.cssselect("script[src*='community']") == []


def test_the_status_page_lists_problems_first_and_sums_up_the_rest(thousand_site):
    output, _subs = thousand_site
    body = (output / "comunita/stato/index.html").read_bytes()
    assert len(body) < 60 * 1024, len(body)
    root = html.fromstring(body)
    rows = root.cssselect("tbody tr")
    # All failing alike: A to Z, accents aside ("Ålesund" among the A's).
    assert [r.cssselect("th a")[0].text_content() for r in rows] == sorted(
        (many_name(n) for n in range(FAILING)), key=sort_key
    )
    summary = root.cssselect(".community-status__summary")[0].text_content()
    assert f"{SOURCES} feed in feeds.toml" in summary
    assert f"{SOURCES - FAILING} sono a posto" in summary
