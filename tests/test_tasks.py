"""The editor's build tasks, run as an editor runs them."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from conftest import ROOT, invoke
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


def test_a_task_error_is_prefixed_with_the_task_name(project):
    proc = invoke(project, "feeds-import", "missing.opml")
    assert proc.returncode == 1
    assert proc.stderr.startswith("feeds-import: "), proc.stderr
    assert "import_opml" not in proc.stderr


def test_build_messages_are_whole_lines_without_a_terminal(project):
    folder = project / "content" / "posts" / ("un-percorso-molto-lungo-" * 4)
    folder.mkdir()
    broken = folder / "un-articolo-senza-titolo-con-un-nome-di-file-lungo.it.md"
    broken.write_text("Date: 2026-02-01 10:00\nLang: it\n\nTesto.\n", encoding="utf-8")
    proc = invoke(project, "build")
    assert proc.returncode != 0
    rel = broken.relative_to(project / "content").as_posix()
    lines = (proc.stdout + proc.stderr).splitlines()
    assert any(rel in line for line in lines), "the path is cut across lines"
    assert not [line for line in lines if line.endswith(" ")], "lines padded"


def test_the_readme_lists_every_task():
    listed = subprocess.run(
        [sys.executable, "-m", "invoke", "--list", "--list-format=json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    tasks = {t["name"].replace("_", "-") for t in json.loads(listed.stdout)["tasks"]}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### All tasks", 1)[1].split("\n## ", 1)[0]
    assert tasks <= set(re.findall(r"`([a-z-]+)`", section))
