"""Static search (piazza/search.py, plugins/search, theme/static/js/search.js).

The sample site is built once for a loopback https origin and indexed as
`invoke build` does, served by nginx from deploy/nginx.conf (the production
types, cache lifetimes and Content-Security-Policy), and searched in Chromium
in Italian and English. What a search should find is read from the built
pages and the sources, never written here.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import brotli
import cbor2
import pytest
from conftest import ROOT, build_site, free_port
from lxml import html
from markupsafe import Markup
from nginx_server import RunningNginx, running_nginx
from search.glue import searchable
from test_translations import _translated

import piazza.search as search_module
from piazza import scratch
from piazza.check import Kind, check_site
from piazza.search import (
    BUNDLE,
    FIRST_LOAD,
    EarlyIndex,
    SearchIndexError,
    SearchIndexTimeout,
    check_index,
    index_site,
    marked_pages,
    read_entry,
)

SEARCH = {"it": "/cerca/", "en": "/en/search/"}
# The post whose Italian source says "votate" (and never "votare").
VOTED = "2026/portapacchi-o-passo-corto/"


@dataclass(frozen=True)
class Served:
    site: str
    output: Path
    nginx: RunningNginx


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    base = tmp_path_factory.mktemp("search")
    output = base / "output"
    output.mkdir()
    with running_nginx(base, output, free_port()) as nginx:
        site = f"https://127.0.0.1:{nginx.local.https_port}"
        build_site(output, SITEURL=site, FEED_DOMAIN=site)
        yield Served(site, output, nginx)


def said(msgid: str, lang: str, **values: str) -> str:
    """What the page says in ``lang``, placeholders filled in."""
    text = msgid if lang == "en" else _translated("it")[msgid]
    for name, value in values.items():
        text = text.replace(f"%({name})s", value)
    return text


def found(count: int, query: str, lang: str) -> str:
    """The status line after a search that found ``count`` results."""
    if count == 1:
        return said("1 result for “%(query)s”", lang, query=query)
    return said(
        "%(count)s results for “%(query)s”", lang, count=str(count), query=query
    )


def page_of(output: Path, url: str) -> html.HtmlElement:
    return html.parse(str(output / url / "index.html")).getroot()


def title_of(output: Path, url: str) -> str:
    return page_of(output, url).findtext(".//h1").strip()


# ------------------------------------------------------------------ markup


def test_filters_are_read_from_attributes_so_values_are_never_parsed():
    filters = {"type": "Post", "source": "Moto, Club: Sebino", "year": ""}
    marks = html.fromstring(f"<div{searchable(filters)}>x</div>")
    assert "data-pagefind-body" in marks.attrib
    assert marks.get("data-pagefind-filter") == (
        "type[data-search-type], source[data-search-source]"
    )
    assert marks.get("data-search-source") == "Moto, Club: Sebino"
    assert isinstance(searchable({}), Markup)
    with pytest.raises(ValueError, match="search filter 'Type'"):
        searchable({"Type": "Post"})


def test_posts_pages_and_community_sources_are_marked_and_listings_not(served):
    out = served.output
    post = page_of(out, VOTED).find(".//article[@data-pagefind-body]")
    assert post is not None
    assert post.get("data-search-type") == said("Post", "it")
    assert post.get("data-search-year") == VOTED[:4]
    assert post.find(".//h1[@data-pagefind-meta='title']") is not None
    # The comments (and the byline) are outside what is indexed.
    assert post.find(".//*[@id='comments']") is None
    assert post.find(".//p[@class='byline']").get("data-pagefind-ignore") is not None
    page = page_of(out, "en/chi-siamo").find(".//article[@data-pagefind-body]")
    assert page.get("data-search-type") == "Page"
    source = next((out / "comunita" / "fonti").iterdir()).relative_to(out)
    marked = page_of(out, source.as_posix()).find(".//*[@data-pagefind-body]")
    assert marked.get("data-search-type") == said("Community", "it")
    assert marked.get("data-search-source") == title_of(out, source.as_posix())
    for listing in ("", "archivio", "comunita", "en", "cerca", "en/search"):
        assert page_of(out, listing).find(".//*[@data-pagefind-body]") is None


@pytest.mark.parametrize("lang", SEARCH)
def test_every_page_has_a_search_form_leading_to_its_languages_search_page(
    served, lang
):
    home = page_of(served.output, "" if lang == "it" else "en")
    form = home.find(".//header//form[@role='search']")
    assert form.get("method") == "get"
    assert form.get("action") == served.site + SEARCH[lang]
    field = form.find(".//input[@name='q']")
    label = form.find(f".//label[@for='{field.get('id')}']")
    assert label.text_content().strip() == said("Search the site", lang)
    search = page_of(served.output, SEARCH[lang].strip("/"))
    assert search.get("lang") == lang
    assert search.find(".//header//form[@role='search']") is None  # its own form
    scripts = [s.get("src") for s in search.iter("script") if s.get("src")]
    assert any("/js/search.js?v=" in s for s in scripts)
    assert not any("search.js" in (s.get("src") or "") for s in home.iter("script"))


# ------------------------------------------------------------ index, check


def test_one_index_per_language_holding_every_searchable_page(served):
    entry = read_entry(served.output / BUNDLE)
    assert set(entry) == {"it", "en"}
    report = check_site(served.output, served.site)
    assert report.ok, report.errors
    assert not (served.output / BUNDLE / "pagefind-ui.js").exists()


def test_the_same_pages_give_the_same_index_byte_for_byte(served, tmp_path):
    # Pagefind alone writes its filters in a random order: every publish
    # would then be a new release.
    site = shutil.copytree(served.output, tmp_path / "site")
    index_site(site)

    def files(root: Path) -> dict[str, bytes]:
        bundle = root / BUNDLE
        return {
            p.relative_to(bundle).as_posix(): p.read_bytes()
            for p in bundle.rglob("*")
            if p.is_file()
        }

    assert files(site) == files(served.output)
    assert len(files(site)) > 10


def copy_in_order(source: Path, dest: Path, *, reverse: bool) -> Path:
    """A copy of ``source`` whose files (and folders) are created in sorted
    order, or in reverse: a folder lists its entries in the order they were
    made on a tmpfs, in an order of their names' hashes on ext4."""
    files = sorted(p for p in source.rglob("*") if p.is_file())
    for path in reversed(files) if reverse else files:
        target = dest / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return dest


