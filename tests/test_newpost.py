"""`invoke new-post`: writes a draft with the right metadata, never overwrites."""

from __future__ import annotations

import os
import pty
import re
import shutil
import subprocess
import sys
from datetime import datetime

import pytest
from conftest import FIXTURES, ROOT, invoke, run_pelican

from piazza.newpost import NewPostError, new_post, read_header


def test_new_post_writes_a_draft(project):
    proc = invoke(
        project,
        "new-post",
        "--title",
        "Il nuovo stabilimento di Lovere",
        "--category",
        "moto",
    )
    assert proc.returncode == 0, proc.stderr
    written = list(
        (project / "content" / "posts").glob("*il-nuovo-stabilimento-di-lovere.it.md")
    )
    assert len(written) == 1
    meta = read_header(written[0])
    assert meta["title"] == "Il nuovo stabilimento di Lovere"
    assert meta["slug"] == "il-nuovo-stabilimento-di-lovere"
    assert meta["lang"] == "it"
    assert meta["status"] == "draft"
    assert meta["author"] == "Chiara Valsecchi"
    assert meta["category"] == "Moto", "the site's name for the category"
    datetime.strptime(meta["date"], "%Y-%m-%d %H:%M")
    # the draft builds, and does not appear on the published site
    result = run_pelican(
        project / "out", content=project / "content", settings="publishconf.py"
    )
    assert result.returncode == 0, result.log
    assert "il-nuovo-stabilimento" not in (project / "out" / "index.html").read_text()


def test_new_post_translation_links_to_the_original(project):
    proc = invoke(
        project,
        "new-post",
        "--title",
        "Welcome again",
        "--lang",
        "en",
        "--translation-of",
        "benvenuti",
    )
    # benvenuti already has an English version
    assert proc.returncode == 1
    assert "already is the 'en' version of 'benvenuti'" in proc.stderr
    (project / "content" / "posts" / "2026-01-benvenuti.en.md").unlink()
    proc = invoke(
        project,
        "new-post",
        "--title",
        "Welcome",
        "--lang",
        "en",
        "--translation-of",
        "benvenuti",
    )
    assert proc.returncode == 0, proc.stderr
    meta = read_header(project / "content" / "posts" / "2026-01-benvenuti.en.md")
    assert meta["slug"] == "benvenuti"
    assert meta["translation"] == "true"
    assert meta["category"] == "Azienda"
    assert meta["tags"] == "blog"
    assert meta["date"] == "2026-01-10 10:00"


def test_new_post_refuses_to_overwrite(project):
    new = ("new-post", "--title", "Doppio", "--category", "Azienda")
    assert invoke(project, *new).returncode == 0
    [path] = (project / "content" / "posts").glob("*doppio.it.md")
    path.write_text(path.read_text() + "\nTesto prezioso.\n")
    proc = invoke(project, *new)
    assert proc.returncode == 1
    assert "doppio" in proc.stderr and "choose another title" in proc.stderr
    assert "Testo prezioso." in path.read_text()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"title": "Bonjour", "lang": "fr"}, "'fr' is not a language of this site"),
        ({"title": "   "}, "--title is empty"),
        ({"title": "Orphan", "lang": "en", "translation_of": "nessuno"}, "no post in"),
    ],
)
def test_new_post_rejects_bad_arguments(tmp_path, kwargs, message):
    kwargs = {"category": "Azienda", **kwargs}
    shutil.copytree(FIXTURES / "content" / "minimal" / "posts", tmp_path / "posts")
    before = sorted(p.name for p in (tmp_path / "posts").iterdir())
    args = {"lang": "it", **kwargs}
    with pytest.raises(NewPostError, match=message):
        new_post(
            tmp_path / "posts",
            languages=["it", "en"],
            default_lang="it",
            author="A",
            now=datetime(2026, 11, 22, 10, 0),
            categories={"azienda": "Azienda"},
            **args,
        )
    assert sorted(p.name for p in (tmp_path / "posts").iterdir()) == before


def test_invoke_list_describes_every_task():
    proc = subprocess.run(
        [sys.executable, "-m", "invoke", "-r", str(ROOT), "--list"],
        capture_output=True,
        text=True,
        check=True,
    )
    # "  name   One-line help" rows; wrapped help continues on deeper-indented lines
    rows = dict(re.findall(r"^  (\S+)\s{2,}(\S.*)$", proc.stdout, flags=re.MULTILINE))
    names = set(rows)
    assert all(help_text for help_text in rows.values())
    for name in (
        "clean",
        "build",
        "rebuild",
        "regenerate",
        "serve",
        "livereload",
        "preview",
        "new-post",
        "test",
        "lint",
    ):
        assert name in names, proc.stdout


def _posts(project) -> list[str]:
    return sorted(p.name for p in (project / "content" / "posts").iterdir())


def test_new_post_help_shows_the_options_and_writes_nothing(project):
    before = _posts(project)
    proc = invoke(project, "new-post", "--help")
    assert proc.returncode == 0, proc.stderr
    assert "--title" in proc.stdout and "--category" in proc.stdout
    assert _posts(project) == before


@pytest.mark.parametrize(
    "args",
    [
        ("--title", "-x", "--category", "Azienda"),
        ("--title", "--help"),
        ("--category", "Azienda"),
    ],
    ids=["dash-title", "help-as-title", "no-title"],
)
def test_new_post_never_makes_a_post_from_an_option(project, args):
    before = _posts(project)
    proc = invoke(project, "new-post", *args)
    assert proc.returncode == 2, proc.stdout
    assert "usage: invoke new-post --title" in proc.stderr
    assert _posts(project) == before


def test_new_post_refuses_a_category_the_site_does_not_have(project):
    before = _posts(project)
    proc = invoke(project, "new-post", "--title", "Raduno", "--category", "Eventi")
    assert proc.returncode == 2
    message = " ".join(proc.stderr.split())
    assert "'Eventi' is not a category of this site" in message
    assert "Azienda, Comunità, Corse, Moto" in message
    assert _posts(project) == before


def test_new_post_without_a_category_and_no_terminal_is_refused(project):
    before = _posts(project)
    proc = invoke(project, "new-post", "--title", "Raduno")
    assert proc.returncode == 2
    message = " ".join(proc.stderr.split())
    assert "--category is required: one of Azienda, Comunità, Corse, Moto" in message
    assert _posts(project) == before


def test_new_post_asks_for_the_category_at_a_terminal(project):
    main, terminal = pty.openpty()
    os.write(main, b"3\n")  # the answer waits in the terminal's input
    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "invoke",
                "-r",
                str(project),
                "new-post",
                "--title",
                "Raduno di primavera",
            ],
            cwd=project,
            stdin=terminal,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(terminal)
        os.close(main)
    assert proc.returncode == 0, proc.stderr
    assert "1. Azienda" in proc.stdout and "4. Moto" in proc.stdout
    [path] = (project / "content" / "posts").glob("*raduno-di-primavera.it.md")
    assert read_header(path)["category"] == "Corse"
