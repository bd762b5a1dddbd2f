"""Every generated page passes the Nu Html Checker (vnu-jar, run with Java)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from conftest import ROOT, need_tool

VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def vnu_errors(pages: list[str]) -> list[str]:
    """The Nu Html Checker's errors for these files (empty: all valid)."""
    java = shutil.which("java")
    need_tool(
        java is not None, "Java is not installed (apt-get install default-jre-headless)"
    )
    need_tool(VNU_JAR.is_file(), f"{VNU_JAR} is missing (run `npm ci`)")
    proc = subprocess.run(
        [
            java,
            "-Xss4m",
            "-jar",
            str(VNU_JAR),
            "--errors-only",
            "--format",
            "json",
            *pages,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    messages = json.loads(proc.stderr or proc.stdout or '{"messages": []}')["messages"]
    errors = [
        f"{m.get('url', '?').split('/output/')[-1]}:{m.get('lastLine', '?')}: "
        f"{m['message']}"
        for m in messages
        if m.get("type") in ("error", "non-document-error")
    ]
    if not errors and proc.returncode != 0:
        errors = [proc.stderr[-2000:]]
    return errors


def test_every_page_is_valid_html(published_site):
    pages = sorted(str(p) for p in Path(published_site.output).rglob("*.html"))
    assert len(pages) > 20
    errors = vnu_errors(pages)
    assert not errors, "\n".join(errors[:50])
