"""Polls in posts on the ideas service, for real: gunicorn on loopback, the
build's polls file (IDEAS_POLLS_FILE), readers over HTTP with their cookies,
addresses and proofs of work (services/ideas/polls.py)."""

from __future__ import annotations

import json
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from ideas_server import (
    Reader,
    fresh_address,
    poll_totals,
    request,
    running_ideas,
    write_polls,
)

OPEN = "2099-12-31T23:00:00+00:00"
PAST = "2020-01-01T00:00:00+00:00"
COLOURS = ["rosso", "blu", "verde"]


@pytest.fixture(scope="module")
def ideas(tmp_path_factory):
    folder = tmp_path_factory.mktemp("polls")
    polls = write_polls(
        folder / "release" / "polls.json",
        colori=(COLOURS, OPEN),
        sella=(["bassa", "alta"], OPEN),
        chiuso=(["si", "no"], PAST),
    )
    with running_ideas(
        folder / "svc",
        IDEAS_POLLS_FILE=str(polls),
        IDEAS_RANGE_VOTES_PER_HOUR="1000",
        IDEAS_VOTER_VOTES_PER_HOUR="1000",
    ) as server:
        server.polls = polls
        yield server


def test_one_choice_per_voter_and_a_change_moves_it(ideas):
    anna, bruno = Reader(ideas.url, fresh_address()), Reader(ideas.url, fresh_address())
    status, headers, answer = anna.choose("sella", "bassa")
    assert status == 200, answer
    assert (answer["choice"], answer["changed"]) == ("bassa", True)
    assert answer["totals"] == {"bassa": 1, "alta": 0} and answer["voters"] == 1
    assert "HttpOnly" in headers["Set-Cookie"]
    assert bruno.choose("sella", "bassa")[2]["totals"] == {"bassa": 2, "alta": 0}
    # Anna changes her mind: her choice moves, nothing is added.
    status, _, answer = anna.choose("sella", "alta")
    assert status == 200 and answer["changed"] is True
    assert answer["totals"] == {"bassa": 1, "alta": 1} and answer["voters"] == 2
    # The same choice again changes nothing.
    assert anna.choose("sella", "alta")[2]["changed"] is False
    assert poll_totals(ideas.url, "sella") == {"bassa": 1, "alta": 1}
    assert (anna.choice("sella"), bruno.choice("sella")) == ("alta", "bassa")
    assert Reader(ideas.url, fresh_address()).choice("sella") is None
    # One voter cookie serves ideas and polls: the choice is private.
    _, headers, _ = anna.call("GET", "/polls/sella/me")
    assert headers["Cache-Control"] == "private, no-store"


def test_sixteen_concurrent_choices_from_one_voter_count_once(ideas):
    reader = Reader(ideas.url, fresh_address())
    assert reader.choose("colori", "verde")[0] == 200  # now it has its cookie
    proofs = [reader.proof() for _ in range(16)]
    options = [COLOURS[i % 2] for i in range(16)]  # rosso and blu, at once
    with ThreadPoolExecutor(16) as pool:
        answers = list(
            pool.map(
                lambda a: reader.choose("colori", a[0], a[1]),
                zip(options, proofs, strict=True),
            )
        )
    assert [status for status, _, _ in answers] == [200] * 16
    with sqlite3.connect(ideas.db) as db:
        rows = db.execute(
            "SELECT option FROM poll_votes WHERE poll = 'colori' AND voter IN "
            "(SELECT id FROM voters WHERE range = ?)",
            (reader.address.rsplit(".", 1)[0] + ".0/24",),
        ).fetchall()
    assert len(rows) == 1 and rows[0][0] in ("rosso", "blu")
    assert reader.choice("colori") == rows[0][0]
    assert sum(poll_totals(ideas.url, "colori").values()) == _voters(ideas, "colori")


def _voters(ideas, poll: str) -> int:
    with sqlite3.connect(ideas.db) as db:
        return db.execute(
            "SELECT COUNT(DISTINCT voter) FROM poll_votes WHERE poll = ?", (poll,)
        ).fetchone()[0]


def test_closed_unknown_poll_and_unknown_option_are_refused_and_change_nothing(ideas):
    reader = Reader(ideas.url, fresh_address())
    status, _, answer = reader.choose("chiuso", "si")
    assert (status, answer["error"]) == (409, "closed")
    assert "closed" in answer["message"]
    status, _, answer = reader.choose("non-esiste", "si")
    assert (status, answer["error"]) == (404, "unknown_poll")
    status, _, answer = reader.choose("colori", "viola")
    assert (status, answer["error"]) == (400, "unknown_option")
    assert "rosso, blu, verde" in answer["message"]
    status, _, answer = reader.call("POST", "/polls/colori/vote", {"altcha": "x"})
    assert (status, answer["error"]) == (400, "unknown_option")
    assert reader.cookie is None  # nothing was written, not even a voter
    assert request(ideas.url, "GET", "/polls/non-esiste")[0] == 404
    assert request(ideas.url, "GET", "/polls/non-esiste/me")[0] == 404
    closed = request(ideas.url, "GET", "/polls/chiuso")[2]
    assert closed["closed"] is True and closed["totals"] == {"si": 0, "no": 0}


