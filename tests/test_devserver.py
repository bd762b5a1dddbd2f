"""The development loop of `invoke dev` and `invoke livereload`, run as an
editor runs it: a real Isso, a real Chromium for the error shown in the page,
the fast pass and the whole-site catch-up against a clean build."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, free_port
from ideas_server import Reader
from lxml import html
from servedtask import PAGE, POST, answers, get, poll, running_task

from piazza import pelican_run
from piazza.siteserver import dev_strings
from services.ideas.pow import solve


def _status(port: int, since: int = -1) -> dict:
    return json.loads(
        get(f"http://127.0.0.1:{port}/__piazza__/status?since={since}")[1]
    )


def _settled(port: int) -> dict | None:
    status = _status(port)
    return status if status["ready"] and not status["building"] else None


def _dev_project(project: Path, isso_port: int) -> Path:
    """The project copy with Isso's dev config on a port of its own, and a
    build that never reaches another Isso (no comments to snapshot). Isso
    runs as production runs it (gunicorn.conf.py, the staff file)."""
    (project / "deploy").mkdir()
    shutil.copy(ROOT / "deploy" / "gunicorn.conf.py", project / "deploy")
    shutil.copy(ROOT / "content" / "staff.toml", project / "content")
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
        poll(lambda: _settled(port), "the first build")
        assert _title(get(f"{site}/{PAGE}")[1]) == "Benvenuti"
        page = browser.new_page()
        page.goto(f"{site}/{PAGE}")

        source = project / POST
        good = source.read_text(encoding="utf-8")
        source.write_text(good.replace("Title: Benvenuti\n", ""), encoding="utf-8")
        status = poll(lambda: _status(port)["error"] and _status(port), "the error")
        assert status["error"]["file"] == POST.as_posix()

        # The last good site is still served, and Isso still answers.
        code, body = get(f"{site}/{PAGE}")
        assert code == 200 and _title(body) == "Benvenuti"
        assert get(f"{isso}/config")[0] == 200
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
    assert not answers(f"{isso}/config")
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
        first = poll(lambda: _settled(port), "the first build")
        source = project / POST
        source.write_text(
            source.read_text(encoding="utf-8").replace("sul blog", "sul nostro blog"),
            encoding="utf-8",
        )
        poll(lambda: b"sul nostro blog" in get(f"{site}/{PAGE}")[1], "the changed post")
        final = poll(
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
        error = poll(lambda: _status(port)["error"], "the error")
        code, body = get(f"http://127.0.0.1:{port}/{PAGE}")
    assert (error["file"], error["line"]) == (broken.as_posix(), line)
    assert code == 500
    page = html.fromstring(body)
    where = page.xpath("string(//p/strong)")
    assert where == broken.as_posix() + (f":{line}" if line else "")
    assert page.xpath("//script/@src") == ["/__piazza__/dev.js"]
    assert f"Build failed ({where})" in log.read_text()


def _with_ideas(project: Path) -> None:
    """The ideas service's code and gunicorn config in the project copy."""
    shutil.copytree(
        ROOT / "services",
        project / "services",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy(ROOT / "deploy" / "ideas.gunicorn.conf.py", project / "deploy")


def test_dev_serves_the_ideas_service_under_idee_api(project):
    port, isso_port, ideas_port = free_port(), free_port(), free_port()
    _with_ideas(_dev_project(project, isso_port))
    site = f"http://127.0.0.1:{port}"
    args = ("dev", "--port", str(port), "--ideas-port", str(ideas_port))
    with running_task(project, *args, port=port) as log:
        poll(lambda: _settled(port), "the first build")
        code, body = get(f"{site}/idee-api/config")
        assert code == 200, body
        config = json.loads(body)
        assert config["budget"] == 10 and "moto" in config["categories"]
        # A write goes through too, and its cookie is the service's, for
        # /idee-api/ only, as behind nginx.
        reader = Reader(site)
        status, _, challenge = reader.call("GET", "/idee-api/challenge")
        assert status == 200, challenge
        status, headers, answer = reader.call(
            "POST",
            "/idee-api/ideas",
            {"title": "Una sella riscaldata", "description": "Per l'inverno.",
             "category": "accessori", "lang": "it", "altcha": solve(challenge)},
        )  # fmt: skip
        assert status == 202, answer
        assert "Path=/idee-api/" in headers["Set-Cookie"]
        status, _, me = reader.call("GET", "/idee-api/me")
        assert (status, me["ideas"]) == (200, [])
        assert (project / "var" / "ideas" / "ideas.db").is_file()
        assert f"The ideas service is running at http://127.0.0.1:{ideas_port}/" in (
            log.read_text()
        )
    # Ctrl-C stopped it with the site.
    assert not answers(f"http://127.0.0.1:{ideas_port}/config")


def test_dev_says_when_the_ideas_service_does_not_start_and_serves_the_site(
    project, monkeypatch
):
    port, isso_port, ideas_port = free_port(), free_port(), free_port()
    _with_ideas(_dev_project(project, isso_port))
    monkeypatch.setenv("IDEAS_SECRET", "too short")  # gunicorn's config refuses it
    args = ("dev", "--port", str(port), "--ideas-port", str(ideas_port))
    with running_task(project, *args, port=port) as log:
        poll(lambda: _settled(port), "the first build")
        assert _title(get(f"http://127.0.0.1:{port}/{PAGE}")[1]) == "Benvenuti"
        code, body = get(f"http://127.0.0.1:{port}/idee-api/config")
        assert code == 502
        assert f"invoke ideas-server --port {ideas_port}" in body.decode()
        said = log.read_text()
    assert f"The ideas service did not start at http://127.0.0.1:{ideas_port}" in said
    assert "IDEAS_SECRET: too short" in said
    assert "Traceback" not in said
