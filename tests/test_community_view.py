"""What the Community pages show, from plain data: the counts shown are the
entries shown, and what is held but hidden is counted by reason."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from community.model import Entry, EntryFilter, FeedEntries, FeedState, Subscription
from community.settings import Rules
from community.view import build_view, letter_of, sort_key

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def entry(feed: str, key: str, days: int = 1, title: str = "Un giro") -> Entry:
    return Entry(
        id=f"https://shared.example/{key}",
        feed=feed,
        title=title,
        link=f"https://shared.example/{key}",
        date=NOW - timedelta(days=days),
        first_seen=NOW - timedelta(days=days) + timedelta(hours=int(feed == "b")),
    )


def view(subs, held, **kwargs):
    return build_view(
        subs,
        {slug: FeedEntries(tuple(entries)) for slug, entries in held.items()},
        {s.slug: FeedState(url=s.url, last_attempt=NOW) for s in subs},
        generated_at=NOW,
        rules=Rules(),
        timezone=UTC,
        source_url="comunita/fonti/{slug}/",
        siteurl="",
        **kwargs,
    )


def test_source_counts_are_the_entries_shown_not_hidden_duplicates():
    a = Subscription("a", "Alfa", "https://a.example/feed")
    b = Subscription("b", "Beta", "https://b.example/feed", exclude=_filter("vendo"))
    result = view(
        [a, b],
        {
            "a": [entry("a", "1"), entry("a", "2")],
            "b": [
                entry("b", "2"),  # the same post: shown once, under Alfa
                entry("b", "3"),
                entry("b", "4", days=400),  # older than the maximum age
                entry("b", "5", title="vendo casco"),  # now filtered out
            ],
        },
    )
    assert [(s.source.slug, s.shown) for s in result.top_sources] == [
        ("a", 2),
        ("b", 1),
    ]
    shown = [i.entry.feed for i in result.items]
    assert shown.count("a") == 2 and shown.count("b") == 1
    rows = {r.source.slug: r for r in result.status}
    assert (rows["b"].hidden_duplicates, rows["b"].hidden_old) == (1, 1)
    assert rows["b"].hidden_filtered == 1
    assert result.summary.dropped == {"old": 1, "duplicates": 1, "filtered": 1}


def test_the_directory_is_alphabetical_by_letter_over_pages():
    names = ["Émile", "alfa", "Beta", "9 Valli", "Москва", "Zeta", "Ålesund", "beta 2"]
    subs = [Subscription(f"s{n}", name, f"https://{n}.example/") for n, name in
            enumerate(names)]  # fmt: skip
    directory = view(subs, {}, sources_per_page=3).directory
    pages = [
        [(s.letter, [x.source.name for x in s.sources]) for s in p.sections]
        for p in directory.pages
    ]
    assert pages == [
        [("0-9", ["9 Valli"]), ("A", ["Ålesund", "alfa"])],
        [("B", ["Beta", "beta 2"]), ("E", ["Émile"])],
        [("Z", ["Zeta"]), ("#", ["Москва"])],
    ]
    assert [(letter, page) for letter, _a, page in directory.letters] == [
        ("0-9", 1), ("A", 1), ("B", 2), ("E", 2), ("Z", 3), ("#", 3),
    ]  # fmt: skip
    assert letter_of("Ørsta") == "O" and sort_key("Émile") == "emile"


def _filter(word: str) -> EntryFilter:
    return EntryFilter(titles=(re.compile(word),))