def test_a_replayed_or_missing_proof_is_refused(ideas):
    reader = Reader(ideas.url, fresh_address())
    proof = reader.proof()
    assert reader.choose("colori", "rosso", proof)[0] == 200
    status, _, answer = reader.choose("colori", "blu", proof)
    assert (status, answer["error"]) == (403, "pow_replayed")
    assert reader.choice("colori") == "rosso"
    status, _, answer = reader.call("POST", "/polls/colori/vote", {"option": "blu"})
    assert (status, answer["error"]) == (403, "pow_missing")


def test_the_service_closes_a_poll_when_the_build_says_so(ideas):
    reader = Reader(ideas.url, fresh_address())
    assert reader.choose("sella", "alta")[0] == 200
    before = poll_totals(ideas.url, "sella")
    original = ideas.polls.read_text()
    data = json.loads(original)
    data["polls"]["sella"]["closes"] = "2021-01-01T00:00:00+00:00"
    ideas.polls.write_text(json.dumps(data))
    try:
        # Each worker checks the file at most once a second (WatchedFile):
        # ask (with the choice the reader holds already, which changes
        # nothing) until that second has passed since the write, so every
        # worker's next request reads it again, and the answers are
        # "closed" several times in a row.
        written = time.monotonic()
        deadline, refusals = written + 15, 0
        while (refusals < 8 or time.monotonic() < written + 1.1) and (
            time.monotonic() < deadline
        ):
            status = reader.choose("sella", "alta")[0]
            refusals = refusals + 1 if status == 409 else 0
        assert refusals >= 8
        status, _, answer = reader.choose("sella", "bassa")
        assert (status, answer["error"]) == (409, "closed")
        assert poll_totals(ideas.url, "sella") == before
        assert reader.choice("sella") == "alta"
    finally:
        ideas.polls.write_text(original)


def test_shared_reads_carry_the_end_of_second_cache_header(ideas):
    for path in ("/polls", "/polls/colori"):
        status, headers, _ = request(ideas.url, "GET", path)
        assert status == 200
        assert headers["X-Accel-Expires"].startswith("@"), path
        assert headers["Cache-Control"] == "public, max-age=0, s-maxage=1"
    listing = request(ideas.url, "GET", "/polls")[2]
    assert sorted(listing["polls"]) == ["chiuso", "colori", "sella"]
    assert listing["polls"]["colori"]["options"] == COLOURS


def test_choices_from_one_range_stop_at_the_limit(tmp_path):
    limit = 5
    polls = write_polls(tmp_path / "polls.json", colori=(COLOURS, OPEN))
    with running_ideas(
        tmp_path / "svc",
        IDEAS_POLLS_FILE=str(polls),
        IDEAS_RANGE_VOTES_PER_HOUR=str(limit),
    ) as server:
        # Forty browsers (fresh cookies) hopping addresses inside one /24.
        readers = [Reader(server.url, f"192.0.2.{i + 1}") for i in range(40)]
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda r: r.choose("colori", "blu"), readers))
        statuses = [status for status, _, _ in answers]
        assert statuses.count(200) == limit
        assert statuses.count(429) == 40 - limit
        refused = next(answer for status, _, answer in answers if status == 429)
        assert refused["error"] == "limit" and "your network" in refused["message"]
        assert poll_totals(server.url, "colori")["blu"] == limit
        # Another network is not held back by this one; a /48 is one range.
        assert Reader(server.url, "2001:db8:1::1").choose("colori", "rosso")[0] == 200
        six = [Reader(server.url, f"2001:db8:1:{i:x}::7") for i in range(1, 8)]
        statuses = [reader.choose("colori", "verde")[0] for reader in six]
        assert statuses == [200] * (limit - 1) + [429] * (8 - limit)


def test_without_a_polls_file_no_poll_takes_votes(tmp_path):
    with running_ideas(tmp_path / "svc") as server:
        status, _, answer = Reader(server.url).choose("colori", "rosso")
        assert (status, answer["error"]) == (404, "unknown_poll")
        assert request(server.url, "GET", "/polls")[2]["polls"] == {}
