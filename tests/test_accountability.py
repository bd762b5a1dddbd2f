"""The public record (plugins/accountability): "Cosa abbiamo fatto con le vostre
idee" / "What we did with your ideas", built from the ideas snapshot that the
report's tests use (tests/fixtures/report/snapshot.json, served on loopback)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from conftest import ROOT, build_site, free_port, serving
from lxml import html
from test_html_validity import vnu_errors
from test_report import SnapshotHandler

sys.path.insert(0, str(ROOT / "plugins"))

from accountability.figures import figures

PAGES = {
    "it": "idee/cosa-abbiamo-fatto/index.html",
    "en": "en/ideas/what-we-did/index.html",
}
AUTHORS = ("Ada", "Hal", "Dario", "Elena", "Bruno", "Ivy")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("accountability")
    with serving(SnapshotHandler) as url:
        return build_site(
            folder / "output",
            IDEAS_API_URL=url,
            IDEAS_SNAPSHOT_CACHE=str(folder / "snapshot.json"),
        )


def _page(built: Path, lang: str) -> html.HtmlElement:
    return html.fromstring((built / PAGES[lang]).read_text(encoding="utf-8"))


@pytest.mark.parametrize("lang", ["it", "en"])
def test_the_page_shows_the_figures(built, lang):
    page = _page(built, lang)
    assert page.get("lang") == lang
    # 5 ideas counted (not the duplicate); 1, 3 and 6 answered: 60%.
    assert page.cssselect("[data-figure=share-answered]")[0].text == "60%"
    # First answers after 10, 4 and 30 days: the median is 10.
    assert page.cssselect("[data-figure=median-days]")[0].text == "10"
    quarters = {r.get("data-quarter"): r.cssselect("td")[1].text for r in
                page.cssselect(".accountability-quarters tbody tr")}  # fmt: skip
    assert quarters == {"2026-Q1": "1"}
    assert page.cssselect("svg.accountability-chart rect")


def test_each_language_points_to_the_other(built):
    it, en = _page(built, "it"), _page(built, "en")
    links = {
        lang: {a.get("hreflang"): a.get("href") for a in
               page.cssselect("link[rel=alternate][hreflang]")}
        for lang, page in (("it", it), ("en", en))
    }  # fmt: skip
    assert links["it"]["en"].endswith("/en/ideas/what-we-did/")
    assert links["en"]["it"].endswith("/idee/cosa-abbiamo-fatto/")
    assert links["it"] == links["en"]


def _target(built: Path, href: str) -> Path:
    path = href.split("://", 1)[-1].split("/", 1)[1]
    return built / path / "index.html"


def test_the_latest_decisions_link_to_the_boards_idea_pages(built):
    it, en = _page(built, "it"), _page(built, "en")
    items = it.cssselect(".accountability-decisions li")
    assert [int(li.get("data-idea-id")) for li in items] == [3, 1, 1, 3, 6]
    for page in (it, en):
        for item in page.cssselect(".accountability-decisions li"):
            target = _target(built, item.cssselect("a")[0].get("href"))
            # The board's own page of that idea (content/ideas/ has 1 to 7).
            shown = html.parse(str(target)).xpath("//article[@data-idea-id]")
            assert [a.get("data-idea-id") for a in shown] == [item.get("data-idea-id")]
    assert items[0].cssselect("blockquote")[0].text == "In vendita dai concessionari."
    first = en.cssselect(".accountability-decisions li")[0]
    assert "/en/ideas/" in first.cssselect("a")[0].get("href")
    assert first.cssselect("blockquote")[0].text == "On sale at the dealers."


@pytest.mark.parametrize("lang", ["it", "en"])
def test_only_aggregate_numbers_no_person(built, lang):
    main = _page(built, lang).cssselect("main")[0]
    text = main.text_content()
    assert not re.search(r"[\w.]+@[\w.]+", text)
    assert not re.search(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b", text)
    for name in AUTHORS:
        assert not re.search(rf"\b{name}\b", text), name


def test_the_pages_are_valid_html(built):
    errors = vnu_errors([str(built / p) for p in PAGES.values()])
    assert not errors, "\n".join(errors)


def test_a_service_that_is_down_gives_the_last_copy(built, tmp_path):
    # The first build kept a copy; a build with the service gone reads it,
    # says so on the page, and does not fail (the build's warnings are fatal).
    cache = built.parent / "snapshot.json"
    assert cache.is_file()
    again = build_site(
        tmp_path / "output",
        IDEAS_API_URL=f"http://127.0.0.1:{free_port()}",
        IDEAS_SNAPSHOT_CACHE=str(cache),
    )
    page = _page(again, "it")
    assert page.cssselect(".accountability-stale")
    assert page.cssselect("[data-figure=share-answered]")[0].text == "60%"


def test_no_ideas_no_division_by_zero():
    empty = figures(())
    assert (empty.ideas, empty.share_answered, empty.median_days) == (0, None, None)
