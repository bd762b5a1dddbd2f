"""Pure logic: read a poll file (content/polls/<id>.toml), check it, find
the line of each mistake; and prepare a poll for a page.

A poll file, named after the poll's id::

    closes = 2026-07-31T23:59:00+02:00   # or a date: the end of that day

    [question]
    it = "Portapacchi o passo corto?"
    en = "Luggage rack or short wheelbase?"

    [[option]]
    key = "portapacchi"                  # never change it once votes came in
    it = "Il portapacchi"
    en = "The luggage rack"

    [[option]]                           # 2 to 8 options
    ...

    [result]                             # optional: the final numbers,
    recorded = 2026-08-01T09:00:00+02:00 # written after closing
    portapacchi = 214

No Pelican, no files, no network: text in, a :class:`Poll` (or the list of
problems, each naming the file, line and field) out.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, tzinfo

from polls.model import Option, Poll, PollView, Record, Results, Row

MIN_OPTIONS = 2
MAX_OPTIONS = 8
MAX_TEXT = 300
ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")
KEY = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
TOP_LEVEL = frozenset({"closes", "question", "option", "result"})
_TOML_LINE = re.compile(r"\(at line (\d+)")
QUESTION = r"\s*\[question\]"
OPTION = r"\s*\[\[option\]\]"
RESULT = r"\s*\[result\]"
EXAMPLE = "closes = 2026-07-31T23:59:00+02:00"


class Problems(Exception):
    """A poll file that can't be used: every mistake found, one per line."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


def _line_of(text: str, pattern: str, nth: int = 0) -> int:
    """The line (1-based) of the ``nth`` match of ``pattern`` in ``text``,
    or 1 when there is none (the mistake is then a missing thing)."""
    found = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(pattern, line):
            if found == nth:
                return number
            found += 1
    return 1


def _key_line(text: str, key: str, nth: int = 0) -> int:
    return _line_of(text, rf"\s*{re.escape(key)}\s*=", nth)


def _moment(value: object, zone: tzinfo) -> datetime | None:
    """A TOML date or date-time as an aware datetime: a date means the end
    of that day, a time without offset is in the site's zone."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    if isinstance(value, date):
        return datetime.combine(value, time(23, 59, 59), tzinfo=zone)
    return None


def _texts(
    table: object, languages: Sequence[str], field: str, say: list[str], where: str
) -> dict[str, str]:
    if not isinstance(table, Mapping):
        wanted = ", ".join(f'{lang} = "..."' for lang in languages)
        say.append(f"{where}: {field}: give the text in each language ({wanted})")
        return {}
    texts = {}
    for lang in languages:
        value = table.get(lang)
        if not isinstance(value, str) or not value.strip():
            say.append(f"{where}: {field}.{lang}: missing; write the text in {lang}")
        elif len(value) > MAX_TEXT:
            say.append(f"{where}: {field}.{lang}: over {MAX_TEXT} characters")
        else:
            texts[lang] = " ".join(value.split())
    for extra in sorted(set(table) - set(languages) - {"key"}):
        say.append(
            f"{where}: {field}.{extra}: unknown language; this site publishes in "
            f"{', '.join(languages)}"
        )
    return texts


def parse_poll(
    text: str,
    source: str,
    poll_id: str,
    *,
    languages: Sequence[str],
    zone: tzinfo = UTC,
) -> Poll:
    """The poll in ``text`` (the file ``source``); :class:`Problems` lists
    every mistake, each as ``source:line: field: what to do``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE.search(str(exc))
        line = match.group(1) if match else "1"
        raise Problems(
            [f"{source}:{line}: not valid TOML ({exc}); check quotes and brackets"]
        ) from None
    say: list[str] = []
    if not ID.match(poll_id):
        say.append(
            f"{source}:1: the file name {poll_id!r} is the poll's id: use lower-case "
            "letters, digits and dashes (e.g. portapacchi-2026.toml)"
        )
    for key in sorted(set(data) - TOP_LEVEL):
        say.append(
            f"{source}:{_key_line(text, key)}: {key}: unknown field; a poll has "
            "closes, [question], [[option]] and, after closing, [result]"
        )
    closes = _moment(data.get("closes"), zone)
    if "closes" not in data:
        say.append(f"{source}:1: closes: missing; say when voting ends ({EXAMPLE})")
    elif closes is None:
        say.append(
            f"{source}:{_key_line(text, 'closes')}: closes: {data['closes']!r} is "
            f"not a date; write it unquoted ({EXAMPLE})"
        )
    at = _line_of(text, QUESTION)
    question = _texts(
        data.get("question"), languages, "question", say, f"{source}:{at}"
    )
    options = _options(data.get("option"), text, source, languages, say)
    record = _record(data.get("result"), options, text, source, say, zone=zone)
    if say:
        raise Problems(say)
    assert closes is not None
    return Poll(poll_id, source, question, tuple(options), closes, record)


