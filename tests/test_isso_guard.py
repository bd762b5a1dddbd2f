"""piazza/isso_guard.py on the real stack: gunicorn with deploy/gunicorn.conf.py
behind nginx rendered from deploy/nginx.conf, with the guard and the proof of
work on, as production runs them."""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import shutil
import sqlite3
import subprocess
import threading
import time
import urllib.error
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, free_port
from isso_server import BIN, call, proof_cookie, running_isso_gunicorn, solve
from nginx_server import running_nginx

from piazza import commentstore
from piazza.isso_guard import GuardError, WatchedFile, parse_threads
from piazza.spamfilter import BlocklistError, parse_blocklist

RATELIMIT = 2
THREADS = {
    "/2026/a/": "Il post A",
    "/2026/b/": "Il post B",
    "/2026/raffica/": "Raffica",
    "/2026/spam/": "Spam",
    "/2026/modifica/": "Modifica",
    "/2026/bando/": "Bando",
    "/2026/prova/": "Prova",
    "/2026/browser/": "Dal browser",
}
# A page with a comment form shaped like Isso's, and our script.
FORM_PAGE = """<!doctype html><html lang="it"><head><meta charset="utf-8">
<title>Modulo</title></head><body>
<form class="isso-postbox"><textarea class="isso-textarea"></textarea>
<input type="submit" value="Invia"></form>
<script src="/comments-pow.js" data-isso="/comments"></script>
</body></html>
"""
BLOCKLIST = """\
max-links = 2
emails = ["spammer@example.org"]
domains = ["pillole.example"]
words = ["viagra"]
"""


@dataclass(frozen=True)
class Stack:
    https_port: int
    isso_url: str
    db: Path
    blocklist: Path
    log: Path
    context: object

    def nginx(self, method, path, data=None, headers=None):
        """One request through nginx: (status, headers, decoded JSON or None)."""
        conn = http.client.HTTPSConnection(
            "127.0.0.1", self.https_port, context=self.context, timeout=20
        )
        try:
            if data is None or isinstance(data, bytes):
                body = data  # bytes: sent exactly as given
            else:
                body = json.dumps(data).encode()
            sent = {"Content-Type": "application/json", **(headers or {})}
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            raw = response.read()
            try:
                decoded = json.loads(raw)
            except ValueError:
                decoded = None
            return response.status, response.headers, decoded
        finally:
            conn.close()

    def isso(self, method, path, data=None, headers=None):
        """One request straight to gunicorn: (status, headers, decoded JSON)."""
        try:
            return call(f"{self.isso_url}{path}", data, method=method, headers=headers)
        except urllib.error.HTTPError as error:
            return error.code, error.headers, json.loads(error.read() or b"null")

    def counts(self) -> tuple[int, int]:
        with sqlite3.connect(self.db) as db:
            (threads,) = db.execute("SELECT COUNT(*) FROM threads").fetchone()
            (comments,) = db.execute("SELECT COUNT(*) FROM comments").fetchone()
        return threads, comments

    def post(self, uri, text, *, reader, proof=True, **fields):
        """POST /new straight to gunicorn as ``reader`` (Isso trusts the test's
        X-Forwarded-For: its trusted proxy is 127.0.0.1)."""
        headers = {"X-Forwarded-For": reader}
        if proof:
            headers["Cookie"] = proof_cookie(self.isso_url, reader=reader)
        return self.isso("POST", f"/new?uri={uri}", {"text": text, **fields}, headers)


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    base = tmp_path_factory.mktemp("guard")
    root = base / "site"
    root.mkdir()
    (root / "index.html").write_text("<!doctype html><title>Prova</title>")
    (root / "form.html").write_text(FORM_PAGE)
    shutil.copy(ROOT / "theme" / "static" / "js" / "comments-pow.js", root)
    threads = base / "comment-threads.json"
    threads.write_text(json.dumps({"threads": THREADS}))
    blocklist = base / "blocklist.toml"
    blocklist.write_text(BLOCKLIST)
    overrides = {
        "guard": {
            "enabled": "true",
            "ratelimit": str(RATELIMIT),
            "direct-reply": "100",
            "reply-to-self": "true",
        },
        "moderation": {"enabled": "true"},
        "server": {"trusted-proxies": "127.0.0.1"},
    }
    env = {
        "PIAZZA_PROOF_OF_WORK": "on",
        "PIAZZA_POW_DIFFICULTY": "1000",
        "PIAZZA_THREADS_FILE": str(threads),
        "PIAZZA_BLOCKLIST": str(blocklist),
    }
    isso_port = free_port()
    with running_nginx(base, root, isso_port, brotli=False) as nginx:
        site = f"https://127.0.0.1:{nginx.local.https_port}"
        with running_isso_gunicorn(
            base / "isso", site, port=isso_port, settings=overrides, env=env
        ) as isso:
            yield Stack(
                nginx.local.https_port, isso.url, isso.db, blocklist, isso.log,
                nginx.context,
            )  # fmt: skip


