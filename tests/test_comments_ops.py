"""Operating the comment server: backups and restores of a live database,
running Isso for development, and the tasks, refusing what they should."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import ROOT
from isso_server import PRODUCTION_SECRETS as SECRETS
from isso_server import (
    config,
    free_port,
    new_comment,
    production_config,
    proof_cookie,
    running_isso,
    thread,
)

from piazza.comments import (
    CommentsError,
    backup,
    check_database,
    database_path,
    restore,
    running,
)

INVOKE = Path(sys.executable).parent / "invoke"


def ids(db: Path) -> set[int]:
    with sqlite3.connect(db) as conn:
        return {row[0] for row in conn.execute("SELECT id FROM comments")}


def count(db: Path) -> int:
    return len(ids(db))


@pytest.fixture
def isso(tmp_path):
    with running_isso(tmp_path / "isso") as server:
        yield server


def test_backups_while_comments_are_posted_lose_nothing(isso, tmp_path):
    for n in range(5):
        new_comment(isso.url, "/a/", f"commento {n}")
    stop = threading.Event()
    confirmed: list[int] = []  # ids Isso has answered 201 for

    def writer():
        n = 0
        while not stop.is_set():
            made = new_comment(isso.url, "/b/", f"durante il backup {n}")
            confirmed.append(made["id"])
            n += 1

    thread_ = threading.Thread(target=writer)
    thread_.start()
    copies = []
    try:
        for _ in range(5):
            before = set(confirmed)
            copy = backup(isso.db, tmp_path / "backups")
            copies.append(copy)
            check_database(copy)  # consistent, and an Isso database
            assert before <= ids(copy), "a confirmed comment is missing"
    finally:
        stop.set()
        thread_.join()
    assert confirmed, "no comment was written during the backups"
    sizes = [count(copy) for copy in copies]
    assert sizes == sorted(sizes) and sizes[0] >= 5
    assert len(set(copies)) == 5  # never overwritten, each its own file
    assert {c.parent for c in copies} == {tmp_path / "backups"}
    assert all(c.name.startswith("comments-") and c.suffix == ".db" for c in copies)
    assert not list((tmp_path / "backups").glob(".*"))  # no temporary left over

    # Round trip: restore a backup into the live database, Isso running.
    final = backup(isso.db, tmp_path / "backups")
    kept = ids(final)
    assert kept == ids(isso.db) and set(confirmed) <= kept
    new_comment(isso.url, "/c/", "dopo il backup")
    previous = restore(final, isso.db, force=True)
    assert ids(isso.db) == kept
    assert previous.parent == tmp_path / "backups"  # next to the backups
    assert count(previous) == len(kept) + 1  # what was replaced is kept
    assert thread(isso.url, "/a/")["total_replies"] == 5  # Isso reads it
    assert thread(isso.url, "/c/")["total_replies"] == 0
    new_comment(isso.url, "/a/", "dopo il ripristino")
    assert thread(isso.url, "/a/")["total_replies"] == 6


def test_backups_in_the_same_second_get_their_own_names(isso, tmp_path):
    now = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    first = backup(isso.db, tmp_path, now=now)
    second = backup(isso.db, tmp_path, now=now)
    assert first.name == "comments-20261122T100000Z.db"
    assert second.name == "comments-20261122T100000Z-2.db"


def test_backup_refuses_bad_paths(isso, tmp_path):
    missing = tmp_path / "nope.db"
    with pytest.raises(CommentsError, match=f"{missing}: no such file"):
        backup(missing, tmp_path / "b")
    assert not (tmp_path / "b").exists()
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(CommentsError, match=f"{a_file}: exists and is not a folder"):
        backup(isso.db, a_file)
    with pytest.raises(CommentsError, match=f"{tmp_path}: not a file"):
        backup(tmp_path, tmp_path / "b")


def test_restore_refuses_what_is_not_an_isso_backup(isso, tmp_path):
    target = tmp_path / "new.db"
    missing = tmp_path / "nope.db"
    with pytest.raises(CommentsError, match=f"{missing}: no such file"):
        restore(missing, target)
    text = tmp_path / "notes.db"
    text.write_text("not a database at all" * 100)
    with pytest.raises(CommentsError, match=f"{text}: not an SQLite database"):
        restore(text, target)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE things (id INTEGER)")
    with pytest.raises(CommentsError, match=f"{other}: not an Isso database"):
        restore(other, target)
    assert not target.exists()


def test_restore_replaces_an_existing_database_only_with_force(isso, tmp_path):
    new_comment(isso.url, "/a/", "uno")
    copy = backup(isso.db, tmp_path / "b")
    new_comment(isso.url, "/a/", "due")
    with pytest.raises(CommentsError, match=f"{isso.db}: exists; add --force"):
        restore(copy, isso.db)
    assert count(isso.db) == 2  # untouched
    with pytest.raises(CommentsError, match="is the database itself"):
        restore(isso.db, isso.db, force=True)
    # Into a new place, no force is needed and nothing is set aside.
    fresh = tmp_path / "fresh" / "comments.db"
    assert restore(copy, fresh) is None
    assert ids(fresh) == ids(copy)


def test_restore_with_force_sets_a_damaged_database_aside(tmp_path, isso):
    copy = backup(isso.db, tmp_path / "b")
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"garbage" * 1000)
    previous = restore(copy, damaged, force=True)
    assert previous.name.startswith("damaged.db.damaged-")
    assert previous.read_bytes() == b"garbage" * 1000
    check_database(damaged)


def test_database_path_defaults_to_the_dev_config():
    assert database_path(None, ROOT) == ROOT / "var" / "comments" / "comments.db"
    assert database_path("/srv/x.db", ROOT) == Path("/srv/x.db")


def test_running_starts_isso_and_stops_it(tmp_path):
    port = free_port()
    cfg = tmp_path / "isso.cfg"
    db = tmp_path / "db" / "comments.db"
    cfg.write_text(config(db, port, "http://127.0.0.1:8000"))
    with running(cfg, proof_of_work=False) as url:
        assert url == f"http://127.0.0.1:{port}"
        new_comment(url, "/a/", "ciao")
        assert thread(url, "/a/")["total_replies"] == 1
    assert count(db) == 1  # the db folder was created
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{url}/config", timeout=2)


def test_running_asks_a_proof_of_work_as_production_does(tmp_path):
    """`invoke dev` runs Isso behind our layers: a post without a solved
    challenge is refused and leaves no row; one with it goes through."""
    port = free_port()
    cfg = tmp_path / "isso.cfg"
    db = tmp_path / "db" / "comments.db"
    cfg.write_text(config(db, port, "http://127.0.0.1:8000"))
    with running(cfg) as url:
        with pytest.raises(urllib.error.HTTPError) as refused:
            new_comment(url, "/a/", "senza prova")
        assert refused.value.code == 403
        assert json.loads(refused.value.read())["error"] == "pow"
        new_comment(url, "/a/", "con la prova", proof=True)
        assert thread(url, "/a/")["total_replies"] == 1
    assert count(db) == 1


def test_running_reports_why_isso_did_not_start(tmp_path):
    cfg = tmp_path / "isso.cfg"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cfg.write_text(config(tmp_path / "c.db", port, "http://127.0.0.1:8000"))
        stopped = f"Isso \\({cfg}\\) stopped"
        with pytest.raises(CommentsError, match=stopped) as error, running(cfg):
            pass
    assert "Address already in use" in str(error.value)  # Isso's own stderr
    cfg.write_text("[general]\ndbpath = a\ndbpath = b\n")
    invalid = f"{cfg}: not a valid Isso configuration"
    with pytest.raises(CommentsError, match=invalid), running(cfg):
        pass
    missing = tmp_path / "missing.cfg"
    no_such = f"{missing}: no such Isso configuration"
    with pytest.raises(CommentsError, match=no_such), running(missing):
        pass


# --- The production configuration, run for real ----------------------------------


def gunicorn(config_file: Path, port: int, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--config",
            str(ROOT / "deploy" / "gunicorn.conf.py"),
            "--access-logfile",
            "/dev/null",
        ],
        env={
            **env,
            "ISSO_SETTINGS": str(config_file),
            "ISSO_BIND": f"127.0.0.1:{port}",
            "ISSO_WORKERS": "1",
        },
        cwd=config_file.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_the_production_config_reads_its_secrets_from_the_environment(
    tmp_path, monkeypatch
):
    from isso import config as isso_config

    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    conf = isso_config.load(
        isso_config.default_file(), production_config(tmp_path, 8080)
    )
    assert conf.get("admin", "password") == SECRETS["ISSO_ADMIN_PASSWORD"]
    assert conf.get("hash", "salt") == SECRETS["ISSO_HASH_SALT"]
    assert conf.get("smtp", "host") == SECRETS["ISSO_SMTP_HOST"]
    assert conf.get("smtp", "to") == SECRETS["ISSO_NOTIFY_TO"]
    assert conf.get("smtp", "password") == SECRETS["ISSO_SMTP_PASSWORD"]
    assert conf.getboolean("moderation", "enabled")
    assert conf.getboolean("guard", "enabled")
    assert conf.getboolean("admin", "enabled")
    assert conf.getboolean("general", "latest-enabled")
    assert conf.get("rss", "base") == "https://www.officineardesia.example"
    assert conf.get("server", "public-endpoint") == (
        "https://www.officineardesia.example/comments"
    )
    # Every option is one Isso knows (it only warns about the others).
    known = isso_config.load(isso_config.default_file())
    for section in conf.sections():
        for option in conf.options(section):
            assert known.has_option(section, option), f"[{section}] {option}"


def test_gunicorn_refuses_to_start_without_the_secrets(tmp_path):
    env = {**os.environ, **SECRETS}
    del env["ISSO_ADMIN_PASSWORD"]
    env["ISSO_SMTP_PASSWORD"] = ""
    proc = gunicorn(production_config(tmp_path, free_port()), free_port(), env)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "ISSO_ADMIN_PASSWORD, ISSO_SMTP_PASSWORD, unset or empty" in output
    assert "Traceback" not in output


def test_the_production_config_moderates_limits_and_logs_in(tmp_path):
    port = free_port()
    config_file = production_config(tmp_path, port)
    proc = gunicorn(config_file, port, {**os.environ, **SECRETS})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, proc.stdout.read()
            try:
                public = request(url, "/config")[1]["config"]
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not answer"
                time.sleep(0.1)
        assert public["require-author"] and public["feed"]
        uri = "/2026/moderato/"

        def post(data):  # each post with a proof of work, solved as a browser would
            cookie = proof_cookie(url, reader=READER)
            return request(url, f"/new?uri={uri}", data, cookie=cookie)

        status, _ = post({"text": "Anonimo", "title": "M"})
        assert status == 403  # the guard wants a name
        comment = {"text": "Da approvare.", "author": "Ada", "title": "M"}
        status, made = post(comment)
        assert status == 202 and made["mode"] == 2  # waits for moderation
        status, _ = post(comment)
        assert status == 202
        status, _ = post(comment)
        assert status == 403  # more than 2 a minute from one reader
        status, shown = request(url, f"/?uri={uri}")
        assert status == 200 and shown["replies"] == []  # nothing public yet
        assert request(url, "/latest?limit=5")[0] == 200
        assert request(url, f"/feed?uri={uri}", raw=True)[0] == 200
        wrong = request(url, "/login/", form={"password": "indovina"}, raw=True)
        # piazza/isso_moderation.py checks the password (and counts failures):
        # a wrong one is 403, the right one a 303 to the moderation page.
        assert wrong[0] == 403 and "admin-session" not in wrong[2]
        right = request(
            url,
            "/login/",
            form={"password": SECRETS["ISSO_ADMIN_PASSWORD"]},
            raw=True,
        )
        assert right[0] == 303 and "admin-session=" in right[2]
    finally:
        proc.terminate()
        proc.wait(timeout=20)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


READER = "198.51.100.20"


def request(url, path, data=None, *, form=None, raw=False, cookie=None):
    """(status, JSON body or None) or, with ``raw``, (status, body, cookies)."""
    headers = {"X-Forwarded-For": READER}
    if cookie:
        headers["Cookie"] = cookie
    body = None
    if data is not None:
        body = json.dumps(data).encode()
        headers["Content-Type"] = "application/json"
    elif form is not None:
        body = urllib.parse.urlencode(form).encode()
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        response = opener.open(
            urllib.request.Request(url + path, data=body, headers=headers), timeout=10
        )
    except urllib.error.HTTPError as error:
        response = error
    with response:
        content = response.read()
        cookies = " ".join(response.headers.get_all("Set-Cookie") or [])
        if raw:
            return response.status, content, cookies
        is_json = response.headers.get("Content-Type", "").startswith(
            "application/json"
        )
        return response.status, json.loads(content) if is_json else None


# --- The tasks, as an operator runs them --------------------------------------------


def invoke(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(INVOKE), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def refused(done: subprocess.CompletedProcess, message: str) -> bool:
    return (
        done.returncode == 1
        and message in done.stderr
        and "Traceback" not in done.stderr + done.stdout
    )


def test_the_tasks_back_up_and_restore(isso, tmp_path):
    new_comment(isso.url, "/a/", "salvami")
    dest = tmp_path / "backups"
    done = invoke("comments-backup", "--db", str(isso.db), "--dest", str(dest))
    assert done.returncode == 0, done.stderr
    (copy,) = dest.glob("comments-*.db")
    assert str(copy) in done.stdout and count(copy) == 1
    new_comment(isso.url, "/a/", "dopo")
    no_force = invoke("comments-restore", str(copy), "--db", str(isso.db))
    assert refused(no_force, "add --force"), no_force.stderr
    assert str(isso.db) in no_force.stderr
    forced = invoke("comments-restore", str(copy), "--db", str(isso.db), "--force")
    assert forced.returncode == 0, forced.stderr
    (previous,) = set(dest.glob("comments-*.db")) - {copy}
    assert f"backed up in {previous}" in forced.stdout
    assert count(isso.db) == 1 and count(previous) == 2
    assert thread(isso.url, "/a/")["total_replies"] == 1


def test_the_tasks_refuse_bad_paths(isso, tmp_path):
    none = tmp_path / "none.db"
    bad = invoke("comments-backup", "--db", str(none), "--dest", str(tmp_path / "b"))
    assert refused(bad, f"{none}: no such file"), bad.stderr
    a_file = tmp_path / "file"
    a_file.write_text("x")
    bad = invoke("comments-backup", "--db", str(isso.db), "--dest", str(a_file))
    assert refused(bad, f"{a_file}: exists and is not a folder"), bad.stderr
    bad = invoke("comments-restore", str(none), "--db", str(tmp_path / "new.db"))
    assert refused(bad, f"{none}: no such file"), bad.stderr
    bad = invoke("comments-restore", str(a_file), "--db", str(tmp_path / "new.db"))
    assert refused(bad, f"{a_file}: not an SQLite database"), bad.stderr
    assert not (tmp_path / "new.db").exists()


def _with_production_app(settings: Path, code: str, **env: str) -> str:
    """Run ``code`` in a fresh Python that imports the app as gunicorn does
    (piazza.isso_wsgi, configured by ``settings``): its last line of output.
    The proof of work is off (as in development): these posts come from a
    test client that solves none (tests/test_isso_guard.py tests it)."""
    done = subprocess.run(
        [sys.executable, "-c", "import piazza.isso_wsgi as w\n" + code],
        env={
            **os.environ,
            "ISSO_SETTINGS": str(settings),
            "PIAZZA_PROOF_OF_WORK": "off",
            **env,
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[-1]


def _load_production_app(settings: Path, threads: str) -> list[str]:
    """(threads warmed, texts cached) once the app is loaded."""
    code = (
        "from isso import html\n"
        "print(w._warmed, html.Markup.render.cache_info().currsize)"
    )
    return _with_production_app(settings, code, ISSO_WARM_THREADS=threads).split()


def test_the_production_app_starts_with_the_newest_threads_rendered(tmp_path):
    with running_isso(tmp_path / "isso") as isso:
        for n in range(3):
            new_comment(isso.url, f"/2026/post-{n}/", f"Commento *{n}*")
            new_comment(isso.url, f"/2026/post-{n}/", f"Risposta **{n}**")
    settings = tmp_path / "isso" / "isso.cfg"
    assert _load_production_app(settings, "2") == ["2", "4"]
    assert _load_production_app(settings, "0") == ["0", "0"]


def test_the_production_app_starts_on_a_new_database(tmp_path):
    settings = tmp_path / "isso.cfg"
    settings.write_text(
        config(tmp_path / "comments.db", free_port(), "http://127.0.0.1:9")
    )
    assert _load_production_app(settings, "50") == ["0", "0"]
    check_database(tmp_path / "comments.db")  # Isso made it


def test_kept_thread_reads_answer_each_origin_with_its_own_cors_header(tmp_path):
    """Isso's CORS header names the requesting site when it is one of its
    hosts: answers kept in memory must not hand one site's header to another."""
    db = tmp_path / "comments.db"
    text = config(db, free_port(), "https://www.a.example")
    settings = tmp_path / "isso.cfg"
    settings.write_text(
        text.replace(
            "host = https://www.a.example",
            "host =\n    https://www.a.example\n    https://www.b.example",
        )
    )
    code = """
import json
from werkzeug.test import Client
client = Client(w.application)
client.post("/new?uri=/2026/cors/", json={"text": "Ciao.", "title": "C"})
seen = []
for origin in ["https://www.a.example", "https://www.b.example"] * 2:
    answer = client.get("/?uri=/2026/cors/", headers={"Origin": origin})
    seen.append([answer.headers["Access-Control-Allow-Origin"],
                 answer.json["total_replies"]])
print(json.dumps([seen, len(w.reads.answers)]))
"""
    seen, kept = json.loads(_with_production_app(settings, code))
    a, b = "https://www.a.example", "https://www.b.example"
    assert seen == [[a, 1], [b, 1], [a, 1], [b, 1]]
    assert kept == 2  # one answer per origin, both served again from memory


