"""piazza.commentstore: our tables beside Isso's, and bans."""

from __future__ import annotations

import sqlite3

import pytest

from piazza.commentstore import (
    StoreError,
    ban,
    bans,
    connect,
    ensure_schema,
    immediate,
    is_banned,
    unban,
)


@pytest.fixture
def db(tmp_path):
    connection = connect(tmp_path / "comments.db")
    ensure_schema(connection)
    yield connection
    connection.close()


def test_bans_by_email_and_range(db):
    ban(db, "email", " Spam@Example.org ", "links")
    ban(db, "range", "203.0.113.9/24")
    assert is_banned(db, "spam@example.org", None)
    assert is_banned(db, None, "203.0.113.0")  # as Isso records an address
    assert is_banned(db, None, "203.0.113.200")
    assert not is_banned(db, "other@example.org", "198.51.100.1")
    assert not is_banned(db, None, "2001:db8::1")
    assert [(b.kind, b.value) for b in bans(db)] == [
        ("email", "spam@example.org"),
        ("range", "203.0.113.0/24"),
    ]


def test_a_ban_is_idempotent_and_can_be_lifted(db):
    first = ban(db, "email", "a@example.org")
    assert ban(db, "email", "A@example.org").id == first.id
    assert unban(db, first.id)
    assert not unban(db, first.id)
    assert not is_banned(db, "a@example.org", None)


@pytest.mark.parametrize(
    ("kind", "value"), [("email", "nobody"), ("range", "300.1.2.3"), ("name", "x")]
)
def test_bad_bans_are_refused_with_the_value(db, kind, value):
    with pytest.raises(StoreError, match=value.replace(".", r"\.")):
        ban(db, kind, value)


def test_immediate_rolls_back_on_error(db):
    with pytest.raises(RuntimeError), immediate(db):
        db.execute(
            "INSERT INTO piazza_events (kind, subject, created) VALUES ('post', 'x', 1)"
        )
        raise RuntimeError
    assert db.execute("SELECT COUNT(*) FROM piazza_events").fetchone() == (0,)


def test_schema_lives_beside_isso_tables(tmp_path):
    path = tmp_path / "c.db"
    with sqlite3.connect(path) as isso:
        isso.execute("CREATE TABLE comments (id INTEGER)")
    ensure_schema(connect(path))
    rows = sqlite3.connect(path).execute("SELECT name FROM sqlite_master")
    names = {row[0] for row in rows}
    assert {"comments", "piazza_bans", "piazza_staff_comments", "piazza_flags"} <= names
