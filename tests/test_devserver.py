"""The editor's servers, run as an editor runs them: `invoke dev`,
`livereload`, `serve` and `preview` in subprocesses, a real Isso, a real
Chromium for the error shown in the page."""

from __future__ import annotations

import contextlib
import itertools
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, free_port, invoke
from isso_server import call, new_comment, running_isso
from lxml import html

from piazza import pelican_run
from piazza.siteserver import DEV_STRINGS, dev_strings

POST = Path("content/posts/2026-01-benvenuti.it.md")
PAGE = "2026/benvenuti/"


def _get(url: str, data: bytes | None = None, headers=None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _poll(condition, what: str, timeout: float = 120):
    """Wait until ``condition()`` is true (and return it), or fail."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _answers(url: str) -> bool:
    try:
        _get(url)
    except OSError:
        return False
    return True


@contextlib.contextmanager
def running_task(project: Path, *args: str, port: int) -> Iterator[Path]:
    """`invoke ARGS` in the background until it serves on ``port``; stopped
    with Ctrl-C (SIGINT) on the way out. Yields the file of its output."""
    log = project / f"task-{port}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "invoke", "-r", str(project), *args],
            cwd=project,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _poll(
            lambda: process.poll() is not None or _answers(f"http://127.0.0.1:{port}/"),
            f"invoke {' '.join(args)} to serve",
        )
        assert process.poll() is None, log.read_text()
        yield log
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                pytest.fail(f"Ctrl-C did not stop it:\n{log.read_text()}")


def _status(port: int, since: int = -1) -> dict:
    return json.loads(
        _get(f"http://127.0.0.1:{port}/__piazza__/status?since={since}")[1]
    )


def _settled(port: int) -> dict | None:
    status = _status(port)
    return status if status["ready"] and not status["building"] else None


def _dev_project(project: Path, isso_port: int) -> Path:
    """The project copy with Isso's dev config on a port of its own, and a
    build that never reaches another Isso (no comments to snapshot)."""
    (project / "deploy").mkdir()
    config = (ROOT / "deploy" / "isso.dev.cfg").read_text(encoding="utf-8")
    (project / "deploy" / "isso.dev.cfg").write_text(
        config.replace("8080", str(isso_port)), encoding="utf-8"
    )
    return project


def _title(body: bytes) -> str:
    return html.fromstring(body).xpath("string(//h1[@id='post-title'])")


@pytest.mark.browser
def test_dev_survives_a_broken_post_and_recovers_without_restart(project, browser):
    port, isso_port = free_port(), free_port()
    _dev_project(project, isso_port)
    site, isso = f"http://localhost:{port}", f"http://127.0.0.1:{isso_port}"
    with running_task(project, "dev", "--port", str(port), port=port) as log:
        _poll(lambda: _settled(port), "the first build")
        assert _title(_get(f"{site}/{PAGE}")[1]) == "Benvenuti"
        page = browser.new_page()
        page.goto(f"{site}/{PAGE}")

        source = project / POST
        good = source.read_text(encoding="utf-8")
        source.write_text(good.replace("Title: Benvenuti\n", ""), encoding="utf-8")
        status = _poll(lambda: _status(port)["error"] and _status(port), "the error")
        assert status["error"]["file"] == POST.as_posix()

        # The last good site is still served, and Isso still answers.
        code, body = _get(f"{site}/{PAGE}")
        assert code == 200 and _title(body) == "Benvenuti"
        assert _get(f"{isso}/config")[0] == 200
        # The open page shows the error, naming the file.
        panel = page.locator("#piazza-dev-error")
        panel.wait_for(timeout=60_000)
        assert POST.as_posix() in panel.inner_text()
        assert dev_strings(ROOT / "theme", "it")["failed"] in panel.inner_text()
        terminal = log.read_text()
        assert "Build failed" in terminal and POST.as_posix() in terminal
        assert "Traceback" not in terminal

        # Fixed: the page comes back by itself, without a restart.
        source.write_text(good.replace("Benvenuti\n", "Benvenuti davvero\n", 1))
        page.wait_for_function(
            "() => document.querySelector('#post-title')?.textContent"
            " === 'Benvenuti davvero' && !document.querySelector('#piazza-dev-error')",
            timeout=60_000,
        )
        assert _status(port)["error"] is None
        page.close()
    # Ctrl-C stopped Isso too.
    assert not _answers(f"{isso}/config")
    output = log.read_text()
    assert "unable to connect to your website" not in output
    lines = [line for line in output.splitlines() if line.strip()]
    twice = [a for a, b in itertools.pairwise(lines) if a == b]
    assert not twice, "a log line printed twice:\n" + output


def test_the_changed_post_first_then_a_site_identical_to_a_clean_build(project):
    port = free_port()
    settings = project / "pelicanconf.py"
    # No Isso for this one: the build goes on without the comments' snapshot.
    settings.write_text(
        settings.read_text(encoding="utf-8")
        + f'\nISSO_API_URL = "http://127.0.0.1:{free_port()}"\n',
        encoding="utf-8",
    )
    site = f"http://localhost:{port}"
    with running_task(project, "livereload", "--port", str(port), port=port) as log:
        first = _poll(lambda: _settled(port), "the first build")
        source = project / POST
        source.write_text(
            source.read_text(encoding="utf-8").replace("sul blog", "sul nostro blog"),
            encoding="utf-8",
        )
        _poll(
            lambda: b"sul nostro blog" in _get(f"{site}/{PAGE}")[1], "the changed post"
        )
        final = _poll(
            lambda: (s := _settled(port)) and s["site"] != first["site"] and s,
            "the whole site",
        )
        assert "Updated 2 changed page(s)" in log.read_text()
    clean = project / "clean"
    build = pelican_run.run_pelican(
        clean,
        settings=settings,
        content=project / "content",
        overrides={"SITEURL": site, "FEED_DOMAIN": site},
        root=project,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    served = Path(final["site"])
    assert _tree(served) == _tree(clean)
    # The fast pass wrote the changed post's pages as the full build does.
    fast = project / "var" / "dev" / "fast"
    for path in (PAGE, f"en/{PAGE}"):
        assert (fast / path / "index.html").read_bytes() == (
            clean / path / "index.html"
        ).read_bytes()


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("task", ["livereload", "preview", "dev"])
def test_a_taken_port_is_a_one_line_message(project, task):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = invoke(project, task, "--port", str(port))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    message = proc.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert f"port {port} is already in use" in message


def test_serve_answers_a_missing_page_with_the_themes_404(project):
    assert invoke(project, "build").returncode == 0
    port = free_port()
    with running_task(project, "serve", "--port", str(port), port=port):
        code, body = _get(f"http://127.0.0.1:{port}/non-esiste/")
        home_code, _ = _get(f"http://127.0.0.1:{port}/")
    assert (code, home_code) == (404, 200)
    expected = html.fromstring((project / "output" / "404.html").read_bytes())
    page = html.fromstring(body)
    assert page.xpath("string(//h1)") == expected.xpath("string(//h1)") != ""


def test_preview_proxies_comments_to_isso(project, tmp_path, monkeypatch):
    port = free_port()
    site = f"http://localhost:{port}"
    with running_isso(tmp_path / "isso", site=site) as isso:
        monkeypatch.setenv("PIAZZA_ISSO_API_URL", isso.url)
        with running_task(project, "preview", "--port", str(port), port=port) as log:
            _poll(lambda: _get(f"{site}/")[0] == 200, "the preview")
            uri = f"/{PAGE}"
            made = new_comment(f"{site}/comments", uri, "Ciao dalla preview")
            assert made["text"].strip() == "<p>Ciao dalla preview</p>"
            status, _, counts = call(f"{site}/comments/count", [uri])
            assert (status, counts) == (200, [1])
            code, script = _get(f"{site}/comments/js/embed.min.js")
            assert code == 200 and len(script) > 1000
            assert f"Comments: /comments/ goes to Isso at {isso.url}" in (
                log.read_text()
            )


def test_preview_says_when_isso_does_not_run(project, monkeypatch):
    port = free_port()
    monkeypatch.setenv("PIAZZA_ISSO_API_URL", f"http://127.0.0.1:{free_port()}")
    with running_task(project, "preview", "--port", str(port), port=port) as log:
        _poll(lambda: _get(f"http://127.0.0.1:{port}/")[0] == 200, "the preview")
        _poll(lambda: "Isso is not running" in log.read_text(), "the notice")
        code, body = _get(f"http://127.0.0.1:{port}/comments/count", b"[]")
    assert code == 502 and b"invoke comments" in body


@pytest.mark.parametrize(
    ("broken", "replace", "with_line"),
    [
        (POST, ("Title: Benvenuti\n", ""), False),  # Pelican names no line
        (
            Path("theme/templates/article.html"),
            ("{% block head_extra %}", "{% if %}"),
            True,
        ),
    ],
)
def test_a_failed_first_build_is_an_error_page_naming_file_and_line(
    project, broken, replace, with_line
):
    port = free_port()
    source = project / broken
    text = source.read_text(encoding="utf-8")
    line = text[: text.index(replace[0])].count("\n") + 1 if with_line else None
    source.write_text(text.replace(*replace, 1))
    with running_task(project, "livereload", "--port", str(port), port=port) as log:
        error = _poll(lambda: _status(port)["error"], "the error")
        code, body = _get(f"http://127.0.0.1:{port}/{PAGE}")
    assert (error["file"], error["line"]) == (broken.as_posix(), line)
    assert code == 500
    page = html.fromstring(body)
    where = page.xpath("string(//p/strong)")
    assert where == broken.as_posix() + (f":{line}" if line else "")
    assert page.xpath("//script/@src") == ["/__piazza__/dev.js"]
    assert f"Build failed ({where})" in log.read_text()


def test_the_dev_pages_words_have_italian_translations():
    italian = dev_strings(ROOT / "theme", "it")
    untranslated = [text for key, text in DEV_STRINGS.items() if italian[key] == text]
    assert not untranslated
    pot = (ROOT / "theme" / "translations" / "messages.pot").read_text("utf-8")
    assert all(f'msgid "{text}"' in pot for text in DEV_STRINGS.values())
