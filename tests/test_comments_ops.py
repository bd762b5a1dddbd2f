"""Operating the comment server: backups and restores of a live database,
and the tasks that run them, refusing what they should."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import ROOT, free_port
from isso_fixture import running_isso

from piazza.comments import CommentsError, backup, check_database, restore


def count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT COUNT(*) FROM comments").fetchone()[0]


@pytest.fixture
def isso(tmp_path):
    with running_isso(
        tmp_path / "isso", free_port(), "http://127.0.0.1:8000"
    ) as server:
        yield server


def test_backup_while_comments_are_being_written_loses_nothing(isso, tmp_path):
    for n in range(5):
        isso.new_comment("/a/", f"commento {n}")
    stop = threading.Event()
    written = []

    def writer():
        n = 0
        while not stop.is_set():
            isso.new_comment("/b/", f"durante il backup {n}")
            written.append(n)
            n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        copies = [backup(isso.db, tmp_path / "backups") for _ in range(5)]
    finally:
        stop.set()
        thread.join()
    assert written, "comments were written during the backups"
    sizes = [count(copy) for copy in copies]
    for copy in copies:
        check_database(copy)  # each one consistent and an Isso database
    assert sizes == sorted(sizes) and sizes[0] >= 5
    assert len(set(copies)) == 5  # never overwritten, each its own file
    assert all(c.parent == tmp_path / "backups" for c in copies)
    assert copies[0].name.startswith("comments-") and copies[0].suffix == ".db"

    # Restore the last copy into the live database, with Isso running.
    final = backup(isso.db, tmp_path / "backups")
    total = count(final)
    isso.new_comment("/c/", "dopo il backup")
    previous = restore(final, isso.db, force=True, backups=tmp_path / "before")
    assert count(isso.db) == total
    assert count(previous) == total + 1  # what was replaced is kept
    assert isso.thread("/a/")["total_replies"] == 5  # Isso reads the restored db
    isso.new_comment("/a/", "dopo il ripristino")
    assert isso.thread("/a/")["total_replies"] == 6


def test_backups_in_the_same_second_get_their_own_names(isso, tmp_path):
    now = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    first = backup(isso.db, tmp_path, now=now)
    second = backup(isso.db, tmp_path, now=now)
    assert first.name == "comments-20261122T100000Z.db"
    assert second.name == "comments-20261122T100000Z-2.db"


def test_bad_paths_are_refused_clearly(isso, tmp_path):
    missing = tmp_path / "nope.db"
    with pytest.raises(CommentsError, match=f"{missing}: no such file"):
        backup(missing, tmp_path / "b")
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(CommentsError, match="exists and is not a folder"):
        backup(isso.db, a_file)
    text = tmp_path / "notes.db"
    text.write_text("not a database at all" * 100)
    with pytest.raises(CommentsError, match="not an SQLite database"):
        restore(text, tmp_path / "new.db")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE things (id INTEGER)")
    with pytest.raises(CommentsError, match="not an Isso database"):
        restore(other, tmp_path / "new.db")
    copy = backup(isso.db, tmp_path / "b")
    with pytest.raises(CommentsError, match="exists: add --force"):
        restore(copy, isso.db)
    # Restoring into a new place needs no force.
    assert restore(copy, tmp_path / "fresh" / "comments.db") is None
    assert count(tmp_path / "fresh" / "comments.db") == count(copy)


def invoke(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "invoke", "-r", str(ROOT), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_tasks_back_up_restore_and_refuse(isso, tmp_path):
    isso.new_comment("/a/", "salvami")
    done = invoke("comments-backup", "--db", str(isso.db), "--dest", str(tmp_path))
    assert done.returncode == 0, done.stderr
    (copy,) = tmp_path.glob("comments-*.db")
    assert str(copy) in done.stdout and count(copy) == 1
    refused = invoke("comments-restore", str(copy), "--db", str(isso.db))
    assert refused.returncode == 1
    assert "add --force" in refused.stderr and "Traceback" not in refused.stderr
    forced = invoke("comments-restore", str(copy), "--db", str(isso.db), "--force")
    assert forced.returncode == 0, forced.stderr
    assert "backed up in" in forced.stdout
    bad = invoke("comments-backup", "--db", str(tmp_path / "none.db"))
    assert bad.returncode == 1 and "no such file" in bad.stderr
