"""The poll file's rules (plugins/polls/definition.py): plain text in, a
poll or every mistake (file, line, field) out; a poll prepared for a page."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from conftest import FIXTURES

from polls.definition import Problems, choose_results, parse_poll, published, view
from polls.model import Results

ROME = ZoneInfo("Europe/Rome")
LANGS = ["it", "en"]
GOOD = (FIXTURES / "polls" / "colori.toml").read_text()


def problems(text: str, poll_id: str = "colori") -> list[str]:
    with pytest.raises(Problems) as caught:
        parse_poll(text, "content/polls/x.toml", poll_id, languages=LANGS, zone=ROME)
    return list(caught.value.problems)


def test_a_good_poll_file_is_read_with_its_closing_time_in_the_sites_zone():
    poll = parse_poll(GOOD, "content/polls/colori.toml", "colori", languages=LANGS,
                      zone=ROME)  # fmt: skip
    assert poll.option_keys() == ("rosso", "blu", "verde")
    assert poll.question["en"] == "Which colour shall we make it?"
    # A date alone is the end of that day, in the site's time zone.
    assert poll.closes == datetime(2099, 12, 31, 23, 59, 59, tzinfo=ROME)
    assert poll.record is None


def test_too_few_and_too_many_options_are_named_with_their_line():
    one = GOOD.split('[[option]]\nkey = "blu"')[0]
    (said,) = problems(one)
    assert said.startswith("content/polls/x.toml:") and "option: 1 given" in said
    assert "2 to 8 options" in said
    extra = "".join(
        f'\n[[option]]\nkey = "k{i}"\nit = "I{i}"\nen = "E{i}"\n' for i in range(6)
    )
    (said,) = problems(GOOD + extra)
    lines = (GOOD + extra).splitlines()
    ninth = [n for n, line in enumerate(lines, 1) if line == "[[option]]"][8]
    assert said.startswith(f"content/polls/x.toml:{ninth}: option: 9 given"), said


def test_a_missing_closing_date_a_duplicate_key_and_a_missing_text_are_all_said():
    text = GOOD.replace("closes = 2099-12-31\n", "").replace(
        'key = "verde"', 'key = "blu"'
    )
    text = text.replace('en = "Lake blue"\n', "")
    said = problems(text)
    assert "content/polls/x.toml:1: closes: missing" in said[0]
    lines = text.splitlines()
    second_blu = [n for n, line in enumerate(lines, 1) if line == 'key = "blu"'][1]
    assert any(
        p.startswith(
            f"content/polls/x.toml:{second_blu}: option 3: key: 'blu' is already"
        )
        for p in said
    ), said
    assert any("option 2.en: missing; write the text in en" in p for p in said), said


def test_an_unquoted_word_a_quoted_date_and_an_unknown_field_are_named():
    said = problems('colour = 1\ncloses = "domani"\n' + GOOD.split("\n", 2)[2])
    assert any("closes: 'domani' is not a date" in p for p in said), said
    assert any(
        p.startswith("content/polls/x.toml:1: colour: unknown field") for p in said
    )
    broken = problems(GOOD.replace('it = "Blu lago"', "it = Blu lago"))
    line = GOOD.splitlines().index('it = "Blu lago"') + 1
    assert broken[0].startswith(f"content/polls/x.toml:{line}: not valid TOML")


def test_a_bad_id_and_a_result_for_an_unknown_option_are_said():
    text = GOOD + "\n[result]\nrecorded = 2099-12-31\nviola = 3\nrosso = -1\n"
    said = problems(text, poll_id="Colori Belli")
    assert "the file name 'Colori Belli' is the poll's id" in said[0]
    assert any("result.viola: not an option of this poll" in p for p in said)
    assert any("result.rosso: -1 is not a count" in p for p in said)


def test_a_closed_poll_shows_its_record_and_an_open_one_the_services_numbers():
    text = GOOD.replace("closes = 2099-12-31", "closes = 2020-01-01")
    text += "\n[result]\nrecorded = 2020-01-02T10:00:00\nrosso = 3\nblu = 1\n"
    poll = parse_poll(text, "x", "colori", languages=LANGS, zone=ROME)
    service = Results({"rosso": 1, "blu": 1, "verde": 1}, datetime.now(UTC), "service")
    now = datetime.now(UTC)
    chosen = choose_results(poll, service, now)
    assert chosen.source == "record" and chosen.totals == {
        "rosso": 3,
        "blu": 1,
        "verde": 0,
    }
    page = view(poll, chosen, "en", default_lang="it", now=now, api="/idee-api/")
    assert page.closed and page.total == 4 and page.api == "/idee-api"
    assert [(r.label, r.count, r.percent, r.leading) for r in page.rows] == [
        ("Sebino red", 3, 75, True), ("Lake blue", 1, 25, False),
        ("Slate green", 0, 0, False),
    ]  # fmt: skip
    still_open = parse_poll(GOOD, "x", "colori", languages=LANGS, zone=ROME)
    assert choose_results(still_open, service, now) is service
    assert published({"colori": still_open})["polls"]["colori"] == {
        "options": ["rosso", "blu", "verde"],
        "closes": "2099-12-31T22:59:59+00:00",
    }
