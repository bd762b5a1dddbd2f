"""The comments plugin's edge: what the build does when the server answering
as Isso is slow, huge, broken or not Isso (a real HTTP server on loopback;
the happy path against a real Isso is in test_comments.py)."""

from __future__ import annotations

import json
import re

import pytest
from feedserver import FeedServer, endless

from comments.isso import IssoClient, IssoUnreachable

THREAD = "/?uri=p&nested_limit=1000"
COMMENT = {
    "id": 1,
    "created": 1767225600.0,
    "text": "<p>ciao</p>",
    "hash": "staff-chiara",
}


@pytest.fixture
def server():
    with FeedServer().running() as running:
        yield running


def client(server, **kwargs) -> IssoClient:
    return IssoClient(server.url(""), **kwargs)


def test_a_thread_is_read_with_its_staff_hash(server):
    answer = {"total_replies": 1, "replies": [COMMENT]}
    server.route(
        THREAD, body=json.dumps(answer).encode(), content_type="application/json"
    )
    with client(server) as isso:
        thread = isso.thread("p")
    assert thread.total == 1
    assert thread.comments[0].staff == "chiara"


def test_an_answer_over_the_size_limit_is_refused(server):
    server.route(THREAD, body=endless(4 * 1024 * 1024), content_type="application/json")
    with (
        client(server, max_bytes=1024 * 1024) as isso,
        pytest.raises(IssoUnreachable) as failure,
    ):
        isso.thread("p")
    assert "over 1,048,576 bytes" in str(failure.value)
    assert "COMMENTS_MAX_BYTES" in str(failure.value)
    assert server.url(THREAD) in str(failure.value)


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"<html>a web page</html>", 200, "not JSON"),
        (b'{"replies": [{"text": "no id"}]}', 200, "not a thread as Isso answers it"),
        (b'{"replies": 5}', 200, "not a thread as Isso answers it"),
        (b"oops", 500, "HTTP 500 (is this Isso?)"),
    ],
)
def test_an_answer_that_is_not_isso_is_a_clear_error(server, body, status, words):
    server.route(THREAD, body=body, status=status, content_type="application/json")
    with (
        client(server) as isso,
        pytest.raises(IssoUnreachable, match=re.escape(words)) as failure,
    ):
        isso.thread("p")
    assert "uri=p" in str(failure.value)


def test_a_slow_server_times_out(server):
    server.route(THREAD, body=b"{}", delay=2.0)
    with client(server, timeout=0.2) as isso, pytest.raises(IssoUnreachable) as failure:
        isso.thread("p")
    assert server.url("") in str(failure.value)


def test_a_thread_nobody_commented_on_is_empty(server):
    with client(server) as isso:  # the server answers 404, as Isso does
        thread = isso.thread("p")
    assert (thread.uri, thread.total, thread.comments) == ("p", 0, ())


def test_latest_comments_come_newest_first_or_not_at_all(server):
    older = {**COMMENT, "uri": "/a/"}
    newer = {**COMMENT, "id": 2, "created": COMMENT["created"] + 60, "uri": "/b/"}
    server.route(
        "/latest?limit=5",
        body=json.dumps([older, newer]).encode(),
        content_type="application/json",
    )
    with client(server) as isso:
        assert [i.uri for i in isso.latest(5)] == ["/b/", "/a/"]
        # Without latest-enabled Isso answers 404: no block, no failure.
        assert isso.latest(6) == ()