def _options(
    tables: object, text: str, source: str, languages: Sequence[str], say: list[str]
) -> list[Option]:
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        tables = []
    if not MIN_OPTIONS <= len(tables) <= MAX_OPTIONS:
        # The ninth [[option]] when too many, the last one when too few.
        nth = MAX_OPTIONS if len(tables) > MAX_OPTIONS else len(tables) - 1
        line = _line_of(text, OPTION, nth) if tables else 1
        say.append(
            f"{source}:{line}: option: {len(tables)} given; a poll has "
            f"{MIN_OPTIONS} to {MAX_OPTIONS} options, each an [[option]] table "
            "with key, and the text in each language"
        )
    options: list[Option] = []
    seen: dict[str, int] = {}
    for index, table in enumerate(tables):
        where = f"{source}:{_line_of(text, OPTION, index)}"
        key = table.get("key")
        if not isinstance(key, str) or not KEY.match(key):
            say.append(
                f"{where}: option {index + 1}: key: {key!r}; give each option a short "
                'key of lower-case letters, digits and dashes (key = "rosso")'
            )
            key = None
        elif key in seen:
            line = _line_of(text, rf"\s*key\s*=\s*[\"']{re.escape(key)}[\"']", 1)
            say.append(
                f"{source}:{line}: option {index + 1}: key: {key!r} is already the "
                f"key of option {seen[key] + 1}; each option needs its own"
            )
            key = None
        texts = _texts(table, languages, f"option {index + 1}", say, where)
        if key is not None:
            seen[key] = index
            options.append(Option(key, texts))
    return options


def _record(
    table: object,
    options: list[Option],
    text: str,
    source: str,
    say: list[str],
    *,
    zone: tzinfo,
) -> Record | None:
    if table is None:
        return None
    where = f"{source}:{_line_of(text, RESULT)}"
    if not isinstance(table, Mapping):
        say.append(f"{where}: result: a [result] table, one count per option key")
        return None
    recorded = _moment(table.get("recorded"), zone)
    if recorded is None:
        say.append(
            f"{where}: result.recorded: missing; say when the numbers were read "
            "(recorded = 2026-08-01T09:00:00+02:00)"
        )
    keys = {option.key for option in options}
    totals: dict[str, int] = {}
    for key, value in table.items():
        if key == "recorded":
            continue
        if key not in keys:
            say.append(
                f"{source}:{_key_line(text, key)}: result.{key}: not an option of "
                f"this poll ({', '.join(sorted(keys))})"
            )
        elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
            say.append(
                f"{source}:{_key_line(text, key)}: result.{key}: {value!r} is not "
                "a count"
            )
        else:
            totals[key] = value
    if recorded is None:
        return None
    return Record(recorded, {key: totals.get(key, 0) for key in keys})


# --- a poll on a page ------------------------------------------------------------


def choose_results(poll: Poll, known: Results | None, now: datetime) -> Results | None:
    """The numbers a page shows: once closed, the poll file's ``[result]``
    when it has one (the published record, in git); otherwise the service's
    (this build's answer, or the last known one)."""
    if poll.record is not None and poll.is_closed(now):
        return Results(dict(poll.record.totals), poll.record.recorded, "record")
    return known


def view(
    poll: Poll,
    results: Results | None,
    lang: str,
    *,
    default_lang: str,
    now: datetime,
    api: str,
) -> PollView:
    """``poll`` prepared for a page in ``lang``."""
    totals = results.totals if results else {}
    counts = [max(0, int(totals.get(option.key, 0))) for option in poll.options]
    total = sum(counts)
    top = max(counts) if total else -1
    rows = tuple(
        Row(
            key=option.key,
            label=option.text(lang, default_lang),
            count=count,
            percent=round(100 * count / total) if total else 0,
            leading=count == top,
        )
        for option, count in zip(poll.options, counts, strict=True)
    )
    return PollView(
        id=poll.id,
        lang=lang,
        question=poll.question.get(lang) or poll.question[default_lang],
        closes=poll.closes,
        closed=poll.is_closed(now),
        rows=rows,
        total=total,
        as_of=results.as_of if results else None,
        source=results.source if results else None,
        api=api.rstrip("/"),
    )


def published(polls: Mapping[str, Poll]) -> dict:
    """What the ideas service learns from the build (output/polls.json):
    each poll's option keys and closing time."""
    return {
        "polls": {
            poll.id: {
                "options": list(poll.option_keys()),
                "closes": poll.closes.astimezone(UTC).isoformat(timespec="seconds"),
            }
            for poll in sorted(polls.values(), key=lambda p: p.id)
        }
    }
