"""The comments plugin's pure rules: who earns a badge, what the home page lists.

Plain inputs, no Pelican, no network (plugins/comments/badges.py, ranking.py,
model.py, and the parsing half of the Isso edge).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from comments import badges, ranking
from comments.isso import parse_comment
from comments.model import (
    Comment,
    LatestComment,
    LatestItem,
    Snapshot,
    StaffMember,
    Thread,
)

STAFF = (
    StaffMember(
        "chiara", "Chiara Valsecchi", ("chiara@x.example",), ("Chiara Valsecchi",)
    ),
    StaffMember("marco", "Marco Ferri", ("marco@x.example",), ()),
)
WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def comment(id_: int, staff: str | None = None, replies=()) -> Comment:
    return Comment(id_, "Chi", None, WHEN, "<p>ciao</p>", 0, 0, staff, False, replies)


def isso_answer(hash_: str, author: str = "Chiara Valsecchi", **extra) -> dict:
    return {
        "id": 1,
        "created": WHEN.timestamp(),
        "text": "<p>ciao</p>",
        "author": author,
        "hash": hash_,
        **extra,
    }


def test_the_staff_key_comes_only_from_the_servers_staff_hash():
    assert badges.staff_key("staff-chiara") == "chiara"
    assert badges.staff_key("8e72abb40884") is None  # Isso's hash of an e-mail
    assert badges.staff_key("") is None
    assert badges.staff_key(None) is None
    assert badges.staff_key("staff-") is None
    assert badges.staff_key("Staff-chiara") is None
    assert badges.staff_hash("chiara") == "staff-chiara"


def test_a_post_belongs_to_the_staff_who_list_its_author():
    assert badges.owners(STAFF, ["Chiara Valsecchi"]) == {"chiara"}
    assert badges.owners(STAFF, ["Chiara Valsecchi", "Ospite"]) == {"chiara"}
    assert badges.owners(STAFF, ["Ospite"]) == frozenset()
    assert badges.owners((), ["Chiara Valsecchi"]) == frozenset()
    assert badges.page_author_hashes({"marco", "chiara"}) == (
        "staff-chiara",
        "staff-marco",
    )


def test_the_page_author_badge_needs_staff_proof_and_ownership():
    thread = Thread(
        "/2026/post/",
        4,
        (
            comment(1, replies=(comment(2, "chiara", replies=(comment(3, "marco"),)),)),
            comment(4),
        ),
    )
    marked = {c.id: c for c in badges.mark_thread(thread, frozenset({"chiara"})).walk()}
    assert [(i, c.by_page_author, c.by_staff) for i, c in sorted(marked.items())] == [
        (1, False, False),
        (2, True, True),  # staff, and the post is hers
        (3, False, True),  # staff, not his post
        (4, False, False),
    ]
    # On a post nobody on the staff owns, staff comments are staff, no more.
    elsewhere = badges.mark_thread(thread, frozenset())
    assert not any(c.by_page_author for c in elsewhere.walk())
    assert thread.find(2).by_page_author is False  # the original is untouched


@given(
    hash_=st.from_regex(r"[0-9a-f]{12}", fullmatch=True),
    author=st.sampled_from(["Chiara Valsecchi", "chiara valsecchi", "Marco Ferri", ""]),
    email=st.sampled_from(["chiara@x.example", "marco@x.example", ""]),
)
def test_an_isso_hash_never_earns_a_badge(hash_, author, email):
    data = isso_answer(hash_, author, email=email, replies=[isso_answer(hash_, author)])
    parsed = parse_comment(data, None)
    thread = badges.mark_thread(
        Thread("/p/", 2, (parsed,)), frozenset({"chiara", "marco"})
    )
    assert not any(c.by_staff or c.by_page_author for c in thread.walk())


def test_the_edge_reads_the_staff_hash():
    parsed = parse_comment(isso_answer("staff-chiara"), None)
    assert parsed.staff == "chiara" and parsed.by_staff
    assert parsed.by_page_author is False  # decided per post, by the rule


def test_a_latest_comment_is_shown_as_its_thread_shows_it():
    thread = badges.mark_thread(
        Thread("/p/", 1, (comment(7, "chiara"),)), frozenset({"chiara"})
    )
    # /latest carries no hash in Isso 0.14: the thread's copy decides.
    item = LatestComment("/p/", comment(7))
    assert badges.mark_latest(item, thread, frozenset({"chiara"})).by_page_author
    # Not in the snapshot: marked from what the latest answer carried.
    assert badges.mark_latest(item, None, frozenset({"chiara"})).by_page_author is False
    proven = LatestComment("/p/", comment(8, "chiara"))
    assert badges.mark_latest(proven, None, frozenset({"chiara"})).by_page_author


def post(url: str, lang: str, days: int = 0):
    return SimpleNamespace(url=url, lang=lang, date=WHEN + timedelta(days=days))


def test_latest_comments_per_language_keep_their_order_and_limit():
    it1, it2, en = post("a/", "it"), post("b/", "it"), post("en/a/", "en")
    items = [LatestItem(p, comment(n)) for n, p in enumerate([it1, en, it2, it1, it2])]
    lists = ranking.latest_by_lang(items, 2)
    assert [i.comment.id for i in lists["it"]] == [0, 2]
    assert [i.comment.id for i in lists["en"]] == [1]
    assert ranking.latest_by_lang(items, 0) == {"it": (), "en": ()}


def test_most_discussed_per_language_by_count_then_newest():
    old, new, quiet, en = (
        post("old/", "it"),
        post("new/", "it", 5),
        post("q/", "it"),
        post("en/", "en"),
    )
    lists = ranking.most_discussed_by_lang([(old, 3), (new, 3), (quiet, 0), (en, 1)], 5)
    assert [(d.content.url, d.total) for d in lists["it"]] == [("new/", 3), ("old/", 3)]
    assert [d.content.url for d in lists["en"]] == ["en/"]
    assert [
        d.content.url
        for d in ranking.most_discussed_by_lang([(old, 3), (new, 3)], 1)["it"]
    ] == ["new/"]


def test_a_snapshot_cannot_be_changed():
    threads = {"/p/": Thread("/p/", 0)}
    snapshot = Snapshot(threads, [LatestComment("/p/", comment(1))])
    threads["/q/"] = Thread("/q/", 0)  # the caller's dict is not the snapshot's
    assert list(snapshot.threads) == ["/p/"]
    with pytest.raises(TypeError):
        snapshot.threads["/q/"] = Thread("/q/", 0)  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        snapshot.latest = ()  # type: ignore[misc]
    assert isinstance(snapshot.latest, tuple)
