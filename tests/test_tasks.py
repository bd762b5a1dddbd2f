"""The editor's build tasks, run as an editor runs them."""

from __future__ import annotations

import json
import re
import shutil
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


DRAFT_WITH_ITS_OWN_TAG = (
    "Title: Bozza\nDate: 2026-02-01 10:00\nSlug: bozza\nLang: it\n"
    "Category: Azienda\nTags: solo-bozze\nStatus: draft\n\nTesto.\n"
)


def test_a_fresh_clone_passes_build_then_check(tmp_path):
    """What `git clone` gives (tracked files only, no var/ nor output/)."""
    clone = tmp_path / "clone"
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    for rel in filter(None, tracked.split("\0")):
        if (ROOT / rel).is_file():
            (clone / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, clone / rel)
    build = invoke(clone, "build")
    assert build.returncode == 0, build.stdout + build.stderr
    check = invoke(clone, "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "check OK" in check.stdout


def test_a_build_leaves_no_stale_pages(project):
    post = project / "content" / "posts" / "2026-02-passeggera.it.md"
    post.write_text(
        "Title: Passeggera\nDate: 2026-02-01 10:00\nSlug: passeggera\nLang: it\n"
        "Category: Azienda\n\nTesto.\n",
        encoding="utf-8",
    )
    assert invoke(project, "build").returncode == 0
    page = project / "output" / "2026" / "passeggera" / "index.html"
    assert page.is_file()
    post.unlink()
    proc = invoke(project, "build")
    assert proc.returncode == 0, proc.stderr
    assert not page.exists()
    assert (project / "output" / "2026" / "benvenuti" / "index.html").is_file()


def test_drafts_carry_a_banner_and_noindex_and_stay_out_of_the_check(project):
    # The site's favicon, so that the check has nothing else to say.
    shutil.copytree(ROOT / "content" / "extra", project / "content" / "extra")
    (project / "content" / "posts" / "2026-02-bozza.it.md").write_text(
        DRAFT_WITH_ITS_OWN_TAG, encoding="utf-8"
    )
    assert invoke(project, "preview", "--no-serve").returncode == 0
    preview = project / "var" / "preview"
    draft = html.fromstring((preview / "bozze/bozza/index.html").read_bytes())
    assert draft.get("data-status") == "draft"
    assert draft.xpath('//head/meta[@name="robots"]/@content') == ["noindex"]
    [banner] = draft.xpath('//main/p[@class="draft-banner"]')
    assert banner.xpath("string(strong)") == "Bozza"
    # The tag only this draft uses has no page yet: shown, not linked.
    assert draft.xpath('//p[@class="tags"]/span[@class="tag"]/text()') == [
        "#solo-bozze"
    ]
    assert not draft.xpath('//a[contains(@href, "solo-bozze")]')
    published = html.fromstring((preview / "2026/benvenuti/index.html").read_bytes())
    assert published.get("data-status") is None
    assert not published.xpath('//meta[@name="robots"] | //*[@class="draft-banner"]')
    english = html.fromstring((preview / "en/2026/benvenuti/index.html").read_bytes())
    assert not english.xpath('//*[@class="draft-banner"]')
    checked = invoke(project, "check", "--output", str(preview), "--drafts")
    assert checked.returncode == 0, checked.stdout
    # The development build writes the draft; its check leaves it out.
    assert invoke(project, "build").returncode == 0
    checked = invoke(project, "check")
    assert checked.returncode == 0, checked.stdout
    assert "1 draft page left out" in checked.stdout


def test_check_findings_are_whole_lines_without_a_terminal(project):
    shutil.copytree(ROOT / "content" / "extra", project / "content" / "extra")
    missing = (
        "/una/pagina/che/non/esiste/con/un/indirizzo/lungo/abbastanza/da/andare/a/capo/"
    )
    (project / "content" / "posts" / "2026-02-link.it.md").write_text(
        "Title: Link\nDate: 2026-02-01 10:00\nSlug: link\nLang: it\n"
        "Category: Azienda\nSummary: Un collegamento.\n\n"
        f"[rotto](http://localhost:8000{missing})\n",
        encoding="utf-8",
    )
    assert invoke(project, "build").returncode == 0
    proc = invoke(project, "check")
    assert proc.returncode == 1
    lines = [ln for ln in proc.stdout.splitlines() if missing in ln]
    assert any(ln.startswith("  2026/link/index.html: <a href>") for ln in lines)
    # Each finding whole: the URL and the file it should be on one line.
    assert all(
        ln.endswith(f"{missing.strip('/')}/index.html in the output") for ln in lines
    )
    assert "check FAILED:" in proc.stdout and ", 1 error," in proc.stdout
    assert proc.stderr.startswith("check: ") and "has 1 error: fix it" in proc.stderr