def _approve(stack: Stack, comment_id: int) -> None:
    with sqlite3.connect(stack.db) as db:
        db.execute("UPDATE comments SET mode = 1 WHERE id = ?", (comment_id,))


def _proof_through_nginx(stack: Stack) -> str:
    status, _h, challenge = stack.nginx("GET", "/comments/pow/challenge")
    assert status == 200
    status, headers, answer = stack.nginx(
        "POST", "/comments/pow/verify", {"payload": solve(challenge)}
    )
    assert status == 200 and answer["ok"] is True
    return headers["Set-Cookie"]


def test_the_proof_cookie_is_scoped_and_http_only(stack):
    set_cookie = _proof_through_nginx(stack)
    name_value, *attributes = [part.strip() for part in set_cookie.split(";")]
    assert name_value.startswith("piazza-pow=")
    attributes = {a.split("=")[0].lower(): a for a in attributes}
    assert attributes["path"] == "Path=/comments/"
    assert {"httponly", "secure"} <= set(attributes)
    assert attributes["samesite"] == "SameSite=Strict"
    assert 0 < int(attributes["max-age"].split("=")[1]) <= 600


def test_the_browser_solves_the_proof_and_its_post_carries_it(stack, browser):
    """Chromium under the site's CSP: focusing the form solves a real
    challenge (theme/static/js/comments-pow.js); the next POST /new, made as
    Isso's widget makes it, carries the cookie and is accepted, once."""
    context = browser.new_context(ignore_https_errors=True)
    try:
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"https://127.0.0.1:{stack.https_port}/form.html")
        page.focus("textarea")
        page.wait_for_selector("html[data-comments-pow=ready]", timeout=30_000)
        (cookie,) = [c for c in context.cookies() if c["name"] == "piazza-pow"]
        assert (
            cookie["httpOnly"] and cookie["secure"] and cookie["path"] == "/comments/"
        )
        assert cookie["sameSite"] == "Strict"
        post = """() => fetch("/comments/new?uri=/2026/browser/", {
            method: "POST", headers: {"Content-Type": "application/json"},
            body: JSON.stringify({text: "Dal browser", author: "Ada"}),
        }).then(r => r.status)"""
        assert page.evaluate(post) == 202
        assert page.evaluate(post) == 403  # the proof was spent
        assert errors == []
    finally:
        context.close()


