"""The archive by year: archivio/ lists the years and the latest posts,
archivio/<year>/ every post of that year, in each language; no page grows with
the age of the blog (issue 16)."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import ROOT, run_pelican
from lxml import html

from multilang.glue import year_archives

sys.path.insert(0, str(ROOT / "bench"))
from synth import make_site

LATEST = 20  # pelicanconf.ARCHIVE_LATEST


def _post(day: str):
    return SimpleNamespace(date=datetime.fromisoformat(day))


def test_posts_go_by_year_newest_first():
    posts = [_post(d) for d in ("2024-03-01", "2026-01-05", "2024-12-31", "2026-07-01")]
    years = year_archives(posts)
    assert [year for year, _ in years] == [2026, 2024]
    assert [p.date.month for p in years[0][1]] == [7, 1]
    assert [p.date.month for p in years[1][1]] == [12, 3]


@pytest.fixture(scope="module")
def big_site(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("archive")
    content = make_site(base / "content", 1000, translated=0.2)  # 2020 to 2022
    output = base / "output"
    result = run_pelican(
        output,
        content=content,
        settings="pelicanconf.py",
        overrides={"COMMUNITY_CACHE_DIR": str(base / "none")},
    )
    assert result.returncode == 0, result.log
    return output


def _titles(page: Path) -> list[str]:
    tree = html.parse(str(page))
    return [a.text_content() for a in tree.xpath("//ul[@class='archive-list']/li/a")]


@pytest.mark.parametrize("prefix", ["", "en/"])
def test_each_year_has_its_page_and_together_they_list_every_post(big_site, prefix):
    index = big_site / prefix / "archivio" / "index.html"
    tree = html.parse(str(index))
    links = tree.xpath("//nav[@class='archive-years']//a")
    years = [a.text_content() for a in links]
    assert years == ["2022", "2021", "2020"]
    counts = [
        int(c.text_content().split()[0])
        for c in tree.xpath("//nav[@class='archive-years']//*[@class='archive-count']")
    ]
    listed = []
    for year, count, link in zip(years, counts, links, strict=True):
        page = big_site / prefix / "archivio" / year / "index.html"
        assert link.get("href").endswith(f"/{prefix}archivio/{year}/")
        titles = _titles(page)
        assert len(titles) == count
        dates = html.parse(str(page)).xpath(
            "//ul[@class='archive-list']//time/@datetime"
        )
        assert {d[:4] for d in dates} == {year}
        listed += titles
    assert len(listed) == len(set(listed)) == 1000
    assert len(_titles(index)) == LATEST


def test_a_year_page_links_its_other_language(big_site):
    tree = html.parse(str(big_site / "en" / "archivio" / "2021" / "index.html"))
    alternates = {
        link.get("hreflang"): link.get("href")
        for link in tree.xpath("//link[@rel='alternate'][@hreflang]")
    }
    assert alternates["it"].endswith("/archivio/2021/")
    assert alternates["en"].endswith("/en/archivio/2021/")
    assert tree.xpath("//html/@lang") == ["en"]


def test_the_archive_page_does_not_grow_with_the_blog(big_site):
    # 1,000 posts; the archive page holds the years and the latest 20 only.
    for prefix in ("", "en/"):
        assert (big_site / prefix / "archivio" / "index.html").stat().st_size < 40_000
