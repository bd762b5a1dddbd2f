"""The ideas service's pure parts: addresses and ranges, the rules of a
proposal, settings from the environment, the schema's migrations."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import sqlite3
import subprocess
import sys
import time
import urllib.request

import pytest
from ideas_server import ROOT, free_port

from piazza.processes import stop
from services.ideas import config, content, db, rules, store
from services.ideas.model import Change, Counts, Idea
from services.ideas.votes import address_range, client_address

LOOPBACK = (ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("::1/128"))


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("127.0.0.1", "203.0.113.9", "203.0.113.9"),  # from nginx: believed
        ("198.51.100.4", "203.0.113.9", "198.51.100.4"),  # from anyone else: not
        ("127.0.0.1", "203.0.113.9, 127.0.0.1", "203.0.113.9"),  # a chain of proxies
        ("127.0.0.1", "not an address", "127.0.0.1"),
        ("127.0.0.1", None, "127.0.0.1"),
        ("::1", "2001:db8::7", "2001:db8::7"),
    ],
)
def test_the_readers_address(remote, forwarded, expected):
    assert str(client_address(remote, forwarded, LOOPBACK)) == expected


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("2001:db8:1234:5678::1", "2001:db8:1234::/48"),
        ("::ffff:203.0.113.77", "203.0.113.0/24"),
    ],
)
def test_limits_count_per_address_range(address, network):
    assert address_range(ipaddress.ip_address(address)) == network


def _proposal(**fields):
    return {
        "title": "Titolo",
        "description": "Testo",
        "category": "moto",
        "lang": "it",
        **fields,
    }


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": ""}, "title: required"),
        ({"title": "<b></b>"}, "title: required"),
        ({"title": "x" * 141}, "title: at most 140"),
        ({"description": 7}, "description: must be a string"),
        ({"description": "<script>x</script>"}, "description: nothing left"),
        ({"category": "razzi"}, "category: one of moto"),
        ({"lang": "fr"}, "lang: it or en"),
        ({"email": "a@b"}, "email: not an e-mail address"),
        ({"name": "x" * 81}, "name: at most 80"),
    ],
)
def test_a_proposal_names_the_field_it_refuses(fields, message):
    with pytest.raises(rules.Refused, match=message):
        rules.check_proposal(_proposal(**fields))


def test_a_proposals_markdown_becomes_sanitised_html():
    made = rules.check_proposal(
        _proposal(
            title="  Più <i>luce</i>  ",
            description="**Sì** [link](https://example.org) <b onclick=x>b</b>",
        )
    )
    assert made.title == "Più luce"
    assert "<strong>Sì</strong>" in made.description_html
    assert 'href="https://example.org"' in made.description_html
    assert "onclick" not in made.description_html


def test_slugs_are_ascii():
    assert rules.slugify("Più luce, più strada!") == "piu-luce-piu-strada"
    assert rules.slugify("¿¡!?") == "idea"


def test_settings_name_the_variable_to_fix():
    with pytest.raises(config.ConfigError, match="IDEAS_SECRET is unset"):
        config.from_environ({})
    secret = {"IDEAS_SECRET": "s" * 32}
    with pytest.raises(config.ConfigError, match="IDEAS_SECRET: too short"):
        config.from_environ({"IDEAS_SECRET": "short"})
    with pytest.raises(config.ConfigError, match="IDEAS_VOTE_BUDGET='many'"):
        config.from_environ({**secret, "IDEAS_VOTE_BUDGET": "many"})
    with pytest.raises(config.ConfigError, match="IDEAS_TRUSTED_PROXIES: 'nginx'"):
        config.from_environ({**secret, "IDEAS_TRUSTED_PROXIES": "nginx"})
    with pytest.raises(config.ConfigError, match="IDEAS_PUBLIC_PATH"):
        config.from_environ({**secret, "IDEAS_PUBLIC_PATH": "idee"})
    with pytest.raises(config.ConfigError, match="IDEAS_SMTP_FROM"):
        config.from_environ({**secret, "IDEAS_SMTP_HOST": "localhost"})
    development = config.from_environ({"IDEAS_ENV": "development"})
    assert len(development.secret) >= 32 and not development.production
    assert config.from_environ(secret).vote_budget == 10


def test_migrations_run_once_and_refuse_a_newer_database(tmp_path):
    path = tmp_path / "ideas.db"
    with contextlib.closing(db.connect(path)) as connection:
        assert db.migrate(connection) == 0
        assert db.migrate(connection) == db.VERSION
        (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
        assert mode == "wal"
        connection.execute(f"PRAGMA user_version = {db.VERSION + 1}")
        with pytest.raises(db.SchemaError, match="newer than this code"):
            db.migrate(connection)
    with sqlite3.connect(path) as plain:
        tables = {row[0] for row in plain.execute("SELECT name FROM sqlite_master")}
    assert {"ideas", "history", "voters", "votes", "events"} <= tables


def test_a_content_file_keeps_every_value_on_one_line():
    idea = Idea(
        id=7, title="Luci\nnuove", description="x", description_html="<p>x</p>",
        category="moto", lang="en", author_name="Ada\nB", status="proposed",
        duplicate_of=None, created=0.0, published=1_800_000_000.0,
        counts=Counts(0, 0),
        history=(Change("proposed", "Sì,\ngrazie", "Yes", 1.0),),
    )  # fmt: skip
    head, body = content.render(idea, "luci-nuove").split("\n\n", 1)
    metadata = dict(line.split(": ", 1) for line in head.splitlines())
    assert metadata["Title"] == "Luci nuove"
    assert metadata["Proposed-By"] == "Ada B"
    assert metadata["Answer-It"] == "Sì, grazie"
    assert metadata["Date"] == "2027-01-15 09:00"  # the site's time zone
    assert body == "<p>x</p>\n"


def test_the_development_server_task_runs_the_service(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDEAS_")}
    env["IDEAS_DB"] = str(tmp_path / "dev.db")
    task = ["ideas-server", "--port", str(port)]
    process = subprocess.Popen(
        [sys.executable, "-m", "invoke", "-r", str(ROOT), *task],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/config", timeout=2
                ) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert process.poll() is None, "invoke ideas-server stopped"
                assert time.monotonic() < deadline, "invoke ideas-server never answered"
                time.sleep(0.1)
    finally:
        stop(process)
    assert (tmp_path / "dev.db").exists()


def test_migration_2_gives_each_vote_its_voters_confirmed_address(tmp_path):
    path = tmp_path / "v1.db"
    with contextlib.closing(db.connect(path)) as connection:
        for statement in db._statements(db.MIGRATIONS[0]):
            connection.execute(statement)
        connection.execute("PRAGMA user_version = 1")
        connection.execute(
            "INSERT INTO ideas (id, title, description, description_html, "
            "category, lang, status, created, published) "
            "VALUES (1, 't', 'd', '<p>d</p>', 'moto', 'it', 'proposed', 0, 0)"
        )
        connection.executemany(
            "INSERT INTO voters (id, range, created, email, confirmed) "
            "VALUES (?, 'r', 0, ?, ?)",
            [("a", "a@x.org", 1.0), ("b", "b@x.org", None), ("c", None, None)],
        )
        connection.executemany(
            "INSERT INTO votes (idea_id, voter, created) VALUES (1, ?, 0)",
            [("a",), ("b",), ("c",)],
        )
        assert db.migrate(connection) == 1
        emails = dict(connection.execute("SELECT voter, email FROM votes"))
        assert emails == {"a": "a@x.org", "b": None, "c": None}
        assert store.counts(connection, [1]) == {1: Counts(3, 1)}
        assert store.audit(connection) == []
