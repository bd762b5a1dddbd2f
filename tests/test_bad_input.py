"""Broken content fails the build with a message naming the file and the problem."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, run_pelican

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
        ["2026-02-broken.it.md", "are translations", "nessuno"],
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