def test_sixteen_concurrent_posts_from_one_reader_pass_only_the_limit(stack):
    """Through nginx every post comes from one reader (nginx's address): the
    limit holds across gunicorn's workers, and refused posts leave no row."""
    cookies = [_proof_through_nginx(stack).split(";")[0] for _ in range(16)]
    before = stack.counts()
    barrier = threading.Barrier(16)

    def post(n: int) -> tuple[int, dict | None]:
        barrier.wait()
        status, _h, body = stack.nginx(
            "POST",
            "/comments/new?uri=/2026/raffica/",
            {"text": f"Commento numero {n}", "author": "Ada", "title": "Falso"},
            {"Cookie": cookies[n]},
        )
        return status, body

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(post, range(16)))
    accepted = [status for status, _ in answers if status in (201, 202)]
    refused = [body for status, body in answers if status == 403]
    assert 1 <= len(accepted) <= RATELIMIT
    assert len(accepted) + len(refused) == 16
    assert {body["error"] for body in refused} == {"rate-limit"}
    threads, comments = stack.counts()
    assert comments - before[1] == len(accepted)
    assert threads - before[0] <= 1
    with sqlite3.connect(stack.db) as db:
        (title,) = db.execute(
            "SELECT title FROM threads WHERE uri = '/2026/raffica/'"
        ).fetchone()
    assert title == "Raffica"  # from the build's list, not the sender's "Falso"


def test_a_post_to_an_unknown_uri_creates_no_thread(stack):
    before = stack.counts()
    status, _h, body = stack.post(
        "/2026/inventato/", "Ciao a tutti", reader="10.0.10.1"
    )
    assert status == 403 and body["error"] == "thread"
    assert stack.counts() == before


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"text": "Guarda http://a.example http://b.example http://c.example"},
         "too-many-links"),
        ({"text": "Compra VIAGRA qui"}, "blocked-word"),
        ({"text": "Ciao a tutti", "email": "Spammer@Example.org"}, "blocked-email"),
        ({"text": "Ciao a tutti", "website": "https://shop.pillole.example/"},
         "blocked-domain"),
        ({"text": "Vedi [qui](https://pillole.example/x)"}, "blocked-domain"),
    ],
)  # fmt: skip
def test_spam_is_refused_on_create_through_nginx(stack, fields, reason):
    before = stack.counts()
    status, _h, body = stack.nginx(
        "POST",
        "/comments/new?uri=/2026/spam/",
        fields,
        {"Cookie": _proof_through_nginx(stack).split(";")[0]},
    )
    assert status == 403
    assert (body["error"], body["reason"]) == ("spam", reason)
    assert stack.counts() == before


def _edit(stack, made_headers, comment_id, text, reader):
    cookie = made_headers.get_all("Set-Cookie")[0].split(";")[0]
    return stack.isso(
        "PUT",
        f"/id/{comment_id}",
        {"text": text},
        {"Cookie": cookie, "X-Forwarded-For": reader},
    )


def test_an_emptied_comment_edited_into_spam_is_refused(stack):
    reader = "10.0.20.1"
    status, headers, made = stack.post("/2026/modifica/", "Bel post!", reader=reader)
    assert status == 202  # moderation on
    _approve(stack, made["id"])
    status, _h, body = _edit(
        stack, headers, made["id"], "[offerta](https://pillole.example/)", reader
    )
    assert status == 403 and body["reason"] == "blocked-domain"
    status, _h, body = _edit(
        stack, headers, made["id"], "http://x.example http://y.example http://z.example",
        reader,
    )  # fmt: skip
    assert status == 403 and body["reason"] == "too-many-links"
    with sqlite3.connect(stack.db) as db:
        text, mode = db.execute(
            "SELECT text, mode FROM comments WHERE id = ?", (made["id"],)
        ).fetchone()
    assert (text, mode) == ("Bel post!", 1)


def test_an_edit_that_adds_links_goes_back_to_moderation(stack):
    reader = "10.0.21.1"
    status, headers, made = stack.post("/2026/modifica/", "Bel post!", reader=reader)
    _approve(stack, made["id"])
    status, _h, _b = _edit(
        stack, headers, made["id"], "Bel post! https://blog.example/", reader
    )
    assert status == 200
    with sqlite3.connect(stack.db) as db:
        (mode,) = db.execute(
            "SELECT mode FROM comments WHERE id = ?", (made["id"],)
        ).fetchone()
    assert mode == 2  # waits for the moderator again


