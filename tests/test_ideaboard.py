"""The ideas board's pure logic: idea files, ranking, grouping, the merge of
git and the service, the feed's answers, the settings."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from ideaboard import board, rank
from ideaboard.feed import answer
from ideaboard.generator import read_ideas
from ideaboard.ideafiles import IdeaFileError, parse
from ideaboard.model import BoardIdea, Change, IdeaNumbers, IdeaText, Snapshot
from ideaboard.settings import BoardError, BoardSettings
from lxml import html
from markup import assert_no_executable_markup

ROME = ZoneInfo("Europe/Rome")
LANGS = ("it", "en")
DAY = timedelta(days=1)
T0 = datetime(2026, 5, 1, tzinfo=UTC)

GOOD = """Title: Manopole riscaldate
Date: 2026-03-14 21:05
Category: accessori
Idea-Id: 3
Lang: it
Slug: manopole-riscaldate
Proposed-By: Luca
Status: planned
Status-Date: 2026-10-20 11:30
Answer-It: Le proviamo.
Answer-En: We are testing them.
Company-Pick: yes

<p>Di serie, con il comando integrato.</p>
"""


def test_an_idea_file_reads_as_services_ideas_content_writes_it():
    text = parse(GOOD, "ideas/manopole.it.md", ROME, LANGS)
    assert (text.number, text.lang, text.slug, text.status) == (
        3,
        "it",
        "manopole-riscaldate",
        "planned",
    )
    assert text.date == datetime(2026, 3, 14, 21, 5, tzinfo=ROME)
    assert text.status_date == datetime(2026, 10, 20, 11, 30, tzinfo=ROME)
    assert (text.answer_it, text.answer_en) == ("Le proviamo.", "We are testing them.")
    assert text.company_pick is True
    assert html.fromstring(text.body_html).text_content().startswith("Di serie")


def test_a_file_without_status_is_proposed_and_a_markdown_body_is_rendered():
    text = parse(
        "Title: A\nDate: 2026-01-02\nIdea-Id: 9\nLang: en\n\nSome *Markdown*.\n",
        "ideas/a.en.md",
        ROME,
        LANGS,
    )
    assert text.status == "proposed" and text.company_pick is False
    assert text.slug == "a"
    assert html.fromstring(text.body_html).xpath("//em/text()") == ["Markdown"]


@pytest.mark.parametrize(
    ("change", "where", "said"),
    [
        (("Idea-Id: 3", "Idea-Id: tre"), "x.it.md:4:", "Idea-Id"),
        (("Status: planned", "Status: someday"), "x.it.md:8:", "Status"),
        (("Lang: it", "Lang: fr"), "x.it.md:5:", "Lang"),
        (("Date: 2026-03-14 21:05", "Date: yesterday"), "x.it.md:2:", "Date"),
        (("Company-Pick: yes", "Company-Pick: maybe"), "x.it.md:12:", "Company-Pick"),
        (("Category: accessori\n", "Category accessori\n"), "x.it.md:3:", "Key: value"),
        (("Title: Manopole riscaldate\n", ""), "x.it.md:", "no Title"),
    ],
)
def test_a_malformed_file_is_an_error_naming_file_line_and_field(change, where, said):
    with pytest.raises(IdeaFileError) as caught:
        parse(GOOD.replace(*change), "x.it.md", ROME, LANGS)
    assert str(caught.value).startswith(where), caught.value
    assert said in str(caught.value)


def test_a_hostile_body_and_title_are_inert():
    hostile = (
        "Title: <script>alert(1)</script>Evil <img src=x onerror=alert(2)>\n"
        "Date: 2026-01-02\nIdea-Id: 4\nLang: it\n\n"
        '<script>alert(3)</script><p onclick="alert(4)">Hi '
        '<a href="javascript:alert(5)">link</a> <img src="x" onerror="alert(6)">'
        "</p>\n\n[md](javascript:alert(7))\n"
    )
    text = parse(hostile, "h.it.md", ROME, LANGS)
    assert "<" not in text.title and "alert(1)" not in text.title
    root = html.fragment_fromstring(text.body_html, create_parent="div")
    assert_no_executable_markup(root, "body")
    assert "alert(3)" not in text.body_html


def test_a_malformed_file_is_a_warning_and_the_others_are_read(tmp_path, caplog):
    (tmp_path / "good.it.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "bad.it.md").write_text(
        GOOD.replace("Idea-Id: 3", "Idea-Id: x"), encoding="utf-8"
    )
    with caplog.at_level(logging.WARNING):
        texts = read_ideas(tmp_path, ROME, LANGS)
    assert [t.number for t in texts] == [3]
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(f"{tmp_path / 'bad.it.md'}:4:" in m for m in warned), warned


def _idea(number, supporters=0, recent=0, days=0, status="proposed", **kw):
    text = IdeaText(
        number=number,
        lang="it",
        slug=f"i{number}",
        title=f"Idea {number}",
        body_html="",
        category=kw.pop("category", "moto"),
        date=T0 + days * DAY,
        source=f"i{number}.it.md",
        status=status,
    )
    return BoardIdea(
        number=number,
        texts={"it": text},
        original_lang="it",
        category=text.category,
        status=status,
        date=text.date,
        status_date=None,
        supporters=supporters,
        confirmed=kw.pop("confirmed", 0),
        recent=recent,
        history=kw.pop("history", ()),
        duplicate_of=None,
        company_pick=False,
        proposed_by="",
    )


def _numbers(ideas):
    return [i.number for i in ideas]


def test_support_orders_by_supporters_then_confirmed_then_age():
    ideas = [
        _idea(1, 5),
        _idea(2, 9),
        _idea(3, 5, confirmed=2),
        _idea(4, 5),
        _idea(5, 0),
    ]
    assert _numbers(rank.by_support(ideas)) == [2, 3, 1, 4, 5]


def test_trending_is_recent_support_and_leaves_out_the_quiet():
    ideas = [_idea(1, 100, 1), _idea(2, 3, 3), _idea(3, 50, 0), _idea(4, 9, 3)]
    assert _numbers(rank.trending(ideas)) == [4, 2, 1]


def test_newest_first_with_ties_by_number():
    ideas = [_idea(1, days=0), _idea(2, days=5), _idea(3, days=5), _idea(4, days=1)]
    assert _numbers(rank.newest(ideas)) == [3, 2, 4, 1]


def test_groups_keep_the_given_order_and_empty_columns():
    ideas = [
        _idea(1, 1, status="done"),
        _idea(2, 5, status="planned"),
        _idea(3, 9, status="planned"),
        _idea(4, 1, status="declined"),
    ]
    grouped = rank.group_by(ideas, "status", ("planned", "in-progress", "done"))
    assert list(grouped) == ["planned", "in-progress", "done", "declined"]
    assert _numbers(grouped["planned"]) == [3, 2]
    assert grouped["in-progress"] == []
    by_category = rank.group_by(
        [_idea(1, category="sito"), _idea(2, category="moto")], "category"
    )
    assert list(by_category) == ["moto", "sito"]


def test_decisions_are_every_change_newest_first():
    a = _idea(
        1,
        history=(Change("proposed", "", "", T0), Change("planned", "Sì", "", T0 + DAY)),
    )
    b = _idea(2, history=(Change("proposed", "", "", T0 + 2 * DAY),))
    found = rank.decisions([a, b])
    assert [(d.idea.number, d.index) for d in found] == [(2, 0), (1, 1), (1, 0)]


def _text(number, lang="it", status="proposed", **kw):
    return IdeaText(
        number=number,
        lang=lang,
        slug=f"s{number}{lang}",
        title=f"{lang} {number}",
        body_html="",
        category="moto",
        date=kw.pop("date", T0),
        source=f"s{number}.{lang}.md",
        status=status,
        **kw,
    )


def _numbers_of(number, status, history, *, supporters=7, recent=2, lang="it"):
    return IdeaNumbers(
        id=number,
        title="service title",
        description_html="",
        category="moto",
        lang=lang,
        author="",
        status=status,
        duplicate_of=None,
        created=T0,
        published=T0,
        supporters=supporters,
        confirmed=1,
        recent=recent,
        history=tuple(history),
    )


def _snapshot(*ideas):
    return Snapshot(ideas=ideas, generated=T0, budget=10, recent_days=30, stale=False)


def test_git_has_the_text_and_the_service_the_numbers():
    grouped, problems = board.group_texts([_text(1), _text(1, "en"), _text(2)], "it")
    assert problems == []
    history = [Change("proposed", "", "", T0)]
    merged = board.merge(grouped, _snapshot(_numbers_of(1, "proposed", history)))
    one, two = merged
    assert one.text("en").title == "en 1" and one.text("it").title == "it 1"
    assert (one.supporters, one.confirmed, one.recent) == (7, 1, 2)
    # Unknown to the service: 0 and git's status.
    assert (two.supporters, two.status, two.text("en").lang) == (0, "proposed", "it")
    assert [c.status for c in two.history] == ["proposed"]


def test_a_decision_the_service_has_not_seen_ends_the_history():
    history = [Change("proposed", "", "", T0)]
    text = _text(
        1, status="planned", status_date=T0 + DAY, answer_it="Sì", answer_en="Yes"
    )
    grouped, _ = board.group_texts([text], "it")
    (idea,) = board.merge(grouped, _snapshot(_numbers_of(1, "proposed", history)))
    assert [(c.status, c.answer_en, c.date) for c in idea.history] == [
        ("proposed", "", T0),
        ("planned", "Yes", T0 + DAY),
    ]


def test_a_change_not_yet_in_git_waits_and_gits_answer_wins():
    history = [
        Change("proposed", "", "", T0),
        Change("planned", "Forse", "Maybe", T0 + DAY),
        Change("done", "Fatto", "Done", T0 + 2 * DAY),
    ]
    text = _text(1, status="planned", answer_it="Sì, a maggio")
    grouped, _ = board.group_texts([text], "it")
    (idea,) = board.merge(grouped, _snapshot(_numbers_of(1, "done", history)))
    assert idea.status == "planned"
    assert [(c.status, c.answer_it, c.answer_en) for c in idea.history] == [
        ("proposed", "", ""),
        ("planned", "Sì, a maggio", "Maybe"),
    ]


def test_two_files_for_one_idea_and_language_keep_the_first():
    grouped, problems = board.group_texts([_text(1), _text(1)], "it")
    assert list(grouped) == [1] and len(problems) == 1
    assert "s1.it.md" in problems[0]


def test_an_answer_falls_back_to_the_other_language():
    change = Change("planned", "Sì", "", T0)
    assert answer(change, "en") == ("Sì", "it")
    assert answer(change, "it") == ("Sì", "it")
    assert answer(Change("planned", "", "", T0), "en") == ("", "")


def test_settings_name_what_is_wrong():
    good = BoardSettings.from_pelican({"PATH": "content"}, ["it", "en"])
    assert good.public_url == "/idee-api" and good.api_url is None
    assert good.urls["en"]["board"] == "en/ideas/"
    with pytest.raises(BoardError, match="IDEAS_API_URL"):
        BoardSettings.from_pelican({"IDEAS_API_URL": "localhost:8090"}, ["it"])
    with pytest.raises(BoardError, match="IDEAS_RULE"):
        BoardSettings.from_pelican({"IDEAS_RULE": {"it": "x"}}, ["it", "en"])
    with pytest.raises(BoardError, match="IDEAS_ROADMAP"):
        BoardSettings.from_pelican({"IDEAS_ROADMAP": ["someday"]}, ["it"])


def test_the_services_dates_are_shown_in_the_sites_time_zone():
    late = datetime(2026, 6, 30, 22, 30, tzinfo=UTC)  # 1 July in Rome
    history = [Change("proposed", "", "", late)]
    grouped, _ = board.group_texts([_text(1)], "it")
    (idea,) = board.merge(grouped, _snapshot(_numbers_of(1, "proposed", history)), ROME)
    assert idea.history[0].date == late
    assert idea.history[0].date.tzinfo == ROME and idea.history[0].date.day == 1