def test_the_index_is_the_same_whatever_the_folder_lists_first(served, tmp_path):
    # Pagefind numbers pages in the order it finds them on disk: a build in
    # memory, or on another disk, would otherwise give another index.
    memory = scratch.memory_folder()
    if memory is None and not os.environ.get("CI"):
        pytest.skip("no tmpfs with room in /dev/shm")
    assert memory is not None, "CI machines have a tmpfs in /dev/shm"
    indexes = []
    with tempfile.TemporaryDirectory(dir=memory) as work:
        for name, reverse in (("ahead", False), ("behind", True)):
            site = copy_in_order(served.output, Path(work, name), reverse=reverse)
            shutil.rmtree(site / BUNDLE)
            index_site(site, cache=tmp_path / "cache")
            indexes.append(bundle_files(site / BUNDLE))
        # the two copies really list their pages in different orders
        ahead, behind = (os.listdir(Path(work, n)) for n in ("ahead", "behind"))
        assert ahead != behind and sorted(ahead) == sorted(behind)
        on_disk = shutil.copytree(served.output, tmp_path / "disk")
        index_site(on_disk, cache=tmp_path / "cache")
        indexes.append(bundle_files(on_disk / BUNDLE))
    assert (
        indexes[0] == indexes[1] == indexes[2] == bundle_files(served.output / BUNDLE)
    )


