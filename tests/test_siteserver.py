"""The site server of `invoke serve` and `preview` (and of `dev`), run as an
editor runs it: the port message, the 404 page, comments through /comments/,
the words of its own pages."""

from __future__ import annotations

import socket

import pytest
from conftest import ROOT, free_port, invoke
from isso_server import call, new_comment, running_isso
from lxml import html
from servedtask import PAGE, get, poll, running_task

from piazza.siteserver import DEV_STRINGS, dev_strings


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
        code, body = get(f"http://127.0.0.1:{port}/non-esiste/")
        home_code, _ = get(f"http://127.0.0.1:{port}/")
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
            poll(lambda: get(f"{site}/")[0] == 200, "the preview")
            uri = f"/{PAGE}"
            made = new_comment(f"{site}/comments", uri, "Ciao dalla preview")
            assert made["text"].strip() == "<p>Ciao dalla preview</p>"
            status, _, counts = call(f"{site}/comments/count", [uri])
            assert (status, counts) == (200, [1])
            code, script = get(f"{site}/comments/js/embed.min.js")
            assert code == 200 and len(script) > 1000
            assert f"Comments: /comments/ goes to Isso at {isso.url}" in (
                log.read_text()
            )


def test_preview_says_when_isso_does_not_run(project, monkeypatch):
    port = free_port()
    monkeypatch.setenv("PIAZZA_ISSO_API_URL", f"http://127.0.0.1:{free_port()}")
    with running_task(project, "preview", "--port", str(port), port=port) as log:
        poll(lambda: get(f"http://127.0.0.1:{port}/")[0] == 200, "the preview")
        poll(lambda: "Isso is not running" in log.read_text(), "the notice")
        code, body = get(f"http://127.0.0.1:{port}/comments/count", b"[]")
    assert code == 502 and b"invoke comments" in body


def test_the_dev_pages_words_have_italian_translations():
    italian = dev_strings(ROOT / "theme", "it")
    untranslated = [text for key, text in DEV_STRINGS.items() if italian[key] == text]
    assert not untranslated
    pot = (ROOT / "theme" / "translations" / "messages.pot").read_text("utf-8")
    assert all(f'msgid "{text}"' in pot for text in DEV_STRINGS.values())