def test_the_moderators_edit_is_judged_too(stack):
    """Isso's moderation edit (POST /id/N/edit/KEY, the key from the
    notification; Isso's stdout notifier logs its links)."""
    status, _h, made = stack.post("/2026/modifica/", "Da moderare", reader="10.0.22.1")
    assert status == 202
    found = re.search(
        rf"/id/{made['id']}/(?:delete|activate)/(\S+)", stack.log.read_text()
    )
    assert found, "Isso logs the moderation links of a new comment"
    path = f"/id/{made['id']}/edit/{found[1]}"
    status, _h, body = stack.isso("POST", path, {"text": "Compra viagra"})
    assert (status, body["reason"]) == (403, "blocked-word")
    status, _h, body = stack.isso("POST", path, {"text": "Moderato e corretto"})
    assert status == 200 and body["text"] == "Moderato e corretto"


def test_a_banned_email_and_range_are_refused_on_create_and_edit(stack):
    reader = "10.0.30.1"
    status, headers, made = stack.post(
        "/2026/bando/", "Prima del bando", reader=reader, email="tizio@example.net"
    )
    assert status == 202
    db = commentstore.connect(stack.db)
    try:
        by_email = commentstore.ban(db, "email", "Tizio@example.net")
        before = stack.counts()
        status, _h, body = stack.post(
            "/2026/bando/", "Di nuovo", reader="10.0.99.1", email="tizio@example.net"
        )
        assert status == 403 and body["error"] == "banned"
        status, _h, body = _edit(stack, headers, made["id"], "Modificato", reader)
        assert status == 403 and body["error"] == "banned"
        commentstore.unban(db, by_email.id)
        by_range = commentstore.ban(db, "range", "198.51.100.0/24")
        status, _h, body = stack.post(
            "/2026/bando/", "Dal blocco", reader="198.51.100.7"
        )
        assert status == 403 and body["error"] == "banned"
        assert stack.counts() == before
        commentstore.unban(db, by_range.id)
    finally:
        db.close()


def test_no_proof_a_reused_proof_and_a_forged_proof_are_refused(stack):
    before = stack.counts()
    status, _h, body = stack.post(
        "/2026/prova/", "Senza prova", reader="10.0.40.1", proof=False
    )
    assert status == 403 and (body["error"], body["reason"]) == ("pow", "missing")

    challenge = stack.isso("GET", "/pow/challenge")[2]
    payload = solve(challenge)
    status, headers, _ = stack.isso("POST", "/pow/verify", {"payload": payload})
    cookie = headers["Set-Cookie"].split(";")[0]
    status, _h, _made = stack.isso(
        "POST", "/new?uri=/2026/prova/", {"text": "Con prova"},
        {"Cookie": cookie, "X-Forwarded-For": "10.0.41.1"},
    )  # fmt: skip
    assert status == 202
    for reader in ("10.0.42.1", "10.0.43.1"):  # the same proof, spent
        status, _h, body = stack.isso(
            "POST", "/new?uri=/2026/prova/", {"text": "Di nuovo"},
            {"Cookie": cookie, "X-Forwarded-For": reader},
        )  # fmt: skip
        assert status == 403 and (body["error"], body["reason"]) == ("pow", "spent")
    status, _h, body = stack.isso("POST", "/pow/verify", {"payload": payload})
    assert status == 403 and body["reason"] == "spent"  # no second cookie for it

    # Forged: a payload with a wrong number, and a cookie with a made-up MAC.
    data = json.loads(base64.b64decode(solve(stack.isso("GET", "/pow/challenge")[2])))
    data["number"] += 1
    forged = base64.b64encode(json.dumps(data).encode()).decode()
    status, _h, body = stack.isso("POST", "/pow/verify", {"payload": forged})
    assert status == 403 and (body["error"], body["reason"]) == ("pow", "invalid")
    name, value = cookie.split("=", 1)
    signature, expires, _mac = value.split(".")
    for fake in (
        f"{signature}.{int(expires) + 9999}.{_mac}",
        f"x.{expires}.{'0' * 64}",
    ):
        status, _h, body = stack.isso(
            "POST", "/new?uri=/2026/prova/", {"text": "Falsa"},
            {"Cookie": f"{name}={fake}", "X-Forwarded-For": "10.0.44.1"},
        )  # fmt: skip
        assert status == 403 and (body["error"], body["reason"]) == ("pow", "invalid")
    assert stack.counts()[1] == before[1] + 1