def test_an_index_started_early_is_the_index_of_the_finished_pages(
    served, tmp_path, caplog
):
    site = shutil.copytree(served.output, tmp_path / "site")
    shutil.rmtree(site / BUNDLE)
    with caplog.at_level(logging.DEBUG, logger="piazza.search"):
        EarlyIndex(site).finish(tmp_path / "cache")
    assert "started while the build finished and kept" in caplog.text
    assert bundle_files(site / BUNDLE) == bundle_files(served.output / BUNDLE)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".pagefind")]

    # a page changed after Pagefind read it: the early index is not taken
    early = EarlyIndex(site)
    early.wait()
    post = next(p for p in marked_pages(site) if p.startswith("20"))
    page = site / post
    page.write_text(
        page.read_text(encoding="utf-8").replace("</h1>", " Zanzibar</h1>", 1),
        encoding="utf-8",
    )
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="piazza.search"):
        early.finish(tmp_path / "cache")
    assert "does not hold (the pages changed" in caplog.text
    changed = bundle_files(site / BUNDLE)
    again = shutil.copytree(site, tmp_path / "again")
    index_site(again, cache=tmp_path / "cache")
    assert (
        changed == bundle_files(again / BUNDLE) != bundle_files(served.output / BUNDLE)
    )


def index_view(bundle: Path) -> dict:
    """What a reader can find in a bundle, by URL rather than by Pagefind's
    page numbers and file names: per language its pages (their fragments),
    filters (value: URLs), sorts and words (word: URL: positions)."""

    def load(path: Path) -> bytes:
        data = gzip.decompress(path.read_bytes())
        assert data.startswith(b"pagefind_dcd"), path
        return data[len(b"pagefind_dcd") :]

    view = {}
    for lang, info in read_entry(bundle).items():
        meta = cbor2.loads(load(bundle / info["meta"]))
        fragments = [
            json.loads(load(bundle / "fragment" / f"{page}.pf_fragment"))
            for page, _words in meta[1]
        ]
        urls = [fragment["url"] for fragment in fragments]
        filters = {}
        for _name, chunk in meta[3]:
            name, values = cbor2.loads(load(bundle / "filter" / f"{chunk}.pf_filter"))
            filters[name] = {v: sorted(urls[n] for n in pages) for v, pages in values}
        words = {}
        for *_range, chunk in meta[2]:
            for word, pages, *rest in cbor2.loads(
                load(bundle / "index" / f"{chunk}.pf_index")
            )[0]:
                words[word] = ({urls[p[0]]: p[1:] for p in pages}, rest)
        view[lang] = {
            "version": meta[0],
            "pages": {fragment["url"]: fragment for fragment in fragments},
            "filters": filters,
            "sorts": meta[4:],
            "words": words,
        }
    return view


def bundle_files(bundle: Path) -> dict[str, bytes]:
    return {
        p.relative_to(bundle).as_posix(): p.read_bytes()
        for p in bundle.rglob("*")
        if p.is_file()
    }


def whole_and_marked(site: Path, cache: Path, caplog) -> tuple[dict, dict]:
    """The bundle of ``site`` indexed whole (Pagefind over every page, as
    before), then as a build does (only the marked pages): files and views."""
    index_site(site, marked_only=False, cache=cache)
    whole = bundle_files(site / BUNDLE)
    whole_view = index_view(site / BUNDLE)
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="piazza.search"):
        index_site(site, cache=cache)
    return (whole, whole_view), (bundle_files(site / BUNDLE), index_view(site / BUNDLE))


def test_the_marked_pages_alone_give_the_index_of_the_whole_site(
    served, tmp_path, caplog
):
    site = shutil.copytree(served.output, tmp_path / "site")
    (whole, whole_view), (ours, view) = whole_and_marked(
        site, tmp_path / "cache", caplog
    )
    assert "fell short" not in caplog.text  # the glob was used
    marked = marked_pages(site)
    every = [p.relative_to(site).as_posix() for p in site.rglob("*.html")]
    assert 0 < len(marked) < len(every)  # the listings were left to the side
    assert sum(len(v["pages"]) for v in view.values()) == len(marked)
    assert view == whole_view
    assert set(view) == {"it", "en"}
    assert all(v["pages"] and v["filters"] and v["words"] for v in view.values())
    assert ours == whole