def test_kept_thread_reads_are_bounded(tmp_path):
    """Made-up arguments share one answer; the byte budget evicts the least
    recently used thread first."""
    settings = tmp_path / "isso.cfg"
    settings.write_text(config(tmp_path / "comments.db", free_port(), "http://a.b"))
    code = """
import json
from werkzeug.test import Client
client = Client(w.application)
for uri in ("/uno/", "/due/"):
    client.post(f"/new?uri={uri}", json={"text": "Ciao.", "title": "T"})
for n in range(50):
    assert client.get(f"/?uri=/uno/&x={n}").json["total_replies"] == 1
same = len(w.reads.answers)
w.reads.budget = w.reads.held + 10  # room for one answer only
client.get("/?uri=/due/")
print(json.dumps([same, [key[0] for key in w.reads.answers]]))
"""
    same, kept = json.loads(_with_production_app(settings, code))
    assert same == 1
    assert kept == [[["uri", "/due/"]]]


def test_a_database_file_replaced_under_the_workers_is_read_afresh(tmp_path):
    settings = tmp_path / "isso.cfg"
    db = tmp_path / "comments.db"
    settings.write_text(config(db, free_port(), "http://a.b"))
    code = f"""
import os, shutil
from werkzeug.test import Client
client = Client(w.application)
client.post("/new?uri=/uno/", json={{"text": "Primo.", "title": "T"}})
shutil.copy({str(db)!r}, {str(db)!r} + ".copy")
client.post("/new?uri=/uno/", json={{"text": "Secondo."}})
before = client.get("/?uri=/uno/").json["total_replies"]
os.replace({str(db)!r} + ".copy", {str(db)!r})  # a new file, a new inode
after = client.get("/?uri=/uno/").json["total_replies"]
print(before, after)
"""
    assert _with_production_app(settings, code).split() == ["2", "1"]


def test_kept_thread_reads_key_arguments_as_isso_reads_them(tmp_path):
    """Isso keeps bytes that are not UTF-8 percent-encoded (%FF); a key made
    by another parser would turn them into U+FFFD and give one thread's
    answer for another (found by a review)."""
    settings = tmp_path / "isso.cfg"
    settings.write_text(config(tmp_path / "comments.db", free_port(), "http://a.b"))
    code = """
import json
from werkzeug.test import Client
client = Client(w.application)
client.post("/new?uri=/a%EF%BF%BD/", json={"text": "Sostituito.", "title": "T"})
client.post("/new?uri=/a%FF/", json={"text": "Grezzo.", "title": "T"})
texts = []
for query in ["uri=/a%EF%BF%BD/", "uri=/a%FF/"] * 2:
    answer = client.get("/?" + query)
    texts.append([c["text"] for c in answer.json["replies"]])
print(json.dumps(texts))
"""
    texts = json.loads(_with_production_app(settings, code))
    replaced, raw = ["<p>Sostituito.</p>"], ["<p>Grezzo.</p>"]
    assert texts == [replaced, raw, replaced, raw]
