"""`invoke comments-moderate` (piazza/moderation.py): the queue in the
terminal, and approve / delete / ban by number, on the database of a running
Isso (gunicorn, as production runs it) with moderation on."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys

import pytest
from conftest import ROOT
from isso_server import new_comment, running_isso_gunicorn, thread
from rich.console import Console

from piazza import commentstore, moderation

MODERATED = {"moderation": {"enabled": "true"}}


@pytest.fixture(scope="module")
def isso(tmp_path_factory):
    folder = tmp_path_factory.mktemp("moderated")
    with running_isso_gunicorn(folder, settings=MODERATED) as server:
        yield server


def moderate(db, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "invoke", "-r", str(ROOT), "comments-moderate",
         "--db", str(db), *args],
        capture_output=True, text=True, timeout=120, check=False,
        stdin=subprocess.DEVNULL, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip


def modes(db) -> dict[int, int]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT id, mode FROM comments"))


def test_the_queue_is_shown_and_comments_approved_deleted_banned_by_number(isso):
    uri = "/2026/da-moderare/"
    ok = new_comment(isso.url, uri, "Un commento gentile.", author="Anna")
    no = new_comment(isso.url, uri, "Un commento da togliere.", author="Beppe")
    spam = new_comment(
        isso.url, uri, "Compra pillole qui.", author="X", email="Spam@Example.org"
    )
    assert {ok["mode"], no["mode"], spam["mode"]} == {2}
    with commentstore.connect(isso.db) as db:
        commentstore.ensure_schema(db)
        db.execute(
            "INSERT INTO piazza_flags VALUES (?, 'claims a staff name', 0)",
            (spam["id"],),
        )

    listed = moderate(isso.db)
    assert listed.returncode == 0, listed.stderr
    assert "3 waiting for moderation" in listed.stdout
    for made in (ok, no, spam):
        assert f"│ {made['id']} " in listed.stdout
    assert "claims a staff name" in listed.stdout
    assert modes(isso.db)[ok["id"]] == 2  # listing changes nothing

    done = moderate(
        isso.db, "--approve", str(ok["id"]), "--delete", str(no["id"]),
        "--ban", str(spam["id"]),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"#{ok['id']} approved" in done.stdout
    assert f"#{no['id']} deleted" in done.stdout
    assert f"#{spam['id']} banned (email spam@example.org)" in done.stdout
    after = modes(isso.db)
    assert after[ok["id"]] == 1 and no["id"] not in after and spam["id"] not in after
    with commentstore.connect(isso.db) as db:
        assert commentstore.is_banned(db, "spam@example.org", None)
    # The running server sees it at once (its thread cache follows the file).
    replies = thread(isso.url, uri)["replies"]
    assert [r["id"] for r in replies] == [ok["id"]]


def test_deleting_a_comment_with_replies_keeps_a_placeholder(isso):
    uri = "/2026/con-risposte/"
    parent = new_comment(isso.url, uri, "Il primo, con risposte.")
    reply = new_comment(isso.url, uri, "Una risposta.", parent=parent["id"])
    done = moderate(isso.db, "--delete", str(parent["id"]))
    assert done.returncode == 0, done.stderr
    assert "kept as a placeholder" in done.stdout
    after = modes(isso.db)
    assert after[parent["id"]] == 4 and after[reply["id"]] == 2  # as Isso does


def test_a_ban_without_an_email_bans_the_address_range(isso):
    made = new_comment(isso.url, "/2026/rete/", "Senza e-mail.", reader="192.0.2.77")
    done = moderate(isso.db, "--ban", str(made["id"]))
    assert done.returncode == 0, done.stderr
    assert "range 192.0.2.0/24" in done.stdout
    with commentstore.connect(isso.db) as db:
        assert commentstore.is_banned(db, None, "192.0.2.200")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--approve", "99999"], "no comment #99999"),
        (["--delete", "tre"], "--delete takes a comment's number"),
    ],
)
def test_a_wrong_number_is_a_message_not_a_traceback(isso, args, message):
    done = moderate(isso.db, *args)
    assert done.returncode == 1
    assert message in done.stderr and "Traceback" not in done.stderr


def test_approving_a_published_comment_is_refused(isso):
    made = new_comment(isso.url, "/2026/due-volte/", "Approvami una volta.")
    assert moderate(isso.db, "--approve", str(made["id"])).returncode == 0
    again = moderate(isso.db, "--approve", str(made["id"]))
    assert again.returncode == 1 and "already published" in again.stderr


def test_at_a_terminal_each_comment_is_asked_about(isso):
    with moderation.Queue(isso.db) as queue:
        for found in queue.pending():  # start from an empty queue
            queue.delete(found.id)
    first = new_comment(isso.url, "/2026/domande/", "Il primo.")
    second = new_comment(isso.url, "/2026/domande/", "Il secondo.")
    answers = iter(["a", "d"])  # newest first: the second, then the first
    console = Console(file=io.StringIO(), width=100)
    with moderation.Queue(isso.db) as queue:
        done = moderation.ask(queue, console, prompt=lambda *a, **k: next(answers))
    assert [(d.comment_id, d.action) for d in done] == [
        (second["id"], "approved"),
        (first["id"], "deleted"),
    ]
    assert modes(isso.db)[second["id"]] == 1 and first["id"] not in modes(isso.db)


def test_unlock_forgets_the_failed_logins(isso):
    with commentstore.connect(isso.db) as db:
        commentstore.ensure_schema(db)
        db.execute(
            "INSERT INTO piazza_events VALUES ('login-failure', '192.0.2.0', 1e10)"
        )
        db.execute("INSERT INTO piazza_events VALUES ('post', '192.0.2.0', 1e10)")
    done = moderate(isso.db, "--unlock")
    assert done.returncode == 0, done.stderr
    assert "Forgot 1 failed admin logins" in done.stdout
    with commentstore.connect(isso.db) as db:
        kinds = [k for (k,) in db.execute("SELECT kind FROM piazza_events")]
    assert "login-failure" not in kinds and "post" in kinds


def test_a_file_that_is_not_an_isso_database_is_left_alone(tmp_path):
    stranger = tmp_path / "altro.db"
    with sqlite3.connect(stranger) as db:
        db.execute("CREATE TABLE note (testo TEXT)")
    done = moderate(stranger)
    assert done.returncode == 1 and "not an Isso database" in done.stderr
    with sqlite3.connect(stranger) as db:
        tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master")]
    assert tables == ["note"]
    missing = moderate(tmp_path / "nessuno.db")
    assert missing.returncode == 1 and "no such file" in missing.stderr