def _replace(path: Path, text: str) -> None:
    """Write a file whole, as an editor saves it (never half-written)."""
    new = path.with_suffix(".new")
    new.write_text(text)
    os.replace(new, path)


def test_the_blocklist_is_read_again_when_it_changes(stack):
    """Each gunicorn worker (2 here) reads the file again on its own, and
    logs it: the test waits until both have."""

    def until_both_workers_logged(line: str, reader: str) -> None:
        deadline = time.monotonic() + 15
        while stack.log.read_text().count(line) < 2:
            assert time.monotonic() < deadline, f"never logged twice: {line}"
            stack.post("/2026/spam/", "Un saluto", reader=reader, proof=False)
            time.sleep(0.1)

    _replace(stack.blocklist, BLOCKLIST.replace('"viagra"', '"viagra", "scommesse"'))
    until_both_workers_logged(f"{stack.blocklist}: read again", "10.0.50.1")
    status, _h, body = stack.post(
        "/2026/spam/", "Le migliori scommesse", reader="10.0.50.1", proof=False
    )
    assert (status, body["reason"]) == (403, "blocked-word")
    # A broken edit is logged, naming the line; the last good list stays.
    _replace(stack.blocklist, 'max-links = 2\nwords = ["a" "b"]\n')
    until_both_workers_logged("keeping the previous version", "10.0.51.1")
    assert "line 2" in stack.log.read_text()
    status, _h, body = stack.post(
        "/2026/spam/", "Le migliori scommesse", reader="10.0.51.1", proof=False
    )
    assert (status, body["reason"]) == (403, "blocked-word")
    _replace(stack.blocklist, BLOCKLIST)


def test_each_order_of_a_repeated_uri_gets_its_own_answer(stack):
    for n, uri in enumerate(("/2026/a/", "/2026/b/")):
        status, _h, made = stack.post(uri, f"Sul post {uri}", reader=f"10.0.6{n}.1")
        assert status == 202
        _approve(stack, made["id"])
    for _round in range(3):
        for first, second in (("/2026/a/", "/2026/b/"), ("/2026/b/", "/2026/a/")):
            path = f"/comments/?uri={first}&uri={second}"
            status, _h, thread = stack.nginx("GET", path)
            assert status == 200
            assert [c["text"] for c in thread["replies"]] == [
                f"<p>Sul post {first}</p>"
            ]
            status, _h, thread = stack.isso("GET", f"/?uri={first}&uri={second}")
            assert [c["text"] for c in thread["replies"]] == [
                f"<p>Sul post {first}</p>"
            ]