SMALL_SITE = {
    "index.html": '<html lang="it"><body><main data-pagefind-body>'
    "<h1>Benvenuti</h1><p>La moto del lago.</p></main></body></html>",
    # odd characters in a path, an attribute in capitals: still found
    "note [1]/{a},b!.html": '<html lang="it"><body><div DATA-PAGEFIND-BODY '
    'data-pagefind-filter="tipo:Nota"><h1>Nota</h1><p>Officina e lago.</p>'
    "</div></body></html>",
    "x(1)/a$b:c<d>?*.html": '<html lang="it"><body><article data-pagefind-body>'
    "<h1>Strana</h1><p>Una strada strana.</p></article></body></html>",
    # in a hidden folder: Pagefind's own glob takes it too
    ".nascosta/pagina.html": '<html lang="it"><body><main data-pagefind-body>'
    "<h1>Nascosta</h1><p>Il passo.</p></main></body></html>",
    # a listing, and a page that only talks about the mark
    "archivio/index.html": '<html lang="it"><body><h1>Archivio</h1>'
    "<p>Lago, moto, officina.</p></body></html>",
    "en/mark/index.html": '<html lang="en"><body><h1>The mark</h1><p>Write '
    "data-pagefind-body on what should be found.</p></body></html>",
}


def write_site(root: Path, pages: dict[str, str]) -> Path:
    for name, text in pages.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_odd_paths_capitals_and_mere_mentions_give_the_same_index(tmp_path, caplog):
    site = write_site(tmp_path / "site", SMALL_SITE)
    (whole, whole_view), (ours, view) = whole_and_marked(
        site, tmp_path / "cache", caplog
    )
    assert "fell short" not in caplog.text
    assert len(view["it"]["pages"]) == 4
    assert "en" not in view  # mentioned, not marked: Pagefind leaves it out
    assert view == whole_view
    assert ours == whole


def test_a_site_that_only_mentions_the_mark_is_indexed_whole(tmp_path, caplog):
    unmarked = {
        name: re.sub(r"(<\w+) data-pagefind-body", r"\1", text, flags=re.IGNORECASE)
        for name, text in SMALL_SITE.items()
    }
    assert "data-pagefind-body" in unmarked["en/mark/index.html"]
    site = write_site(tmp_path / "site", unmarked)
    (whole, whole_view), (ours, view) = whole_and_marked(
        site, tmp_path / "cache", caplog
    )
    assert "fell short" in caplog.text  # one mention, no mark: every page
    assert len(view["it"]["pages"]) == 5 and len(view["en"]["pages"]) == 1
    assert view == whole_view
    assert ours == whole


def test_a_site_that_never_mentions_the_mark_is_indexed_whole(tmp_path, caplog):
    # a theme without search_attributes(): every page is indexed, as Pagefind
    # alone would, and an early index gives way to the same index
    unmarked = {
        name: re.sub(r" data-pagefind-body", "", text, flags=re.IGNORECASE)
        for name, text in SMALL_SITE.items()
        if "mark" not in name
    }
    site = write_site(tmp_path / "site", unmarked)
    assert marked_pages(site) == []
    index_site(site, cache=tmp_path / "cache")
    whole = index_view(site / BUNDLE)
    assert len(whole["it"]["pages"]) == 5
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="piazza.search"):
        EarlyIndex(site).finish(tmp_path / "cache")
    assert "does not hold" in caplog.text and "fell short" in caplog.text
    assert index_view(site / BUNDLE) == whole


def test_the_scripts_are_compressed_once_and_a_damaged_copy_is_redone(served, tmp_path):
    site = shutil.copytree(served.output, tmp_path / "site")
    cache = tmp_path / "cache"
    index_site(site, cache=cache)
    bundle = site / BUNDLE
    kept = {p.name: p.read_bytes() for p in cache.iterdir()}
    assert len(kept) == 2 * len(FIRST_LOAD)
    for name in FIRST_LOAD:
        script = (bundle / name).read_bytes()
        assert gzip.decompress((bundle / f"{name}.gz").read_bytes()) == script
        assert brotli.decompress((bundle / f"{name}.br").read_bytes()) == script
    variants = [
        (bundle / f"{n}.{s}").read_bytes() for n in FIRST_LOAD for s in ["gz", "br"]
    ]
    assert sorted(kept.values()) == sorted(variants)
    damaged = sorted(cache.glob("*.br"))[0]
    damaged.write_bytes(b"not brotli")
    index_site(site, cache=cache)
    assert {p.name: p.read_bytes() for p in cache.iterdir()} == kept
    assert bundle_files(bundle) == bundle_files(served.output / BUNDLE)


