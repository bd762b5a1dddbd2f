"""Confirmed supporters (a real SMTP server on loopback), backups and
restores of the ideas database, the editors' tasks, and the house's rooms."""

from __future__ import annotations

import ast
import contextlib
import io
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import invoke
from ideas_server import ROOT, Reader, counts, request, running_ideas
from mailsink import confirm, only_link, smtp_sink
from rich.console import Console

from services.ideas import backup, cli, store


@pytest.fixture
def smtp():
    with smtp_sink() as running:
        yield running


def test_confirmed_supporters_are_counted_apart_and_survive_a_restore(tmp_path, smtp):
    sink, port = smtp
    folder = tmp_path / "svc"
    settings = {
        "IDEAS_SMTP_HOST": "127.0.0.1",
        "IDEAS_SMTP_PORT": str(port),
        "IDEAS_SMTP_FROM": "Officine Ardesia <idee@officineardesia.example>",
    }
    with running_ideas(folder, **settings) as server:
        proposer = Reader(server.url, "203.0.113.1")
        number = proposer.propose()[2]["id"]
        cli.accept(server.db, number, tmp_path / "content")
        ada, bea, ada_phone, anon = (
            Reader(server.url, f"198.51.{n}.1") for n in range(4)
        )
        confirm(ada, sink, "ada@example.org", lang="en")
        assert sink.messages[0]["Subject"] == "Confirm your address to support ideas"
        confirm(bea, sink, "bea@example.org")
        assert sink.messages[1]["Subject"].startswith("Conferma")
        # The same person confirming from a second browser counts once.
        confirm(ada_phone, sink, "Ada@Example.org")
        for reader in (ada, bea, ada_phone, anon):
            assert reader.vote(number)[0] == 200
        assert counts(server.url, number) == {number: (4, 2)}
        # Confirming after voting counts too.
        late_confirmer = Reader(server.url, "198.51.50.1")
        assert late_confirmer.vote(number)[0] == 200
        assert counts(server.url, number) == {number: (5, 2)}
        confirm(late_confirmer, sink, "cleo@example.org")
        assert counts(server.url, number) == {number: (5, 3)}
        assert late_confirmer.withdraw(number)[0] == 200
        assert counts(server.url, number) == {number: (4, 2)}
        with contextlib.closing(sqlite3.connect(server.db)) as db:
            assert store.audit(db) == []
        assert ada.call("GET", "/me")[2]["confirmed"] is True
        assert anon.call("GET", "/me")[2]["confirmed"] is False

        # A forged or tampered link confirms nothing.
        link = urlsplit(only_link(sink.messages[0]))
        status, _, answer = request(server.url, "GET", f"{link.path}?{link.query}x")
        assert (status, answer["error"]) == (400, "invalid_token")

        saved = backup.backup(server.db, tmp_path / "backups")
        # Written after the backup: gone after the restore, as expected.
        late = Reader(server.url, "198.51.99.1")
        assert late.vote(number)[0] == 200
    with sqlite3.connect(server.db) as db:
        before = set(
            db.execute(
                "SELECT v.idea_id, v.voter FROM votes v "
                "JOIN voters r ON r.id = v.voter WHERE r.confirmed IS NOT NULL"
            )
        )
    server.db.write_bytes(b"damaged")  # the disaster the backup is for
    for suffix in ("-wal", "-shm"):
        Path(f"{server.db}{suffix}").unlink(missing_ok=True)
    previous = backup.restore(saved, server.db, force=True)
    assert previous is not None and previous.name.startswith("ideas.db.damaged-")

    with running_ideas(folder, **settings) as server:
        assert counts(server.url, number) == {number: (4, 2)}
        with sqlite3.connect(server.db) as db:
            after = set(
                db.execute(
                    "SELECT v.idea_id, v.voter FROM votes v "
                    "JOIN voters r ON r.id = v.voter WHERE r.confirmed IS NOT NULL"
                )
            )
        assert after == before and len(after) == 3
        # The restored voters' cookies still work.
        ada.url = server.url
        assert ada.vote(number)[2]["changed"] is False


def test_confirming_without_smtp_settings_says_so(tmp_path):
    with running_ideas(tmp_path / "svc") as server:
        reader = Reader(server.url)
        status, _, answer = reader.call(
            "POST", "/me/email", {"email": "a@example.org", "altcha": reader.proof()}
        )
        assert (status, answer["error"]) == (503, "unavailable")


def test_backup_and_restore_refuse_what_is_not_an_ideas_database(tmp_path):
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE comments (id INTEGER)")
    with pytest.raises(backup.IdeasBackupError, match="not an ideas database"):
        backup.restore(other, tmp_path / "ideas.db")
    with pytest.raises(backup.IdeasBackupError, match="no such file"):
        backup.backup(tmp_path / "none.db", tmp_path / "b")


