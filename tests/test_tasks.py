"""The editor's build tasks, run as an editor runs them."""

from __future__ import annotations

from conftest import invoke
from lxml import html


def test_build_writes_the_site_and_keeps_drafts_apart(project):
    (project / "content" / "posts" / "2026-02-bozza.it.md").write_text(
        "Title: Bozza\nDate: 2026-02-01 10:00\nSlug: bozza\nLang: it\n"
        "Category: Azienda\nStatus: draft\n\nTesto.\n",
        encoding="utf-8",
    )
    proc = invoke(project, "build")
    assert proc.returncode == 0, proc.stderr
    home = html.fromstring((project / "output" / "index.html").read_bytes())
    assert home.xpath("//main//h2/a/text()") == ["Benvenuti"]
    assert (project / "output" / "bozze" / "bozza" / "index.html").is_file()


def test_build_fails_on_broken_content_with_a_readable_message(project):
    (project / "content" / "posts" / "rotto.md").write_text(
        "Date: 2026-02-01 10:00\nSlug: rotto\nLang: it\n\nTesto.\n", encoding="utf-8"
    )
    proc = invoke(project, "build")
    assert proc.returncode != 0
    log = " ".join((proc.stdout + proc.stderr).split())
    assert "rotto.md" in log and "title" in log
    assert "Traceback" not in log, "a content mistake is reported without a traceback"


def test_preview_builds_production_settings_with_drafts(project):
    (project / "content" / "posts" / "2026-02-bozza.it.md").write_text(
        "Title: Bozza\nDate: 2026-02-01 10:00\nSlug: bozza\nLang: it\n"
        "Category: Azienda\nStatus: draft\n\nTesto.\n",
        encoding="utf-8",
    )
    proc = invoke(project, "preview", "--no-serve")
    assert proc.returncode == 0, proc.stderr
    assert "draft: http://localhost:8000/bozze/bozza/" in proc.stdout
    preview = project / "var" / "preview"
    assert (preview / "bozze" / "bozza" / "index.html").is_file()
    # production settings, local address
    page = html.fromstring((preview / "index.html").read_bytes())
    assert (
        page.xpath('string(//link[@rel="canonical"]/@href)') == "http://localhost:8000/"
    )
