"""The ideas service for real: gunicorn (deploy/ideas.gunicorn.conf.py) on
loopback, a temporary SQLite database, readers over HTTP, editors through
services/ideas/cli.py on the same database file while the service runs."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from ideas_server import (
    BIN,
    ROOT,
    SECRET,
    Reader,
    counts,
    environment,
    free_port,
    fresh_address,
    request,
    running_ideas,
)
from lxml import html

from services.ideas import cli, store
from services.ideas.pow import Altcha, solve
from services.ideas.voters import VoterCookies

BUDGET = 3


@pytest.fixture(scope="module")
def ideas(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ideas")
    with running_ideas(
        folder,
        IDEAS_VOTE_BUDGET=str(BUDGET),
        IDEAS_RANGE_VOTES_PER_HOUR="1000",
        IDEAS_VOTER_VOTES_PER_HOUR="1000",
        IDEAS_RANGE_PROPOSALS_PER_DAY="1000",
    ) as server:
        yield server


@pytest.fixture
def content(tmp_path) -> Path:
    return tmp_path / "content" / "ideas"


def published(ideas, content: Path, **fields) -> int:
    """An idea proposed by a reader and accepted by an editor: its id."""
    status, _, answer = Reader(ideas.url, fresh_address()).propose(**fields)
    assert status == 202, answer
    cli.accept(
        ideas.db, answer["id"], content, answer_it="Grazie!", answer_en="Thanks!"
    )
    return answer["id"]


def test_a_proposal_waits_in_the_queue_and_accepting_writes_its_content_file(
    ideas, content
):
    reader = Reader(ideas.url, fresh_address())
    status, _headers, answer = reader.propose(
        title="Più luce per la Sebino", lang="it", name="Ada"
    )
    assert (status, answer["status"]) == (202, "pending")
    number = answer["id"]
    # Queued: not public, not countable, not votable.
    assert request(ideas.url, "GET", f"/ideas/{number}")[0] == 404
    assert counts(ideas.url, number) == {}
    assert reader.vote(number)[0] == 404
    listed = request(ideas.url, "GET", "/ideas")[2]["ideas"]
    assert number not in [idea["id"] for idea in listed]

    _idea, path = cli.accept(
        ideas.db, number, content, answer_it="La valutiamo.", answer_en="On it."
    )
    assert path == content / "piu-luce-per-la-sebino.it.md"
    head, body = path.read_text(encoding="utf-8").split("\n\n", 1)
    metadata = dict(line.split(": ", 1) for line in head.splitlines())
    assert metadata["Title"] == "Più luce per la Sebino"
    assert metadata["Status"] == "proposed"
    assert metadata["Idea-Id"] == str(number)
    assert metadata["Lang"] == "it"
    assert metadata["Category"] == "accessori"
    assert metadata["Answer-It"] == "La valutiamo."
    assert metadata["Answer-En"] == "On it."
    assert html.fragment_fromstring(body, create_parent="div").text_content().strip()

    status, _, public = request(ideas.url, "GET", f"/ideas/{number}")
    assert status == 200
    assert public["status"] == "proposed"
    assert "email" not in public and public["author"] == "Ada"
    assert public["history"][-1]["answer"] == {"it": "La valutiamo.", "en": "On it."}

    # A second idea with the same title never overwrites the first file.
    before = path.read_bytes()
    second = Reader(ideas.url, fresh_address()).propose(title="Più luce per la Sebino")
    _, other = cli.accept(ideas.db, second[2]["id"], content)
    assert other == content / f"piu-luce-per-la-sebino-{second[2]['id']}.it.md"
    assert path.read_bytes() == before
    with pytest.raises(cli.EditorError, match="not in the queue"):
        cli.accept(ideas.db, number, content)


def test_vote_withdraw_and_vote_again(ideas, content):
    number = published(ideas, content)
    reader = Reader(ideas.url, fresh_address())
    status, headers, answer = reader.vote(number)
    assert status == 200, answer
    assert answer["supported"] and answer["changed"]
    assert answer["counts"] == {"supporters": 1, "confirmed": 0}
    assert answer["budget"] == {"total": BUDGET, "used": 1, "left": BUDGET - 1}
    cookie = headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Path=/idee-api/" in cookie and "Secure" not in cookie
    assert headers["Cache-Control"] == "private, no-store"
    assert "X-Accel-Expires" not in headers

    assert reader.call("GET", "/me")[2]["ideas"] == [number]
    status, _, answer = reader.withdraw(number)
    assert (status, answer["supported"], answer["changed"]) == (200, False, True)
    assert counts(ideas.url, number) == {number: (0, 0)}
    assert reader.call("GET", "/me")[2]["budget"]["left"] == BUDGET
    status, _, answer = reader.vote(number)
    assert (status, answer["counts"]["supporters"]) == (200, 1)
    # Voting again changes nothing.
    status, _, answer = reader.vote(number)
    assert (status, answer["changed"], answer["counts"]["supporters"]) == (
        200,
        False,
        1,
    )


def test_the_budget_runs_out_with_a_clear_message_and_comes_back_when_done(
    ideas, content
):
    numbers = [published(ideas, content, title=f"Idea {n}") for n in range(BUDGET + 1)]
    reader = Reader(ideas.url, fresh_address())
    for number in numbers[:BUDGET]:
        assert reader.vote(number)[0] == 200
    status, _, answer = reader.vote(numbers[-1])
    assert status == 409
    assert answer["error"] == "budget_spent"
    assert f"already support {BUDGET} ideas" in answer["message"]
    assert "withdraw" in answer["message"]
    assert counts(ideas.url, numbers[-1]) == {numbers[-1]: (0, 0)}

    cli.set_status(
        ideas.db, numbers[0], "done", content, answer_it="Fatto!", answer_en="Done!"
    )
    assert reader.call("GET", "/me")[2]["budget"]["left"] == 1
    assert reader.vote(numbers[-1])[0] == 200
    # The done idea keeps its supporters on the record.
    assert counts(ideas.url, numbers[0]) == {numbers[0]: (1, 0)}


def test_a_vote_for_a_declined_idea_is_refused(ideas, content):
    number = published(ideas, content)
    supporter = Reader(ideas.url, fresh_address())
    assert supporter.vote(number)[0] == 200
    _, files = cli.decline(
        ideas.db, number, content, answer_it="Non fa per noi.", answer_en="Not for us."
    )
    (path,) = files
    head = path.read_text(encoding="utf-8").split("\n\n", 1)[0]
    metadata = dict(line.split(": ", 1) for line in head.splitlines())
    assert metadata["Status"] == "declined"
    assert metadata["Answer-En"] == "Not for us."
    assert metadata["Idea-Id"] == str(number)
    status, _, answer = Reader(ideas.url, fresh_address()).vote(number)
    assert (status, answer["error"]) == (409, "closed")
    assert "declined" in answer["message"]
    # The count of a closed idea is final: no withdrawal either.
    status, _, answer = supporter.withdraw(number)
    assert (status, answer["error"]) == (409, "closed")
    assert counts(ideas.url, number) == {number: (1, 0)}
    public = request(ideas.url, "GET", f"/ideas/{number}")[2]
    assert [change["status"] for change in public["history"]] == [
        "proposed",
        "declined",
    ]
    assert public["history"][-1]["answer"]["en"] == "Not for us."


def test_merging_moves_supporters_each_counted_once(ideas, content):
    duplicate, original = published(ideas, content), published(ideas, content)
    both, only_dup, only_orig = (Reader(ideas.url, fresh_address()) for _ in range(3))
    for reader, numbers in (
        (both, (duplicate, original)),
        (only_dup, (duplicate,)),
        (only_orig, (original,)),
    ):
        for number in numbers:
            assert reader.vote(number)[0] == 200
    assert counts(ideas.url, duplicate, original) == {
        duplicate: (2, 0),
        original: (2, 0),
    }

    _, files = cli.merge(
        ideas.db, duplicate, original, content,
        answer_it="Già proposta.", answer_en="Proposed already.",
    )  # fmt: skip
    (path,) = files
    assert f"\nDuplicate-Of: {original}\n" in path.read_text(encoding="utf-8")
    assert counts(ideas.url, duplicate, original) == {
        duplicate: (0, 0),
        original: (3, 0),
    }
    # The voter who supported both holds one vote now: one budget slot back.
    assert both.call("GET", "/me")[2]["budget"]["used"] == 1
    assert both.call("GET", "/me")[2]["ideas"] == [original]
    public = request(ideas.url, "GET", f"/ideas/{duplicate}")[2]
    assert (public["status"], public["duplicate_of"]) == ("duplicate", original)
    assert only_dup.vote(duplicate)[2]["error"] == "closed"


def test_sixteen_concurrent_votes_from_one_voter_count_once(ideas, content):
    warmup, number = published(ideas, content), published(ideas, content)
    reader = Reader(ideas.url, fresh_address())
    assert reader.vote(warmup)[0] == 200  # now it has its cookie
    proofs = [reader.proof() for _ in range(16)]
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda proof: reader.vote(number, proof), proofs))
    assert [status for status, _, _ in answers] == [200] * 16
    assert sum(answer["changed"] for _, _, answer in answers) == 1
    assert counts(ideas.url, number) == {number: (1, 0)}
    assert reader.call("GET", "/me")[2]["budget"]["used"] == 2


def test_five_hundred_concurrent_votes_from_distinct_voters_are_all_counted(
    ideas, content
):
    number = published(ideas, content)
    readers = [Reader(ideas.url, f"10.{i // 250}.{i % 250}.1") for i in range(500)]
    with ThreadPoolExecutor(32) as pool:
        proofs = list(pool.map(Reader.proof, readers))
        answers = list(
            pool.map(
                lambda pair: pair[0].vote(number, pair[1]),
                zip(readers, proofs, strict=True),
            )
        )
    assert [status for status, _, _ in answers] == [200] * 500
    assert counts(ideas.url, number) == {number: (500, 0)}
    with sqlite3.connect(ideas.db) as db:
        (stored,) = db.execute(
            "SELECT COUNT(DISTINCT voter) FROM votes WHERE idea_id = ?", (number,)
        ).fetchone()
    assert stored == 500


def test_forged_and_unknown_cookies_are_refused_and_cleared(ideas, content):
    number = published(ideas, content)
    reader = Reader(ideas.url, fresh_address())
    assert reader.vote(number)[0] == 200
    good = reader.cookie
    reader.cookie = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    status, headers, answer = reader.vote(number)
    assert (status, answer["error"]) == (403, "forged_cookie")
    assert "Max-Age=0" in headers["Set-Cookie"]
    # Signed with the right secret, for a voter the service never made.
    made_up = VoterCookies(SECRET, "/").header("made-up", secure=False)
    reader.cookie = made_up.split(";")[0].split("=", 1)[1]
    status, headers, answer = reader.vote(number)
    assert (status, answer["error"]) == (403, "unknown_voter")
    assert "Max-Age=0" in headers["Set-Cookie"]
    reader.cookie = made_up.split(";")[0].split("=", 1)[1]
    assert reader.withdraw(number)[2]["error"] == "unknown_voter"
    assert counts(ideas.url, number) == {number: (1, 0)}


def test_proof_of_work_missing_wrong_expired_or_replayed_is_refused(ideas, content):
    number, other = published(ideas, content), published(ideas, content)
    reader = Reader(ideas.url, fresh_address())
    assert reader.call("POST", f"/ideas/{number}/vote", {})[2]["error"] == "pow_missing"
    assert reader.vote(number, "bm90IGpzb24=")[2]["error"] == "pow_invalid"
    challenge = reader.call("GET", "/challenge")[2]
    challenge["parameters"]["keyPrefix"] = "00"  # tampered: signature fails
    status, _, answer = reader.vote(number, solve(challenge))
    assert (status, answer["error"]) == (403, "pow_invalid")
    expired = Altcha(SECRET, max_number=20, expires=-5).challenge()
    assert reader.vote(number, solve(expired))[2]["error"] == "pow_expired"
    assert counts(ideas.url, number) == {number: (0, 0)}

    proof = reader.proof()
    assert reader.vote(number, proof)[0] == 200
    status, _, answer = reader.vote(other, proof)
    assert (status, answer["error"]) == (403, "pow_replayed")
    # The same solution sent by many at once pays for one write only.
    proof = reader.proof()
    racers = [Reader(ideas.url, fresh_address()) for _ in range(8)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda r: r.vote(other, proof), racers))
    assert sorted(status for status, _, _ in answers) == [200] + [403] * 7
    assert counts(ideas.url, other) == {other: (1, 0)}


def test_hostile_html_in_a_proposal_is_sanitised(ideas, content):
    status, _, answer = Reader(ideas.url, fresh_address()).propose(
        title='<script>alert(1)</script>Luci <img src=x onerror="alert(2)">',
        description=(
            "Ciao <script>alert(3)</script>\n\n"
            '<img src="x" onerror="alert(4)"> <a href="javascript:alert(5)">a</a>\n\n'
            "[b](javascript:alert(6)) <iframe src=//evil.example></iframe>"
            '<p onclick="alert(7)" style="x">ok</p>'
        ),
    )
    assert status == 202, answer
    _, path = cli.accept(ideas.db, answer["id"], content)
    public = request(ideas.url, "GET", f"/ideas/{answer['id']}")[2]
    assert "<" not in public["title"]
    for source in (public["description_html"], path.read_text().split("\n\n", 1)[1]):
        tree = html.fragment_fromstring(source, create_parent="div")
        assert not tree.xpath("//script|//iframe|//style")
        for element in tree.iter():
            for name, value in element.attrib.items():
                assert not name.startswith("on"), (name, source)
                assert name != "style"
                assert not value.strip().lower().startswith("javascript:")
        assert "ok" in tree.text_content()


def test_bad_input_gets_a_clear_answer(ideas, content):
    reader = Reader(ideas.url, fresh_address())
    status, _headers, answer = reader.call(
        "POST", "/ideas", raw=b'{"title": "' + b"x" * 20000 + b'"}'
    )
    assert (status, answer["error"]) == (413, "too_large")
    assert reader.propose(category="astronavi")[2]["message"].startswith("category:")
    assert reader.propose(lang="de")[2]["message"].startswith("lang:")
    assert reader.propose(email="not an address")[0] == 400
    assert reader.call("POST", "/ideas", raw=b"[1")[2]["error"] == "invalid"
    assert reader.vote(999999)[2]["error"] == "unknown_idea"
    assert request(ideas.url, "GET", "/counts?ids=a,b")[0] == 400
    assert request(ideas.url, "GET", f"/counts?ids={10**30}")[0] == 400
    assert request(ideas.url, "GET", f"/ideas/{10**30}")[0] == 404
    assert reader.vote(10**30)[0] == 404
    assert request(ideas.url, "GET", "/nowhere")[0] == 404
    assert reader.cookie is None  # nothing refused made a voter


def test_shared_reads_carry_the_end_of_second_cache_header(ideas, content):
    number = published(ideas, content)
    for path in ("/config", "/ideas", f"/ideas/{number}", f"/counts?ids={number}"):
        status, headers, _ = request(ideas.url, "GET", path)
        assert status == 200
        assert headers["X-Accel-Expires"].startswith("@"), path
        assert headers["Cache-Control"] == "public, max-age=0, s-maxage=1"
        assert "Set-Cookie" not in headers
    for path in ("/challenge", "/me", "/ideas/999999"):
        _, headers, _ = request(ideas.url, "GET", path)
        assert "X-Accel-Expires" not in headers, path


def test_a_thousand_fresh_cookies_from_one_range_stop_at_the_limit(tmp_path):
    limit = 25
    with running_ideas(
        tmp_path / "svc", IDEAS_RANGE_VOTES_PER_HOUR=str(limit)
    ) as server:
        content = tmp_path / "content"
        number = published(server, content)
        # A thousand browsers (fresh cookies) hopping addresses inside one /24.
        readers = [Reader(server.url, f"192.0.2.{i % 250 + 1}") for i in range(1000)]
        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(lambda r: r.vote(number), readers))
        statuses = [status for status, _, _ in answers]
        assert statuses.count(200) == limit
        assert statuses.count(429) == 1000 - limit
        refused = next(answer for status, _, answer in answers if status == 429)
        assert refused["error"] == "limit" and "your network" in refused["message"]
        assert counts(server.url, number) == {number: (limit, 0)}
        # Another network is not held back by this one.
        assert Reader(server.url, "203.0.113.99").vote(number)[0] == 200
        with sqlite3.connect(server.db) as db:
            (voters,) = db.execute("SELECT COUNT(*) FROM voters").fetchone()
        assert voters == limit + 2  # the proposer and the other network's


def test_a_forwarded_address_is_believed_only_from_a_trusted_proxy(tmp_path):
    with running_ideas(
        tmp_path / "svc",
        IDEAS_TRUSTED_PROXIES="10.9.9.9",
        IDEAS_RANGE_VOTES_PER_HOUR="2",
    ) as server:
        number = published(server, tmp_path / "content")
        # Each claims another network; none is believed: all are 127.0.0.1.
        answers = [Reader(server.url, f"203.0.{n}.1").vote(number)[0] for n in range(4)]
        assert answers == [200, 200, 429, 429]


def test_gunicorn_refuses_to_start_without_its_secret(tmp_path):
    env = environment(tmp_path, free_port())
    del env["IDEAS_SECRET"]
    done = subprocess.run(
        [
            str(BIN / "gunicorn"),
            "--config",
            str(ROOT / "deploy/ideas.gunicorn.conf.py"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "IDEAS_SECRET is unset" in done.stderr + done.stdout
    assert not (tmp_path / "ideas.db").exists()


def test_every_count_matches_the_votes_behind_it(ideas):
    """Run last in this module: after every vote, withdrawal, merge and
    refusal above, the counts are the ones the voters prove."""
    with contextlib.closing(sqlite3.connect(ideas.db)) as db:
        assert store.audit(db) == []
        (votes,) = db.execute("SELECT COUNT(*) FROM votes").fetchone()
    assert votes > 500