def test_the_editors_tasks_list_accept_move_and_merge(tmp_path):
    with running_ideas(tmp_path / "svc") as server:
        first = Reader(server.url, "203.0.113.5").propose(title="Borse laterali")
        second = Reader(server.url, "203.0.113.6").propose(title="Borse di lato")
        one, two = first[2]["id"], second[2]["id"]
        db = ("--db", str(server.db))
        folder = tmp_path / "content"

        listed = invoke(ROOT, "ideas", "--list", *db)
        assert listed.returncode == 0, listed.stderr
        assert "Waiting for an editor (2)" in listed.stdout
        shown = io.StringIO()
        cli.show(server.db, Console(file=shown, width=200))
        assert "Borse laterali" in shown.getvalue()

        done = invoke(
            ROOT, "ideas", "--accept", str(one), "--content", str(folder),
            "--answer-it", "Bella idea", "--answer-en", "Nice idea", *db,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "git add" in done.stdout
        assert (folder / "borse-laterali.it.md").exists()
        again = invoke(
            ROOT, "ideas", "--accept", str(one), "--content", str(folder), *db
        )
        assert again.returncode == 1 and "not in the queue" in again.stderr

        # Every decision names the test's content folder: never the repo's
        # content/ideas/ (the demo's ideas 1 and 2 live there).
        here = ("--content", str(folder))
        moved = invoke(
            ROOT, "ideas", "--status", str(one), "--to", "planned", *here, *db
        )
        assert moved.returncode == 0, moved.stderr
        assert request(server.url, "GET", f"/ideas/{one}")[2]["status"] == "planned"
        wrong = invoke(
            ROOT, "ideas", "--status", str(one), "--to", "someday", *here, *db
        )
        assert wrong.returncode == 1 and "status: one of" in wrong.stderr

        invoke(ROOT, "ideas", "--accept", str(two), "--content", str(folder), *db)
        merged = invoke(
            ROOT, "ideas", "--merge", str(two), "--into", str(one), *here, *db
        )
        assert merged.returncode == 0, merged.stderr
        assert request(server.url, "GET", f"/ideas/{two}")[2]["duplicate_of"] == one

        declined = invoke(
            ROOT, "ideas", "--decline", str(one),
            "--answer-it", "No", "--answer-en", "No", *here, *db,
        )  # fmt: skip
        assert declined.returncode == 0, declined.stderr
        assert request(server.url, "GET", f"/ideas/{one}")[2]["status"] == "declined"
        assert "Status: declined" in (folder / "borse-laterali.it.md").read_text()

        copy = invoke(ROOT, "ideas-backup", "--dest", str(tmp_path / "b"), *db)
        assert copy.returncode == 0, copy.stderr
        assert len(list((tmp_path / "b").glob("ideas-*.db"))) == 1


def test_plugins_never_import_services():
    """ARCHITECTURE: build-time code reads a service over HTTP only."""
    offenders = []
    for path in sorted((ROOT / "plugins").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.relative_to(ROOT)}:{node.lineno} imports {name}"
                for name in names
                if name == "services" or name.startswith("services.")
            ]
    assert not offenders, offenders


def test_backup_and_restore_cover_both_databases(tmp_path):
    comments_db, ideas_db = tmp_path / "comments.db", tmp_path / "ideas.db"
    with contextlib.closing(sqlite3.connect(comments_db)) as db:
        for table in ("comments", "threads", "preferences"):
            db.execute(f"CREATE TABLE {table} (id INTEGER)")
    cli.show(ideas_db, Console(file=io.StringIO()))  # makes the ideas schema
    dbs = ("--comments-db", str(comments_db), "--ideas-db", str(ideas_db))
    dest = tmp_path / "backups"
    done = invoke(ROOT, "backup", "--dest", str(dest), *dbs)
    assert done.returncode == 0, done.stderr
    (comments_copy,) = dest.glob("comments-*.db")
    (ideas_copy,) = dest.glob("ideas-*.db")

    refused = invoke(ROOT, "restore", "--ideas", str(ideas_copy), *dbs)
    assert refused.returncode == 1 and "add --force" in refused.stderr
    both = ("--comments", str(comments_copy), "--ideas", str(ideas_copy))
    done = invoke(ROOT, "restore", *both, *dbs, "--force")
    assert done.returncode == 0, done.stderr
    assert f"Restored {ideas_db}" in done.stdout
    assert f"Restored {comments_db}" in done.stdout
    nothing = invoke(ROOT, "restore", *dbs)
    assert nothing.returncode == 1 and "name a backup" in nothing.stderr
