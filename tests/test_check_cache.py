"""piazza.check with its cache (piazza/checkcache.py): after every kind of
change, a check that reuses what it learnt finds exactly what a clean one does."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from conftest import build_site
from lxml import etree, html
from rich.console import Console

from piazza import check
from piazza import publish as publishing
from piazza.check import CheckReport, Kind, check_site
from pictures.settings import Budget

SITEURL = "https://www.officineardesia.example"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return build_site(tmp_path_factory.mktemp("check-cache") / "output")


@pytest.fixture
def site(built, tmp_path) -> Path:
    """A copy of the built sample site this test may change."""
    return Path(shutil.copytree(built, tmp_path / "site"))


@pytest.fixture
def parsed(monkeypatch) -> list[int]:
    """How many pages the check parses (its cache answers for the others)."""
    calls: list[int] = []
    real = check._page_facts

    def counting(data: bytes, **settings) -> tuple:
        calls.append(len(data))
        return real(data, **settings)

    monkeypatch.setattr(check, "_page_facts", counting)
    return calls


def same_as_clean(site: Path, cache: Path, **settings) -> CheckReport:
    """The check with ``cache``, asserted equal to one without any."""
    warm = check_site(site, SITEURL, cache=cache, **settings)
    clean = check_site(site, SITEURL, **settings)
    assert warm == clean
    return warm


def posts(site: Path) -> list[Path]:
    return sorted(site.glob("20*/*/index.html"))


def rel(site: Path, path: Path) -> str:
    return path.relative_to(site).as_posix()


def edit(path: Path, change) -> None:
    """Parse a page, let ``change`` alter its tree, write it back."""
    doc = html.fromstring(path.read_bytes())
    change(doc)
    path.write_bytes(html.tostring(doc, doctype="<!DOCTYPE html>", encoding="utf-8"))


def append_link(href: str):
    def change(doc) -> None:
        main = doc.find(".//main")
        etree.SubElement(main, "a", href=href).text = "link"

    return change


def test_a_warm_cache_parses_nothing_again_and_finds_the_same(site, tmp_path, parsed):
    cache = tmp_path / "var" / "check"
    first = same_as_clean(site, cache)
    assert first.ok and first.pages > 20
    parsed.clear()
    again = check_site(site, SITEURL, cache=cache)
    assert again == first
    assert parsed == []
    assert (again.parsed, again.reused) == (0, first.parsed)
    assert [p.name for p in cache.iterdir()] == ["facts-https.bin"]


def test_a_page_edited_to_break_a_link(site, tmp_path, parsed):
    cache = tmp_path / "cache"
    check_site(site, SITEURL, cache=cache)
    post = posts(site)[0]
    edit(post, append_link(f"{SITEURL}/2099/not-there/"))
    parsed.clear()
    report = check_site(site, SITEURL, cache=cache)
    assert parsed == [post.stat().st_size]  # the edited page alone
    assert report == check_site(site, SITEURL)
    broken = [f for f in report.errors if f.kind == Kind.BROKEN_LINK]
    assert [(f.page, f.detail) for f in broken] == [
        (
            rel(site, post),
            (
                f"<a href> {SITEURL}/2099/not-there/: no file "
                "2099/not-there/index.html in the output"
            ),
        )
    ]


def test_a_link_target_deleted(site, tmp_path, parsed):
    cache = tmp_path / "cache"
    before = check_site(site, SITEURL, cache=cache)
    assert before.ok
    target = posts(site)[1]
    target.unlink()
    parsed.clear()
    report = check_site(site, SITEURL, cache=cache)
    assert parsed == []  # no page parsed again, yet their links fail
    assert report == check_site(site, SITEURL)
    wanted = rel(site, target)
    broken = [f for f in report.errors if f.kind == Kind.BROKEN_LINK]
    assert all(f"no file {wanted} in the output" in f.detail for f in broken)
    assert {f.page for f in broken} - {"sitemap.xml"}  # pages link to it
    # and the search index counts one page too many
    assert {f.kind for f in report.errors} == {Kind.BROKEN_LINK, Kind.SEARCH_INDEX}


def test_an_anchor_removed_from_the_target_page(site, tmp_path):
    cache = tmp_path / "cache"
    source, target = posts(site)[:2]
    anchor = "piazza-test-anchor"

    def add_anchor(doc) -> None:
        etree.SubElement(doc.find(".//main"), "h2", id=anchor).text = "Here"

    edit(target, add_anchor)
    url = f"{SITEURL}/{rel(site, target).removesuffix('index.html')}#{anchor}"
    edit(source, append_link(url))
    assert same_as_clean(site, cache).warnings == []

    def drop_anchor(doc) -> None:
        for element in doc.xpath("//*[@id=$id]", id=anchor):
            del element.attrib["id"]

    edit(target, drop_anchor)  # the source page is unchanged (cached)
    report = same_as_clean(site, cache)
    assert [(f.kind, f.page) for f in report.warnings] == [
        (Kind.BROKEN_FRAGMENT, rel(site, source))
    ]
    assert f"no id {anchor!r} on {rel(site, target)}" in report.warnings[0].detail


def test_a_page_grown_over_its_budget(site, tmp_path):
    cache = tmp_path / "cache"
    post = posts(site)[0]
    budget = post.stat().st_size + 10
    before = same_as_clean(site, cache, size_budget=budget)
    with post.open("ab") as handle:
        handle.write(b"<!-- " + b"x" * 100 + b" -->\n")
    after = same_as_clean(site, cache, size_budget=budget)
    assert set(after.errors) - set(before.errors) == {
        check.Finding(
            Kind.OVER_BUDGET,
            rel(site, post),
            f"{post.stat().st_size:,} bytes, over the budget of {budget:,} bytes",
        )
    }


def test_an_image_grown_over_its_budget(site, tmp_path):
    cache = tmp_path / "cache"
    check_site(site, SITEURL, cache=cache)
    image = min(site.glob("images/v/*.webp"), key=lambda p: p.stat().st_size)
    image.write_bytes(image.read_bytes() + b"\0" * (2 * 1024 * 1024))
    report = same_as_clean(site, cache)
    assert [f.kind for f in report.errors] == [Kind.IMAGE_OVER_BUDGET]
    assert report.errors[0].detail.startswith(rel(site, image))


@pytest.mark.parametrize(
    "settings",
    [
        {"size_budget": 1000},
        {"https_required": False},
        {"drafts": True},
        {"ignore_prefixes": ()},
        {"image_budget": Budget(variant=10, original=10)},
    ],
    ids=["size budget", "https", "drafts", "ignored paths", "image budget"],
)
def test_a_rules_settings_changed(site, tmp_path, settings):
    cache = tmp_path / "cache"
    plain = check_site(site, SITEURL, cache=cache)
    same_as_clean(site, cache, **settings)
    assert check_site(site, SITEURL, cache=cache) == plain


def test_mixed_content_depends_on_https_not_on_the_cache(site, tmp_path):
    cache = tmp_path / "cache"

    def insecure(doc) -> None:
        etree.SubElement(
            doc.find(".//main"), "img", src="http://x.example/a.png", alt=""
        )

    edit(posts(site)[0], insecure)
    strict = same_as_clean(site, cache)
    assert Kind.MIXED_CONTENT in {f.kind for f in strict.errors}
    relaxed = same_as_clean(site, cache, https_required=False)
    assert Kind.MIXED_CONTENT not in {f.kind for f in relaxed.errors}
    assert sorted(p.name for p in cache.iterdir()) == [
        "facts-http.bin",
        "facts-https.bin",
    ]


def damage_truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def damage_garbage(path: Path) -> None:
    path.write_bytes(b"\x00\xff not a cache at all")


def damage_body(path: Path) -> None:
    """Same length, same header, one byte of the body changed."""
    data = bytearray(path.read_bytes())
    data[-10] ^= 0x01
    path.write_bytes(bytes(data))


def damage_version(path: Path) -> None:
    """A cache written by other rules (another version of the check)."""
    magic, _version, rest = path.read_bytes().split(b"\n", 2)
    path.write_bytes(b"\n".join((magic, b"older rules", rest)))


def damage_empty(path: Path) -> None:
    path.write_bytes(b"")


@pytest.mark.parametrize(
    "damage",
    [damage_truncate, damage_garbage, damage_body, damage_version, damage_empty],
)
def test_a_damaged_cache_is_rebuilt_not_trusted(site, tmp_path, parsed, damage):
    cache = tmp_path / "cache"
    first = check_site(site, SITEURL, cache=cache)
    damage(cache / "facts-https.bin")
    parsed.clear()
    assert check_site(site, SITEURL, cache=cache) == first
    assert len(parsed) == first.pages + first.drafts  # every page read again
    parsed.clear()
    assert check_site(site, SITEURL, cache=cache) == first
    assert parsed == []  # and written back whole


def test_the_cache_can_be_deleted(site, tmp_path, parsed):
    cache = tmp_path / "var" / "check"
    first = check_site(site, SITEURL, cache=cache)
    shutil.rmtree(cache)
    edit(posts(site)[0], append_link(f"{SITEURL}/missing/"))
    report = same_as_clean(site, cache)
    assert [f.kind for f in report.errors] == [Kind.BROKEN_LINK]
    assert first.ok and cache.is_dir()


def test_feeds_and_sitemap_are_judged_again_when_they_change(site, tmp_path):
    cache = tmp_path / "cache"
    check_site(site, SITEURL, cache=cache)
    (site / "feeds" / "all.atom.xml").write_text("<feed><entry>", encoding="utf-8")
    sitemap = site / "sitemap.xml"
    sitemap.write_text(
        sitemap.read_text(encoding="utf-8").replace(
            "</urlset>", f"<url><loc>{SITEURL}/nowhere/</loc></url></urlset>"
        ),
        encoding="utf-8",
    )
    report = same_as_clean(site, cache)
    assert {(f.kind, f.page) for f in report.errors} == {
        (Kind.INVALID_FEED, "feeds/all.atom.xml"),
        (Kind.BROKEN_LINK, "sitemap.xml"),
    }


def test_the_same_bytes_at_another_path_are_judged_where_they_are(site, tmp_path):
    """Facts are kept by content alone: a copy elsewhere reuses them, yet its
    relative links resolve from its own folder and findings name it."""
    cache = tmp_path / "cache"
    post = posts(site)[0]
    edit(post, append_link("../not-beside-me/"))
    check_site(site, SITEURL, cache=cache)
    copy = site / "deeper" / "still" / "index.html"
    copy.parent.mkdir(parents=True)
    shutil.copyfile(post, copy)
    report = same_as_clean(site, cache)
    broken = {(f.page, f.detail.rsplit(": ", 1)[1]) for f in report.errors}
    assert {
        (
            rel(site, post),
            f"no file {post.parent.parent.name}/not-beside-me/index.html in the output",
        ),
        (
            "deeper/still/index.html",
            "no file deeper/not-beside-me/index.html in the output",
        ),
    } <= broken


def test_invoke_check_keeps_its_cache(site, tmp_path):
    cache = tmp_path / "var" / "check"
    quiet = Console(file=io.StringIO())
    report = publishing.check(site, siteurl=SITEURL, console=quiet, cache=cache)
    assert report == check_site(site, SITEURL)
    assert (cache / "facts-https.bin").is_file()


def test_a_broken_link_in_reader_content_stays_a_warning(site, tmp_path):
    cache = tmp_path / "cache"
    check_site(site, SITEURL, cache=cache)
    pages = [
        p
        for p in sorted(site.rglob("*.html"))
        if b"data-reader-content" in p.read_bytes()
    ]
    assert pages, "the sample site shows community entries or comments"

    def break_reader_link(doc) -> None:
        container = doc.xpath("//*[@data-reader-content]")[0]
        etree.SubElement(container, "a", href=f"{SITEURL}/2099/gone/").text = "x"

    edit(pages[0], break_reader_link)
    report = same_as_clean(site, cache)
    assert report.ok
    assert [(f.kind, f.page) for f in report.warnings] == [
        (Kind.READER_CONTENT, rel(site, pages[0]))
    ]