def test_gunicorn_refuses_to_start_without_the_proof_of_work_key(tmp_path):
    cfg = tmp_path / "isso.cfg"
    cfg.write_text(f"[general]\ndbpath = {tmp_path / 'c.db'}\nhost = http://x\n")
    env = {
        key: value for key, value in os.environ.items() if not key.startswith("PIAZZA_")
    }
    env.update(ISSO_SETTINGS=str(cfg), ISSO_BIND=f"127.0.0.1:{free_port()}")
    result = subprocess.run(
        [str(BIN / "gunicorn"), "--config", str(ROOT / "deploy" / "gunicorn.conf.py")],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "PIAZZA_ALTCHA_HMAC_KEY" in result.stderr + result.stdout


def _look_again(watched: WatchedFile) -> None:
    watched.checked = 0.0  # as if a second had passed since the last look


def test_a_watched_file_keeps_its_last_good_version(tmp_path):
    path = tmp_path / "blocklist.toml"
    path.write_text("max-links = 1\n")
    watched = WatchedFile(path, parse_blocklist, None)
    assert watched.get().max_links == 1
    _replace(path, "max-links = 5\n")
    _look_again(watched)
    assert watched.get().max_links == 5
    _replace(path, "max-links = [\n")  # broken: logged, the last good one kept
    _look_again(watched)
    assert watched.get().max_links == 5
    path.unlink()  # gone (a release being switched): kept too
    _look_again(watched)
    assert watched.get().max_links == 5
    path.write_text("max-links = 7\n")
    _look_again(watched)
    assert watched.get().max_links == 7


def test_a_file_broken_at_start_stops_the_start_naming_the_line(tmp_path):
    path = tmp_path / "blocklist.toml"
    path.write_text('max-links = 2\nwords = ["a",, "b"]\n')
    with pytest.raises(BlocklistError, match="line 2"):
        WatchedFile(path, lambda text: parse_blocklist(text, str(path)), None)
    threads = tmp_path / "threads.json"
    threads.write_text('{"threads": ["/a/"]}')
    with pytest.raises(GuardError, match=r"threads\.json"):
        WatchedFile(threads, lambda text: parse_threads(text, str(threads)), None)


def test_a_body_isso_would_read_otherwise_is_refused_not_passed_on(stack):
    """Isso decodes bytes that are not UTF-8 leniently; the guard must not
    let such a body through unjudged (found by a review: spam, no proof, a
    thread of the sender's choosing, all published)."""
    spam = '{"text": "compra viagra http://a.example http://b.example \xff",'
    spam += ' "author": "X", "title": "Titolo scelto da chi scrive"}'
    before = stack.counts()
    status, _h, body = stack.nginx(
        "POST", "/comments/new?uri=/2026/altrove/", spam.encode("latin-1")
    )
    assert (status, body["error"]) == (403, "invalid")
    assert stack.counts() == before
    # The same trick on an edit of a published comment.
    reader = "10.0.30.1"
    status, headers, made = stack.post("/2026/modifica/", "Bel post!", reader=reader)
    _approve(stack, made["id"])
    cookie = headers.get_all("Set-Cookie")[0].split(";")[0]
    edit = '{"text": "compra viagra http://a.example http://b.example \xff"}'
    status, _h, body = stack.nginx(
        "PUT", f"/comments/id/{made['id']}", edit.encode("latin-1"), {"Cookie": cookie}
    )
    assert (status, body["error"]) == (403, "invalid")
    with sqlite3.connect(stack.db) as db:
        text, mode = db.execute(
            "SELECT text, mode FROM comments WHERE id = ?", (made["id"],)
        ).fetchone()
    assert (text, mode) == ("Bel post!", 1)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/comments/comments/login/"),
        ("GET", "/comments/comments/admin/"),
        ("GET", "/comments/comments/info"),
        ("POST", "/comments/comments/new?uri=/2026/modifica/"),
        ("PUT", "/comments/comments/id/1"),
    ],
)
def test_a_doubled_prefix_reaches_nothing(stack, method, path):
    """nginx takes /comments off and tells Isso it did (X-Script-Name); Isso
    would take a second /comments off and answer its own login (no lockout),
    admin and edit routes past our layers (found by a review)."""
    data = {"text": "Ciao da Chiara", "author": "Chiara Valsecchi"}
    status, _h, _b = stack.nginx(method, path, None if method == "GET" else data)
    assert status == 404