def test_the_check_refuses_a_missing_or_stale_index(served, tmp_path):
    site = shutil.copytree(served.output, tmp_path / "site")
    shutil.rmtree(site / BUNDLE)
    errors = check_site(site, served.site).errors
    assert [(e.kind, e.page) for e in errors] == [(Kind.SEARCH_INDEX, "pagefind/")]
    assert "invoke build" in errors[0].detail
    entry = read_entry(served.output / BUNDLE)
    counts = {lang: info["pages"] for lang, info in entry.items()}
    assert check_index(served.output, counts) == []
    stale = check_index(served.output, {**counts, "it": counts["it"] + 1})
    assert len(stale) == 1 and "stale" in stale[0]
    missing = check_index(served.output, {**counts, "de": 3})
    assert len(missing) == 1 and "no index for language 'de'" in missing[0]
    over = check_index(served.output, counts, first_load_budget=10_000)
    assert len(over) == 2 and all("over the budget" in p for p in over)
    assert "over the budget" in check_index(served.output, counts, index_budget=1)[0]


# ------------------------------------------------------------------ nginx


@pytest.mark.parametrize(
    ("name", "content_type", "cache"),
    [
        ("pagefind.js", "application/javascript", "public, max-age=300"),
        ("pagefind-worker.js", "application/javascript", "public, max-age=300"),
        ("wasm.it.pagefind", "application/octet-stream", "public, max-age=300"),
        ("pagefind-entry.json", "application/json", "no-cache"),
        ("meta", "application/octet-stream", "public, max-age=31536000, immutable"),
        ("fragment", "application/octet-stream", "public, max-age=31536000, immutable"),
        ("index", "application/octet-stream", "public, max-age=31536000, immutable"),
    ],
)
def test_nginx_serves_the_index_with_its_types_and_lifetimes(
    served, name, content_type, cache
):
    bundle = served.output / BUNDLE
    if name == "meta":
        name = read_entry(bundle)["it"]["meta"]
    elif name in ("fragment", "index"):
        name = next((bundle / name).iterdir()).relative_to(bundle).as_posix()
    status, headers, body = served.nginx.get(
        f"/{BUNDLE}/{name}", {"Accept-Encoding": "gzip"}
    )
    assert status == 200
    assert headers["Content-Type"].split(";")[0] == content_type
    assert headers["Cache-Control"] == cache
    if content_type == "application/octet-stream":
        # Pagefind compressed it already: sent as it is, never twice.
        assert "Content-Encoding" not in headers
        assert body == (bundle / name).read_bytes()


def test_only_the_search_may_compile_webassembly(served):
    def script_src(path: str) -> str:
        csp = served.nginx.get(path)[1]["Content-Security-Policy"]
        return next(d for d in csp.split("; ") if d.startswith("script-src "))

    for path in (*SEARCH.values(), f"/{BUNDLE}/pagefind-worker.js"):
        assert script_src(path) == "script-src 'self' 'wasm-unsafe-eval'", path
    for path in ("/", "/" + VOTED, f"/{BUNDLE}/pagefind.js", "/cercare/"):
        assert script_src(path) == "script-src 'self'", path


# ---------------------------------------------------------------- Chromium


