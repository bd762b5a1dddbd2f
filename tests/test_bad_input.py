"""Broken content fails the build with a message naming the file and the problem."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, run_pelican
from lxml import html

MINIMAL = FIXTURES / "content" / "minimal"

BROKEN = {
    "no-title": (
        (
            "Date: 2026-02-01 10:00\nSlug: senza-titolo\nLang: it\n"
            "Category: Azienda\n\nTesto.\n"
        ),
        ["2026-02-broken.it.md", "title"],
    ),
    "bad-date": (
        (
            "Title: Data sbagliata\nDate: 31/31/2026 ore 25\nSlug: data\nLang: it\n"
            "Category: Azienda\n\nTesto.\n"
        ),
        ["2026-02-broken.it.md", "31/31/2026"],
    ),
    "unknown-lang": (
        (
            "Title: Bonjour\nDate: 2026-02-01 10:00\nSlug: bonjour\nLang: fr\n"
            "Category: Azienda\n\nTexte.\n"
        ),
        ["2026-02-broken.it.md", "unknown language", "fr"],
    ),
    "orphan-translation": (
        (
            "Title: Orphan\nDate: 2026-02-01 10:00\nSlug: nessuno\nLang: en\n"
            "Translation: true\nCategory: Azienda\n\nText.\n"
        ),
        ["2026-02-broken.it.md", "no original with 'Slug: nessuno'"],
    ),
    "no-category": (
        "Title: Senza categoria\nDate: 2026-02-01 10:00\nSlug: senza\nLang: it\n\nT.\n",
        [
            "2026-02-broken.it.md",
            "no 'Category:'",
            "Azienda, Comunità, Corse, Moto",
        ],
    ),
    "unknown-category": (
        (
            "Title: Raduno\nDate: 2026-02-01 10:00\nSlug: raduno\nLang: it\n"
            "Category: Eventi\n\nTesto.\n"
        ),
        [
            "2026-02-broken.it.md",
            "unknown category 'Category: Eventi'",
            "Azienda, Comunità, Corse, Moto",
        ],
    ),
    "image-without-alt": (
        (
            "Title: Foto\nDate: 2026-02-01 10:00\nSlug: foto\nLang: it\n"
            "Category: Azienda\n\n"
            '<img src="https://cdn.example/x.jpg">\n'
        ),
        ["2026-02-broken.it.md", "alt text"],
    ),
}


@pytest.fixture
def content(tmp_path) -> Path:
    folder = tmp_path / "content"
    shutil.copytree(MINIMAL, folder)
    return folder


def test_minimal_content_builds(content, tmp_path):
    result = run_pelican(tmp_path / "out", content=content, settings="pelicanconf.py")
    assert result.returncode == 0, result.log
    assert (tmp_path / "out" / "en" / "2026" / "benvenuti" / "index.html").is_file()


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_post_fails_the_build_naming_file_and_problem(content, tmp_path, case):
    text, expected = BROKEN[case]
    (content / "posts" / "2026-02-broken.it.md").write_text(text, encoding="utf-8")
    result = run_pelican(tmp_path / "out", content=content, settings="pelicanconf.py")
    assert result.returncode != 0, f"{case} built without error:\n{result.log}"
    log = " ".join(result.log.split())
    for fragment in expected:
        assert fragment in log, f"{fragment!r} not in the build log:\n{result.log}"


# --- Translations publish one at a time ------------------------------------------

ORIGINAL = (
    "Title: Originale\nDate: 2026-02-01 10:00\nSlug: originale\nLang: it\n"
    "Category: Azienda\nStatus: {status}\n\nTesto.\n"
)
TRANSLATION = (
    "Title: Original\nDate: 2026-02-01 10:00\nSlug: originale\nLang: en\n"
    "Translation: true\nCategory: Azienda\nStatus: {status}\n\nText.\n"
)
PAGE_ORIGINAL = (
    "Title: Contatti\nSlug: contatti\nLang: it\nStatus: {status}\n\nTesto.\n"
)
PAGE_TRANSLATION = (
    "Title: Contacts\nSlug: contatti\nLang: en\nTranslation: true\n"
    "Status: {status}\n\nText.\n"
)


SITE = os.environ.get("PIAZZA_SITEURL", "https://www.officineardesia.example")


def _hreflangs(page: Path) -> dict[str, str]:
    doc = html.fromstring(page.read_bytes())
    return {
        link.get("hreflang"): link.get("href")
        for link in doc.xpath('//head/link[@rel="alternate"][@hreflang]')
    }


def _switch(page: Path) -> list[str]:
    doc = html.fromstring(page.read_bytes())
    return doc.xpath("//a[@hreflang]/@href")


@pytest.mark.parametrize("kind", ["posts", "pages"])
def test_an_original_publishes_while_its_translation_is_a_draft(
    content, tmp_path, kind
):
    original, translation = (
        (ORIGINAL, TRANSLATION)
        if kind == "posts"
        else (PAGE_ORIGINAL, PAGE_TRANSLATION)
    )
    slug = "originale" if kind == "posts" else "contatti"
    (content / kind / f"{slug}.it.md").write_text(
        original.format(status="published"), encoding="utf-8"
    )
    (content / kind / f"{slug}.en.md").write_text(
        translation.format(status="draft"), encoding="utf-8"
    )
    out = tmp_path / "out"
    result = run_pelican(out, content=content)  # production: drafts not written
    assert result.returncode == 0, result.log
    page = out / ("2026/" if kind == "posts" else "") / slug / "index.html"
    assert page.is_file()
    assert _hreflangs(page) == {}, "no hreflang to a draft"
    # The switch leads to the English home page, not to the draft.
    assert [h for h in _switch(page) if "/en/" in h] == [f"{SITE}/en/"]
    assert not list(out.rglob(f"en/**/{slug}/index.html"))
    # The translation published: the switch and the alternates appear.
    (content / kind / f"{slug}.en.md").write_text(
        translation.format(status="published"), encoding="utf-8"
    )
    result = run_pelican(out, content=content)
    assert result.returncode == 0, result.log
    assert set(_hreflangs(page)) == {"it", "en", "x-default"}
    assert next(h for h in _switch(page) if "/en/" in h).endswith(f"/{slug}/")


@pytest.mark.parametrize("kind", ["posts", "pages"])
def test_a_published_translation_of_a_draft_is_one_error_naming_both_files(
    content, tmp_path, kind
):
    original, translation = (
        (ORIGINAL, TRANSLATION)
        if kind == "posts"
        else (PAGE_ORIGINAL, PAGE_TRANSLATION)
    )
    (content / kind / "orig.it.md").write_text(
        original.format(status="draft"), encoding="utf-8"
    )
    (content / kind / "transl.en.md").write_text(
        translation.format(status="published"), encoding="utf-8"
    )
    result = run_pelican(tmp_path / "out", content=content)
    assert result.returncode != 0, result.log
    errors = [
        line for line in result.log.splitlines() if f"{kind}/transl.en.md" in line
    ]
    assert len(errors) == 1, result.log
    assert f"{kind}/orig.it.md" in errors[0] and "is a draft" in errors[0]
    assert "are translations" not in result.log


def test_a_draft_translation_of_a_draft_builds(content, tmp_path):
    (content / "posts" / "orig.it.md").write_text(
        ORIGINAL.format(status="draft"), encoding="utf-8"
    )
    (content / "posts" / "transl.en.md").write_text(
        TRANSLATION.format(status="draft"), encoding="utf-8"
    )
    result = run_pelican(tmp_path / "out", content=content, settings="pelicanconf.py")
    assert result.returncode == 0, result.log
    assert (tmp_path / "out" / "bozze" / "en" / "originale" / "index.html").is_file()


def test_an_orphan_page_translation_names_its_file_and_slug(content, tmp_path):
    (content / "pages" / "orfana.en.md").write_text(
        PAGE_TRANSLATION.format(status="published"), encoding="utf-8"
    )
    result = run_pelican(tmp_path / "out", content=content)
    assert result.returncode != 0
    log = " ".join(result.log.split())
    assert "pages/orfana.en.md" in log and "no original with 'Slug: contatti'" in log
    assert "are translations" not in log
