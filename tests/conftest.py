"""Shared fixtures: building the sample site, serving it, finding tools.

A build runs Pelican in a subprocess, exactly as `invoke build` does
(``--fatal warnings``), so tests see the same exit codes and messages an editor
would.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from piazza import pelican_run
from piazza.search import index_site

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
ARTIFACTS = ROOT / "test-artifacts"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need_tool(available: bool, reason: str) -> None:
    """Skip loudly when a tool is missing, but fail under CI=true."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing tool is a failure, not a skip)")
    pytest.skip(f"SKIPPED LOUDLY: {reason}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class BuildResult:
    returncode: int
    output: Path
    log: str


def run_pelican(
    output: Path,
    *,
    content: Path | None = None,
    settings: str = "publishconf.py",
    overrides: dict | None = None,
    cwd: Path = ROOT,
) -> BuildResult:
    """Build a site with Pelican in a subprocess and return what happened."""
    proc = pelican_run.run_pelican(
        output,
        settings=ROOT / settings,
        content=content,
        overrides=overrides,
        cwd=cwd,
        timeout=300,
    )
    return BuildResult(proc.returncode, output, proc.stdout + proc.stderr)


def build_site(output: Path, **overrides) -> Path:
    """Build the sample site into ``output`` and fail the test if it fails,
    then its search index, as `invoke build` does.

    The community section comes from the snapshot shipped with the content,
    never from a developer's own `invoke aggregate` cache in var/.
    """
    overrides = {"COMMUNITY_CACHE_DIR": str(output.parent / "no-cache"), **overrides}
    result = run_pelican(output, overrides=overrides)
    assert result.returncode == 0, f"build failed:\n{result.log}"
    index_site(output)
    return output


@dataclass(frozen=True)
class Site:
    """A built sample site and the loopback URL it is built for."""

    output: Path
    siteurl: str


@pytest.fixture(scope="session")
def site_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def published_site(tmp_path_factory, site_port) -> Site:
    """The sample site built with the production settings, for a loopback URL."""
    siteurl = f"http://127.0.0.1:{site_port}"
    output = tmp_path_factory.mktemp("published") / "output"
    build_site(output, SITEURL=siteurl, FEED_DOMAIN=siteurl)
    return Site(output, siteurl)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@contextlib.contextmanager
def serve_directory(root: Path, port: int) -> Iterator[str]:
    """Serve a folder over HTTP on 127.0.0.1:port for the duration."""
    with serving(functools.partial(_QuietHandler, directory=str(root)), port) as url:
        yield url


@contextlib.contextmanager
def serving(handler, port: int = 0) -> Iterator[str]:
    """An http.server ``handler`` on 127.0.0.1:port (0: a free one), its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def served_site(published_site, site_port) -> Iterator[Site]:
    with serve_directory(published_site.output, site_port):
        yield published_site


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def chromium_path() -> str | None:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium") or ""):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    path = chromium_path()
    need_tool(path is not None, "Chromium not found at /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the project with the minimal content, to run tasks in."""
    for name in ("tasks.py", "pelicanconf.py", "publishconf.py"):
        shutil.copy(ROOT / name, tmp_path / name)
    for folder in ("piazza", "plugins", "theme"):
        shutil.copytree(
            ROOT / folder,
            tmp_path / folder,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    shutil.copytree(FIXTURES / "content" / "minimal", tmp_path / "content")
    return tmp_path


def invoke(project: Path, *args: str) -> subprocess.CompletedProcess:
    """Run an invoke task of a project copy, as an editor would."""
    return subprocess.run(
        [sys.executable, "-m", "invoke", "-r", str(project), *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