class Reader:
    """A browser tab on the served site, and everything that went wrong in it:
    console errors and warnings, failed requests, CSP violations."""

    def __init__(self, browser, served: Served, *, js: bool = True):
        self.served = served
        self.context = browser.new_context(
            viewport={"width": 1280, "height": 900},
            java_script_enabled=js,
            ignore_https_errors=True,  # nginx's certificate is self-signed
        )
        self.context.add_init_script(
            "window.__csp = [];"
            "document.addEventListener('securitypolicyviolation', e =>"
            " window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
        )
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.problems.append(f"error: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed {r.url}"))

    def _console(self, message) -> None:
        # No comment server runs behind this nginx: a post page's comment
        # requests fail, and are not the search's business.
        where = (message.location or {}).get("url", "")
        if message.type in ("error", "warning") and "/comments/" not in (
            where + message.text
        ):
            self.problems.append(f"{message.type}: {message.text}")

    def search(self, lang: str, query: str) -> str:
        """Open the search page for ``query`` and wait for what it says."""
        self.page.goto(f"{self.served.site}{SEARCH[lang]}?q={quote(query)}")
        return self.status()

    def status(self) -> str:
        status = self.page.locator("#search-status")
        searching = said("Searching…", self.page.locator("html").get_attribute("lang"))
        deadline = time.monotonic() + 20
        while True:
            text = status.inner_text().strip()
            if text and text != searching:
                return text
            assert time.monotonic() < deadline, "the search never said anything"
            self.page.wait_for_timeout(50)

    def results(self) -> list[dict]:
        return self.page.eval_on_selector_all(
            ".search-result",
            """items => items.map(li => ({
                title: li.querySelector('h2 a').textContent,
                href: li.querySelector('h2 a').getAttribute('href'),
                meta: li.querySelector('.search-result__meta')?.textContent || '',
                marks: [...li.querySelectorAll('mark')].map(m => m.textContent),
                subs: [...li.querySelectorAll('.search-result__subs a')].map(
                    a => [a.textContent, a.getAttribute('href')]),
            }))""",
        )

    def check_clean(self) -> None:
        violations = self.page.evaluate("window.__csp || []")
        assert not violations, violations
        assert not self.problems, self.problems


@pytest.fixture
def reader(browser, served):
    readers: list[Reader] = []

    def make(**options) -> Reader:
        readers.append(Reader(browser, served, **options))
        return readers[-1]

    yield make
    for made in readers:
        made.check_clean()
        made.context.close()


@pytest.mark.browser
def test_an_italian_search_finds_every_form_of_a_word(served, reader):
    source = (
        ROOT / "content" / "posts" / "2026-07-portapacchi-votate.it.md"
    ).read_text()
    assert "votate" in source and "votare" not in source
    tab = reader()
    status = tab.search("it", "votare")
    results = tab.results()
    assert status == found(len(results), "votare", "it")
    assert title_of(served.output, VOTED) in [r["title"] for r in results]
    hit = next(r for r in results if r["title"] == title_of(served.output, VOTED))
    assert hit["href"] == f"{served.site}/{VOTED}"
    assert hit["meta"].startswith(said("Post", "it"))
    # Matched words are highlighted.
    tab.search("it", "portapacchi")
    assert any("portapacchi" in m.lower() for r in tab.results() for m in r["marks"])


@pytest.mark.browser
def test_an_english_search_finds_english_pages_only(served, reader):
    english = title_of(served.output, "en/" + VOTED)
    word = "wheelbase"
    assert word in english.lower()
    tab = reader()
    tab.search("en", word)
    results = tab.results()
    assert english in [r["title"] for r in results]
    assert all(r["href"].startswith(f"{served.site}/en/") for r in results)
    assert any(m.lower() == word for r in results for m in r["marks"])
    tab.search("it", word)  # the Italian index knows no English page
    assert not any(r["href"].startswith(f"{served.site}/en/") for r in tab.results())


@pytest.mark.browser
def test_a_community_entry_is_found_and_linked_where_it_is(served, reader):
    source = sorted((served.output / "comunita" / "fonti").iterdir())[0]
    page = page_of(served.output, source.relative_to(served.output).as_posix())
    heading = page.find(".//*[@class='community-card__title']")
    entry, anchor = heading.text_content().strip(), heading.get("id")
    tab = reader()
    tab.search("it", entry)
    results = tab.results()
    subs = [sub for r in results for sub in r["subs"]]
    url = f"{served.site}/{source.relative_to(served.output).as_posix()}/#{anchor}"
    assert [entry, url] in subs, subs


@pytest.mark.browser
def test_filters_narrow_the_results(served, reader):
    tab = reader()
    tab.search("it", "portapacchi")
    everything = tab.results()
    community = said("Community", "it")
    types = {r["meta"].split(" · ")[0] for r in everything}
    assert types >= {said("Post", "it"), community}
    # The change event searches again at once: the status says "Searching…"
    # until the narrowed results are on the page.
    tab.page.select_option("#search-filter-type", community)
    status = tab.status()
    narrowed = tab.results()
    assert 0 < len(narrowed) < len(everything)
    assert all(r["meta"].startswith(community) for r in narrowed)
    assert status == found(len(narrowed), "portapacchi", "it")
    assert "type=" in tab.page.url  # the filter is in the address, to share


