"""The staff badge (piazza/isso_staff.py) on the real stack: gunicorn running
deploy/isso.cfg (moderation on, approve-if-email-previously-approved on,
the admin enabled) behind nginx rendered from deploy/nginx.conf.

Through nginx every comment comes from nginx's address, so the guard's
per-address limits (2 a minute, no reply to oneself) are lifted here: they
are not what these tests are about.
"""

from __future__ import annotations

import json
import sqlite3
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from conftest import free_port
from isso_server import PRODUCTION_SECRETS, IssoServer, call, running_isso_gunicorn
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from nginx_server import RunningNginx, running_nginx

CHIARA = {
    "author": "Chiara Valsecchi",
    "email": "chiara.valsecchi@officineardesia.example",
}
LIMITS_OFF = (
    ("ratelimit = 2", "ratelimit = 1000"),
    ("direct-reply = 3", "direct-reply = 1000"),
    ("reply-to-self = false", "reply-to-self = true"),
    ("notify = smtp", "notify = stdout"),  # no relay to reach in tests
    ("reply-notifications = true", "reply-notifications = false"),
)


@dataclass(frozen=True)
class Stack:
    nginx: RunningNginx
    isso: IssoServer

    def api(self, method: str, path: str, data=None, cookie: str | None = None):
        """A request to Isso through nginx: (status, headers, decoded JSON)."""
        headers = {"Content-Type": "application/json"}
        if cookie:
            headers["Cookie"] = cookie
        body = None if data is None else json.dumps(data).encode()
        status, answer, raw = self.nginx.get(
            f"/comments{path}", headers, method=method, body=body
        )
        return status, answer, json.loads(raw) if raw.strip() else None

    def post(self, uri: str, cookie: str | None = None, **comment):
        comment.setdefault("title", "Prova")
        path = f"/new?uri={urllib.parse.quote(uri)}"
        status, headers, made = self.api("POST", path, comment, cookie)
        edit = headers.get_all("Set-Cookie")[0].split(";")[0]
        return status, made, edit

    def login(self, password: str = PRODUCTION_SECRETS["ISSO_ADMIN_PASSWORD"]) -> str:
        """The admin-session cookie (name=value) the login gives for ``password``
        (piazza/isso_moderation.py answers it: 303 to the moderation page)."""
        status, headers, _ = self.nginx.get(
            "/comments/login/",
            {"Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
            body=urllib.parse.urlencode({"password": password}).encode(),
        )
        assert status == 303, "the login did not accept the admin password"
        (cookie,) = [
            c.split(";")[0]
            for c in headers.get_all("Set-Cookie")
            if c.startswith("admin-session=")
        ]
        return cookie

    def signer(self, signer=TimestampSigner) -> URLSafeTimedSerializer:
        """Isso's own signer (its session key is in the database)."""
        with sqlite3.connect(self.isso.db) as db:
            (key,) = db.execute(
                "SELECT value FROM preferences WHERE key = 'session-key'"
            ).fetchone()
        return URLSafeTimedSerializer(key, signer=signer)

    def approve(self, comment_id: int) -> None:
        """What the moderator's e-mailed link does (POST, its signed key)."""
        key = self.signer().dumps(comment_id)
        status, _, _ = self.nginx.get(
            f"/comments/id/{comment_id}/activate/{key}", method="POST"
        )
        assert status == 200

    def rows(self, sql: str) -> list[tuple]:
        with sqlite3.connect(self.isso.db) as db:
            return db.execute(sql).fetchall()


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    base = tmp_path_factory.mktemp("staff")
    root = base / "site"
    root.mkdir()
    (root / "index.html").write_text("<!doctype html><title>Piazza</title>\n")
    isso_port = free_port()
    with (
        running_nginx(base, root, isso_port) as nginx,
        running_isso_gunicorn(
            base / "isso", port=isso_port, production=LIMITS_OFF
        ) as isso,
    ):
        yield Stack(nginx, isso)


def eventually(read: Callable[[], object], ok: Callable[[object], bool]) -> object:
    """``read()`` until ``ok`` holds of it (nginx keeps an answer to the end
    of its second), at most 3 s: the last value read."""
    deadline = time.monotonic() + 3
    while True:
        value = read()
        if ok(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def comments_of(thread: dict) -> dict[int, dict]:
    """Every comment of a thread answer, nested replies too, by id."""
    found, todo = {}, list(thread["replies"])
    while todo:
        comment = todo.pop()
        found[comment["id"]] = comment
        todo.extend(comment.get("replies") or ())
    return found


def test_only_the_real_author_earns_the_badge(stack):
    uri = "/2026/la-presidente-risponde/"
    status, question, _ = stack.post(uri, text="Quando aprite?", author="Ada")
    assert status == 202  # moderation is on
    stack.approve(question["id"])

    # The president logs in (as a moderator does), then answers on the site.
    admin = stack.login()
    status, answer, answer_edit = stack.post(
        uri, admin, text="A maggio!", parent=question["id"], **CHIARA
    )
    assert status == 201 and answer["mode"] == 1  # public at once
    assert answer["hash"] == "staff-chiara"

    # Someone else, with her name and address (approved a moment ago).
    status, fake, fake_edit = stack.post(
        uri, text="Chiudiamo tutto.", parent=question["id"], **CHIARA
    )
    assert status == 202 and fake["mode"] == 2
    assert not fake["hash"].startswith("staff-")
    assert stack.rows("SELECT comment_id, reason FROM piazza_flags") == [
        (fake["id"], "claims-staff")
    ]
    assert stack.rows("SELECT comment_id, staff FROM piazza_staff_comments") == [
        (answer["id"], "chiara")
    ]

    thread = eventually(
        lambda: stack.api("GET", f"/?uri={uri}")[2],
        lambda t: answer["id"] in comments_of(t),
    )
    shown = comments_of(thread)
    assert set(shown) == {question["id"], answer["id"]}  # the fake waits
    assert shown[answer["id"]]["hash"] == "staff-chiara"  # a nested reply
    assert not shown[question["id"]]["hash"].startswith("staff-")

    latest = eventually(
        lambda: stack.api("GET", "/latest?limit=10")[2],
        lambda items: any(c["id"] == answer["id"] for c in items),
    )
    by_id = {c["id"]: c for c in latest}
    assert by_id[answer["id"]]["hash"] == "staff-chiara"
    assert fake["id"] not in by_id
    assert "hash" not in by_id[question["id"]]  # Isso gives none in /latest

    _s, _h, read_back = stack.api("GET", f"/id/{answer['id']}", cookie=answer_edit)
    assert read_back["hash"] == "staff-chiara"
    _s, _h, read_back = stack.api("GET", f"/id/{fake['id']}", cookie=fake_edit)
    assert read_back["mode"] == 2 and "hash" not in read_back


def test_a_forged_or_expired_admin_session_earns_nothing(stack):
    class Old(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 2 * 24 * 3600

    forged = {
        "made up": "admin-session=eyJsb2dnZWQiOnRydWV9.Zz.abc",
        "expired": "admin-session=" + stack.signer(Old).dumps({"logged": True}),
        "another key": "admin-session="
        + URLSafeTimedSerializer("another").dumps({"logged": True}),
        "not a login": "admin-session=" + stack.signer().dumps({"logged": False}),
    }
    uri = "/2026/sessioni-false/"
    for why, cookie in forged.items():
        status, made, _ = stack.post(uri, cookie, text=f"Sono io ({why}).", **CHIARA)
        assert status == 202 and made["mode"] == 2, why
        assert not made["hash"].startswith("staff-"), why
        flags = stack.rows(
            f"SELECT reason FROM piazza_flags WHERE comment_id = {made['id']}"
        )
        assert flags == [("claims-staff",)], why
    _s, _h, thread = stack.api("GET", f"/?uri={uri}")
    assert thread["replies"] == []


def test_a_reader_cannot_wear_a_staff_hash(stack):
    uri = "/2026/lettore/"
    status, made, edit = stack.post(
        uri, text="Ciao a tutti.", author="Bea", hash="staff-chiara"
    )
    assert status == 202
    assert len(made["hash"]) == 12 and int(made["hash"], 16) >= 0
    stack.approve(made["id"])
    _s, _h, thread = stack.api("GET", f"/?uri={uri}")
    assert [c["hash"] for c in thread["replies"]] == [made["hash"]]
    _s, _h, read_back = stack.api("GET", f"/id/{made['id']}", cookie=edit)
    assert "hash" not in read_back


def test_a_claimed_name_with_an_approved_address_still_waits(stack):
    """approve-if-email-previously-approved would publish it: the claim wins."""
    uri = "/2026/nome-preso/"
    reader = {"author": "Bea", "email": "bea@example.org"}
    _s, first, _ = stack.post(uri, text="Prima volta.", **reader)
    stack.approve(first["id"])
    status, again, _ = stack.post(uri, text="Seconda volta.", **reader)
    assert status == 201 and again["mode"] == 1  # Isso's rule, for a reader
    status, posing, _ = stack.post(
        uri, text="Parlo io.", author="Chiara  VALSECCHI", email="bea@example.org"
    )
    assert status == 202 and posing["mode"] == 2
    assert stack.rows(
        f"SELECT reason FROM piazza_flags WHERE comment_id = {posing['id']}"
    ) == [("claims-staff",)]


def test_a_name_edited_into_a_staff_one_goes_back_to_moderation(stack):
    uri = "/2026/modifica-nome/"
    _s, made, edit = stack.post(uri, text="Un commento qualunque.", author="Bea")
    stack.approve(made["id"])
    status, _h, edited = stack.api(
        "PUT",
        f"/id/{made['id']}",
        {"text": "Un commento qualunque.", "author": "Chiara Valsecchi"},
        cookie=edit,
    )
    assert status == 200 and edited["mode"] == 2 and "hash" not in edited
    thread = eventually(
        lambda: stack.api("GET", f"/?uri={uri}")[2], lambda t: t["replies"] == []
    )
    assert thread["replies"] == []
    assert stack.rows(
        f"SELECT reason FROM piazza_flags WHERE comment_id = {made['id']}"
    ) == [("claims-staff",)]


def test_a_moderator_under_another_name_gets_no_badge(stack):
    admin = stack.login()
    status, made, _ = stack.post(
        "/2026/moderatore/", admin, text="Un saluto.", author="La redazione"
    )
    assert status == 202 and not made["hash"].startswith("staff-")
    log = stack.isso.log.read_text()
    assert "'La redazione'" in log and "no badge" in log


def test_kept_thread_reads_show_the_badge_as_soon_as_it_is_written(stack):
    """Straight to gunicorn (no nginx cache): its workers keep thread reads
    in memory (ThreadReads, outside the staff layer) until the database
    changes, and a staff comment changes it."""
    uri = "/2026/in-memoria/"
    url = stack.isso.url
    reader = {"X-Forwarded-For": "198.51.100.20"}
    _s, _h, made = call(
        f"{url}/new?uri={uri}",
        {"text": "Domanda.", "author": "Ada", "title": "M"},
        headers=reader,
    )
    stack.approve(made["id"])
    for _ in range(6):  # now kept by both workers
        assert len(call(f"{url}/?uri={uri}")[2]["replies"]) == 1
    admin = stack.login()
    _s, _h, answer = call(
        f"{url}/new?uri={uri}",
        {"text": "Risposta.", "parent": made["id"], **CHIARA},
        headers={"Cookie": admin, "X-Forwarded-For": "198.51.100.21"},
    )
    for _ in range(6):
        shown = comments_of(call(f"{url}/?uri={uri}")[2])
        assert shown[answer["id"]]["hash"] == "staff-chiara"


def test_a_wrong_staff_file_stops_the_start_with_its_line(tmp_path):
    staff = tmp_path / "staff.toml"
    staff.write_text('[[staff]]\nkey = "chiara"\nname = "Chiara"\nemail = "x"\n')
    with (
        pytest.raises(RuntimeError) as failed,
        running_isso_gunicorn(
            tmp_path / "isso",
            production=LIMITS_OFF,
            env={"PIAZZA_STAFF_FILE": str(staff)},
        ),
    ):
        pass
    message = str(failed.value)
    assert f"{staff}:1: unknown key 'email'" in message
    assert "Traceback" not in message
