"""The build's view of the ideas service: GET /snapshot read by
plugins/ideaboard/snapshot.py, against the real service under gunicorn; and
what the build does when the service is down or answers nonsense."""

from __future__ import annotations

import http.server
import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import serving
from ideaboard import snapshot
from ideas_server import Reader, running_ideas

from services.ideas import cli


@pytest.fixture(scope="module")
def service(tmp_path_factory) -> Iterator:
    with running_ideas(tmp_path_factory.mktemp("snapshot")) as ideas:
        yield ideas


def _public(ideas, content: Path, reader: Reader, **fields) -> int:
    status, _, answer = reader.propose(**fields)
    assert status == 202, answer
    cli.accept(ideas.db, answer["id"], content, answer_it="Grazie", answer_en="Thanks")
    return answer["id"]


def test_the_snapshot_has_every_public_idea_its_support_and_history(service, tmp_path):
    first = Reader(service.url, "198.51.100.1")
    second = Reader(service.url, "198.51.100.2")
    old = _public(service, tmp_path, first, title="Borse laterali")
    new = _public(service, tmp_path, first, title="Colori <script>x</script>")
    status, _, queued = first.propose(title="Ancora in coda")
    assert status == 202
    for reader in (first, second):
        assert reader.vote(old)[0] == 200
    assert second.vote(new)[0] == 200
    cli.set_status(
        service.db, new, "planned", tmp_path, answer_it="Sì", answer_en="Yes"
    )
    # One of the old idea's votes is older than the recent window.
    with sqlite3.connect(service.db) as db:
        db.execute(
            "UPDATE votes SET created = ? WHERE idea_id = ? AND voter = "
            "(SELECT MIN(voter) FROM votes WHERE idea_id = ?)",
            (time.time() - 40 * 86400, old, old),
        )

    found = snapshot.load(service.url, tmp_path / "cache.json")

    assert not found.stale and found.generated is not None
    ideas = found.by_id()
    assert queued["id"] not in ideas
    assert (ideas[old].supporters, ideas[old].recent) == (2, 1)
    assert (ideas[new].supporters, ideas[new].recent) == (1, 1)
    assert [c.status for c in ideas[new].history] == ["proposed", "planned"]
    assert (ideas[new].history[-1].answer_it, ideas[new].history[-1].answer_en) == (
        "Sì",
        "Yes",
    )
    assert ideas[new].status == "planned"
    assert "<script" not in ideas[new].description_html
    # The good answer is kept for the day the service is down.
    assert json.loads((tmp_path / "cache.json").read_text())["ideas"]


def test_a_service_that_is_down_gives_the_last_known_numbers(service, tmp_path, caplog):
    cache = tmp_path / "cache.json"
    live = snapshot.load(service.url, cache)
    assert live.ideas and not live.stale
    with caplog.at_level(logging.WARNING):
        last = snapshot.load("http://127.0.0.1:9", cache, timeout=2)
    assert last.stale and last.ideas == live.ideas
    assert "http://127.0.0.1:9/snapshot" in caplog.text
    assert "last known numbers" in caplog.text


def test_nothing_known_and_no_service_is_an_empty_board_not_a_failure(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        found = snapshot.load("http://127.0.0.1:9", tmp_path / "none.json", timeout=2)
    assert found.ideas == () and found.stale
    assert "unreachable" in caplog.text


@contextmanager
def _serving(body: bytes, status: int = 200) -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    with serving(Handler) as url:
        yield url


def _idea(number: int, **changes) -> dict:
    return {
        "id": number,
        "title": f"Idea {number}",
        "description_html": "<p>Testo</p>",
        "category": "moto",
        "lang": "it",
        "status": "proposed",
        "counts": {"supporters": 3, "confirmed": 1},
        "recent": 2,
        "history": [{"status": "proposed", "answer": {"it": "", "en": ""},
                     "date": "2026-11-01T10:00:00+00:00"}],
        **changes,
    }  # fmt: skip


def test_one_malformed_idea_is_left_out_by_name_and_the_others_stay(tmp_path, caplog):
    body = {
        "generated": "2026-11-29T10:00:00+00:00",
        "ideas": [
            _idea(1),
            _idea(2, counts={"supporters": -4, "confirmed": 0}),
            _idea(3, status="<b>hacked</b>"),
            _idea(4, description_html='<p onclick="x()">ok</p><script>x()</script>'),
            "not an idea",
        ],
    }
    with (
        _serving(json.dumps(body).encode()) as url,
        caplog.at_level(logging.WARNING),
    ):
        found = snapshot.load(url, tmp_path / "cache.json")
    assert sorted(found.by_id()) == [1, 4]
    assert "idea 2.counts.supporters: -4 is not a count" in caplog.text
    assert "idea 3: unknown status '<b>hacked</b>'" in caplog.text
    html = found.by_id()[4].description_html
    assert "onclick" not in html and "<script" not in html


@pytest.mark.parametrize(
    ("body", "status", "said"),
    [
        (b"<html>proxy error</html>", 200, "not JSON"),
        (b'{"ideas": "none"}', 200, "not a snapshot"),
        (b"{}", 502, "HTTP 502"),
    ],
)
def test_nonsense_keeps_the_last_good_copy(tmp_path, caplog, body, status, said):
    cache = tmp_path / "cache.json"
    with _serving(json.dumps({"ideas": [_idea(7)]}).encode()) as url:
        assert [i.id for i in snapshot.load(url, cache).ideas] == [7]
    with _serving(body, status) as url, caplog.at_level(logging.WARNING):
        found = snapshot.load(url, cache)
    assert [i.id for i in found.ideas] == [7] and found.stale
    assert said in caplog.text
    assert json.loads(cache.read_text())["ideas"][0]["id"] == 7