@pytest.mark.browser
@pytest.mark.parametrize("lang", SEARCH)
def test_a_search_without_results_says_so(reader, lang):
    tab = reader()
    query = "zqxjvvk"
    assert tab.search(lang, query) == said(
        "No results for “%(query)s”. Try another word, fewer words, or fewer filters.",
        lang,
        query=query,
    )
    assert tab.results() == []
    assert tab.page.locator("#search-status").get_attribute("role") == "status"


@pytest.mark.browser
def test_the_keyboard_alone_finds_and_opens_a_post(served, reader):
    tab = reader()
    page = tab.page
    page.goto(served.site + "/")
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "site-search-q":
            break
    else:
        pytest.fail("Tab never reached the header's search field")
    page.keyboard.type("portapacchi")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{served.site}/cerca/?q=portapacchi")
    tab.status()
    # The field on the search page holds the query; Tab goes on to the
    # button, the filters, then the results.
    page.focus("#search-q")
    order = []
    for _ in range(8):
        page.keyboard.press("Tab")
        order.append(
            page.evaluate(
                "(e => e.id || (e.closest('.search-result') ? 'result' : e.tagName))"
                "(document.activeElement)"
            )
        )
        if order[-1] == "result":
            break
    assert order[0] == "BUTTON"
    assert order[1].startswith("search-filter-")
    assert order[-1] == "result"
    target = page.evaluate("document.activeElement.href")
    page.keyboard.press("Enter")
    page.wait_for_url(target)


@pytest.mark.browser
@pytest.mark.parametrize("lang", SEARCH)
def test_without_javascript_the_page_says_so_and_links_the_archive(
    served, reader, lang
):
    tab = reader(js=False)
    tab.page.goto(f"{served.site}{SEARCH[lang]}?q=portapacchi")
    note = tab.page.locator("[data-search-nojs]")
    assert note.is_visible()
    assert (
        said(
            "Search runs in your browser and needs JavaScript, which is off here.", lang
        )
        in note.inner_text()
    )
    archive = "archivio/" if lang == "it" else "en/archivio/"
    assert note.locator("a").get_attribute("href") == f"{served.site}/{archive}"
    assert tab.page.locator("[data-search-broken]").is_hidden()


@pytest.mark.browser
def test_an_idea_is_found_by_its_words(served, reader):
    page = page_of(served.output, "idee/3-manopole-riscaldate-di-serie")
    idea = page.find(".//article[@data-pagefind-body]")
    assert idea.get("data-search-type") == said("Idea", "it")
    title = idea.find(".//h1[@data-pagefind-meta='title']").text_content().strip()
    tab = reader()
    tab.search("it", "manopole riscaldate")
    hit = next(r for r in tab.results() if r["title"] == title)
    assert hit["href"] == f"{served.site}/idee/3-manopole-riscaldate-di-serie/"
    assert hit["meta"].startswith(said("Idea", "it"))


def test_a_page_that_cannot_be_read_is_named(tmp_path):
    site = write_site(tmp_path / "site", SMALL_SITE)
    (site / "gone.html").symlink_to(tmp_path / "nowhere.html")
    with pytest.raises(SearchIndexError, match=r"Cannot read .*gone\.html"):
        index_site(site, cache=tmp_path / "cache")


def test_pagefind_out_of_time_is_not_run_again_over_the_whole_site(
    tmp_path, monkeypatch
):
    site = write_site(tmp_path / "site", SMALL_SITE)
    runs = []
    real = search_module.run_pagefind

    def counted(site, *args, **kwargs):
        runs.append(
            sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
        )
        return real(site, *args, **kwargs)

    monkeypatch.setattr(search_module, "TIMEOUT", 0.001)
    monkeypatch.setattr(search_module, "run_pagefind", counted)
    with pytest.raises(SearchIndexTimeout, match="did not finish"):
        index_site(site, cache=tmp_path / "cache")
    assert runs == [marked_pages(site)]  # the marked pages only, and once
