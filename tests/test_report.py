"""The leader's report (piazza/report): from a real Isso database, a community
cache and an ideas snapshot with known contents in Italian and English.

The comments are posted through Isso's API (tests/isso_server.py), staff
replies proven as the staff layer proves them (a piazza_staff_comments row
with the comment's own ``created``); then their times are set to known
moments, so every figure below is computed by hand from the table in
:data:`COMMENTS`.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from community_cache import write_cache
from conftest import FIXTURES, ROOT, serving
from isso_server import new_comment, running_isso
from lxml import html
from test_html_validity import vnu_errors
from test_ideas_ops import smtp  # noqa: F401 (the fixture: a real SMTP sink)

from piazza import commentstore
from piazza.report import ReportError
from piazza.report.asking import asks
from piazza.report.isso import read_comments
from piazza.report.model import Period
from piazza.report.render import render_html, render_text, write_private
from piazza.report.run import Report, Sources, build_report, period_for

SITE = "https://www.officineardesia.example"
DATA = FIXTURES / "report"
PERIOD = Period(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 29, tzinfo=UTC))
IT, EN = "/2026/03/sebino-800/", "/en/2026/03/sebino-800/"


def at(day: str) -> float:
    return datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp()


@dataclass(frozen=True)
class Seed:
    key: str  # how the table below names it
    uri: str
    text: str
    author: str
    when: str
    parent: str | None = None
    email: str | None = None
    reader: str = "203.0.113.7"
    staff: bool = False


# Every comment of the seeded database. "asks" by the rule: a question mark
# or a request phrase (potreste, vorrei, could you, please...).
COMMENTS = (
    # February (the previous period): one question nobody answered.
    Seed("gino", IT, "Un portapacchi laterale sarebbe utile?", "Gino",
         "2026-02-10 09:00", reader="198.51.100.20"),
    # March, Italian.
    Seed("ada", IT, "Potreste aggiungere un portapacchi posteriore alla Sebino?",
         "Ada", "2026-03-02 10:00", email="ada@example.org", reader="192.0.2.10"),
    Seed("staff-ada", IT, "Sì, ci stiamo lavorando: arriva in estate.",
         "Chiara Valsecchi", "2026-03-02 16:00", parent="ada", staff=True),
    Seed("franco", IT, "Anche io vorrei il portapacchi!", "Franco",
         "2026-03-03 08:00", parent="ada", reader="192.0.2.30"),
    Seed("bruno", IT, "Vorrei un portapacchi più robusto per i viaggi.", "Bruno",
         "2026-03-05 09:00", reader="198.51.100.7"),
    Seed("carla", IT, "Bella moto, complimenti!", "Carla", "2026-03-06 09:00",
         reader="198.51.100.8"),
    Seed("dario", IT, "Quando arrivano le batterie di ricambio?", "Dario",
         "2026-03-08 12:00", reader="198.51.100.9"),
    Seed("staff-dario", IT, "A fine mese, dai concessionari.", "Chiara Valsecchi",
         "2026-03-09 00:00", parent="dario", staff=True),
    Seed("elena", IT, "Le batterie durano poco: potreste venderne di ricambio?",
         "Elena", "2026-03-10 09:00", reader="198.51.100.10"),
    # Claims the staff name, without proof: not an answer.
    Seed("fake", IT, "Certo, le avrete presto.", "Chiara Valsecchi",
         "2026-03-10 10:00", parent="elena", reader="198.51.100.66"),
    # Ada again (same e-mail, another network): one person.
    Seed("ada-again", IT, "Potreste fare il portapacchi anche nero?", "Ada",
         "2026-03-12 09:00", email="ADA@example.org", reader="203.0.113.99"),
    # March, English.
    Seed("hal", EN, "Could you add a luggage rack to the Sebino?", "Hal",
         "2026-03-04 10:00", email="hal@example.org", reader="192.0.2.40"),
    Seed("staff-hal", EN, "Yes: it comes this summer.", "Chiara Valsecchi",
         "2026-03-05 10:00", parent="hal", staff=True),
    Seed("ivy", EN, "Please make a stronger luggage rack.", "Ivy",
         "2026-03-07 09:00", reader="192.0.2.50"),
    Seed("jack", EN, "Great ride yesterday on the lake.", "Jack",
         "2026-03-07 10:00", reader="192.0.2.60"),
)  # fmt: skip
# By hand: the asking comments and their first staff answer.
WAITING = ("gino", "franco", "bruno", "ivy", "elena", "ada-again")  # oldest first
# March: asked ada, franco, bruno, dario, elena, ada-again, hal, ivy = 8;
# answered ada (6 h), dario (12 h), hal (24 h): median 12 h.
MARCH = (8, 3, 12.0)
FEBRUARY = (1, 0, None)


@dataclass(frozen=True)
class Seeded:
    db: Path
    ids: dict[str, int]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Seeded:
    folder = tmp_path_factory.mktemp("isso")
    ids: dict[str, int] = {}
    with running_isso(folder, site=SITE) as isso:
        for seed in COMMENTS:
            made = new_comment(
                isso.url,
                seed.uri,
                seed.text,
                author=seed.author,
                email=seed.email,
                parent=ids[seed.parent] if seed.parent else None,
                title="Sebino 800",
                reader=seed.reader,
            )
            ids[seed.key] = made["id"]
        db = isso.db
    # Known times, and the staff proof as the staff layer writes it.
    with commentstore.connect(db) as connection:
        commentstore.ensure_schema(connection)
        for seed in COMMENTS:
            created = at(seed.when)
            connection.execute(
                "UPDATE comments SET created = ? WHERE id = ?", (created, ids[seed.key])
            )
            if seed.staff:
                connection.execute(
                    "INSERT INTO piazza_staff_comments (comment_id, staff, created)"
                    " VALUES (?, 'chiara', ?)",
                    (ids[seed.key], created),
                )
    return Seeded(db, ids)


def write_community(root: Path) -> None:
    """Three sources, one silent since December."""
    posts = {
        "garage-ada": ("2026-03-02", "2026-03-09", "2026-03-16"),
        "moto-blog": ("2026-02-10", "2026-03-20"),
        "old-rider": ("2025-12-01",),
    }
    dates = {slug: [datetime.fromisoformat(d).replace(tzinfo=UTC) for d in days]
             for slug, days in posts.items()}  # fmt: skip
    write_cache(root, dates, PERIOD.end)


class SnapshotHandler(BaseHTTPRequestHandler):
    """The ideas service's GET /snapshot, from the fixture file."""

    def do_GET(self):
        body = (DATA / "snapshot.json").read_bytes()
        if self.path != "/snapshot":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def ideas_url():
    with serving(SnapshotHandler) as url:
        yield url


@pytest.fixture
def sources(seeded, tmp_path, ideas_url) -> Sources:
    write_community(tmp_path / "community")
    return Sources(
        isso_db=seeded.db,
        community_dir=tmp_path / "community",
        ideas_url=ideas_url,
        ideas_cache=tmp_path / "ideas" / "snapshot.json",
        glossary=DATA / "glossary.toml",
        site_url=SITE,
        slugs={1: {"it": "1-portapacchi-posteriore"}},
    )


@pytest.fixture
def report(sources) -> Report:
    return build_report(sources, PERIOD)


# --- The asking rule ---------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Quando arriva?",
        "Potreste aggiungere le manopole riscaldate",
        "VORREI un cupolino più alto",
        "Per favore, più colori",
        "Would you sell spare parts",
        "please add a USB socket",
        "Can you ship to Ireland",
        "I'd like a lower seat",
    ],
)
def test_a_question_or_a_request_asks(text):
    assert asks(text)


@pytest.mark.parametrize(
    "text",
    [
        "Bella moto, complimenti!",
        "Great ride yesterday.",
        "> Potreste farla rossa?\nL'ho vista, è bellissima.",  # a quote is not theirs
        "Guardate https://example.org/?q=1 che foto",  # a link's ? is not a question
        "Pleased to meet you",  # "please" as a whole word only
    ],
)
def test_praise_quotes_and_links_do_not_ask(text):
    assert not asks(text)


# --- What the report finds -------------------------------------------------


def test_it_lists_exactly_the_unanswered_questions_oldest_first(report, seeded):
    assert [v.comment.id for v in report.waiting] == [seeded.ids[k] for k in WAITING]
    ada = next(v for v in report.waiting if v.comment.id == seeded.ids["ada-again"])
    assert ada.comment.created == datetime(2026, 3, 12, 9, tzinfo=UTC)


def test_reply_rate_and_median_delay_by_month(report):
    months = {m.label: m for m in report.months}
    assert len(report.months) == 12
    assert list(months)[-1] == "2026-03"
    march, february = months["2026-03"], months["2026-02"]
    assert (march.asked, march.answered, march.median_hours) == MARCH
    assert (february.asked, february.answered, february.median_hours) == FEBRUARY
    assert months["2025-12"].asked == 0
    assert (report.asked, report.answered, report.median_hours) == MARCH


def test_a_name_is_no_proof_of_staff(seeded):
    comments, has_staff = read_comments(seeded.db)
    assert has_staff
    staff = {c.id for c in comments if c.staff}
    expected = {seeded.ids[s.key] for s in COMMENTS if s.staff}
    assert staff == expected
    assert seeded.ids["fake"] not in staff


def test_themes_per_language_with_people_and_trend(report):
    found = {
        (t.lang, t.label): (t.people, t.previous_people)
        for ts in report.themes.values()
        for t in ts
    }
    # portapacchi: Ada (twice, one e-mail), Franco, Bruno; in February Gino.
    # batterie: Dario, Elena. luggage rack: Hal, Ivy.
    assert found == {
        ("it", "portapacchi"): (3, 1),
        ("it", "batterie"): (2, 0),
        ("en", "luggage rack"): (2, 0),
    }


def test_themes_are_linked_across_languages_by_the_glossary(report):
    (rack,) = [t for t in report.themes["en"] if t.label == "luggage rack"]
    assert rack.translation == ("portapacchi", 3)
    (batteries,) = [t for t in report.themes["it"] if t.label == "batterie"]
    assert batteries.translation is None  # no English theme about batteries
    # "ricambio" is about the same comments: grouped, not a theme of its own.
    assert len(batteries.phrases) > 1


def test_ideas_figures(report):
    ideas = report.ideas
    assert ideas is not None
    # Five ideas (the duplicate is not counted); 1, 3 and 6 answered.
    assert (ideas.figures.ideas, ideas.figures.answered) == (5, 3)
    # First answers after 10 (idea 1), 4 (idea 3) and 30 days (idea 6).
    assert ideas.figures.median_days == 10
    assert ideas.figures.done_by_quarter == (("2026-Q1", 1),)
    assert [i.id for i in ideas.most_supported] == [1, 3, 2, 4, 6]
    assert [i.id for i in ideas.waiting] == [4, 2]
    assert [d.idea.id for d in ideas.changes] == [3, 1]


def test_community_figures(report):
    community = report.community
    assert community is not None
    posts = {s.slug: s.posts for s in community.sources}
    assert posts == {"garage-ada": 3, "moto-blog": 1, "old-rider": 0}
    assert [s.slug for s in community.silent] == ["old-rider"]
    weeks = dict(community.weeks)
    assert sum(weeks.values()) == 4
    assert weeks["2026-W10"] == 1 and weeks["2026-W12"] == 2
    assert {d.uri: d.comments for d in community.discussed} == {IT: 10, EN: 4}


# --- The HTML file ------------------------------------------------------------


def test_the_html_lists_what_the_report_found(report, seeded):
    page = html.fromstring(render_html(report, "it"))
    assert page.get("lang") == "it"
    rows = page.cssselect("#waiting tr.voice")
    assert [int(r.get("data-comment-id")) for r in rows] == [
        seeded.ids[k] for k in WAITING
    ]
    links = [r.cssselect("a")[0].get("href") for r in rows]
    assert links[0] == f"{SITE}{IT}#isso-{seeded.ids['gino']}"
    assert page.cssselect("[data-figure=median-hours]")[0].text == "12.0"
    themes = {
        t.get("data-theme"): t.get("data-people") for t in page.cssselect("tr.theme")
    }
    assert themes == {"portapacchi": "3", "batterie": "2", "luggage rack": "2"}
    supported = page.cssselect("tr.supported a")[0]
    assert supported.get("href") == f"{SITE}/idee/1-portapacchi-posteriore/"
    assert page.cssselect("tr.supported[data-idea-id='2'] a")[0].get("href") == (
        f"{SITE}/en/ideas/"
    )
    assert not page.cssselect("script")
    assert not page.cssselect("#lacks")


def test_a_long_wait_lists_the_oldest_and_counts_the_rest(report, monkeypatch):
    from piazza.report import render

    monkeypatch.setattr(render, "SHOWN_WAITING", 2)
    page = html.fromstring(render_html(report, "en"))
    assert len(page.cssselect("#waiting tr.voice")) == 2
    more = page.cssselect("#waiting p.more")[0].text
    assert more == f"And {len(WAITING) - 2} more, newer: answer these first."
    assert page.cssselect("[data-figure=waiting]")[0].text == str(len(WAITING))


def test_no_address_in_the_report(report):
    text = render_html(report, "en") + render_text(report)
    assert not re.search(r"[\w.]+@[\w.]+", text)
    for address in ("192.0.2.", "198.51.100.", "203.0.113."):
        assert address not in text


def test_the_html_is_valid_and_renders_in_chromium(
    report, tmp_path, browser, artifacts
):
    path = tmp_path / "report.html"
    path.write_text(render_html(report, "it"), encoding="utf-8")
    errors = vnu_errors([str(path)])
    assert not errors, "\n".join(errors)
    page = browser.new_page(java_script_enabled=False)
    try:
        page.goto(path.as_uri())
        assert page.locator("#waiting tr.voice").count() == len(WAITING)
        assert page.locator("svg.chart").count() == 3
        box = page.locator("svg.chart").first.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 50
        page.screenshot(path=str(artifacts / "report.png"), full_page=True)
    finally:
        page.close()


def test_english_report_is_translated(report):
    italian = html.fromstring(render_html(report, "it"))
    english = html.fromstring(render_html(report, "en"))
    assert english.get("lang") == "en"
    assert italian.cssselect("h1")[0].text != english.cssselect("h1")[0].text


def test_the_file_is_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "out" / "report.html"
    path.parent.mkdir()
    path.write_text("old")
    path.chmod(0o644)
    write_private(path, "<p>new</p>")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == "<p>new</p>"


# --- Bad input ---------------------------------------------------------------


def _lacks(report: Report) -> dict[str, str]:
    return {lack.source: lack.message for lack in report.lacks}


def test_a_missing_database_is_said_in_a_box(sources, tmp_path):
    missing = tmp_path / "nowhere" / "comments.db"
    found = build_report(Sources(**{**sources.__dict__, "isso_db": missing}), PERIOD)
    assert str(missing) in _lacks(found)["comments"]
    assert "--db" in _lacks(found)["comments"]
    assert not missing.exists()  # read-only: nothing created
    page = html.fromstring(render_html(found, "en"))
    (box,) = page.cssselect("#lacks")
    assert str(missing) in box.text_content()


def test_a_database_that_is_not_issos(sources, tmp_path):
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE notes (id INTEGER)")
    text = tmp_path / "notes.txt"
    text.write_text("not a database at all " * 100)
    for path, words in ((other, "not Isso's"), (text, "not an SQLite database")):
        found = build_report(Sources(**{**sources.__dict__, "isso_db": path}), PERIOD)
        assert words in _lacks(found)["comments"], path


def test_a_locked_database(sources, seeded, tmp_path):
    copy = tmp_path / "locked.db"
    with sqlite3.connect(seeded.db) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    holder = sqlite3.connect(copy, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        found = build_report(Sources(**{**sources.__dict__, "isso_db": copy}), PERIOD)
    finally:
        holder.close()
    assert "locked by another process" in _lacks(found)["comments"]


def test_an_ideas_service_that_is_down(sources, tmp_path):
    from conftest import free_port

    down = f"http://127.0.0.1:{free_port()}"
    found = build_report(Sources(**{**sources.__dict__, "ideas_url": down}), PERIOD)
    assert found.ideas is None
    assert "did not answer" in _lacks(found)["ideas"]
    # With a copy from an earlier run, the report uses it and says from when.
    build_report(sources, PERIOD)
    again = build_report(Sources(**{**sources.__dict__, "ideas_url": down}), PERIOD)
    assert again.ideas is not None
    assert "last known copy, from 2026-03-28 23:00" in _lacks(again)["ideas"]


def test_an_empty_period(sources):
    quiet = Period(datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 8, tzinfo=UTC))
    found = build_report(sources, quiet)
    assert "Nothing happened" in _lacks(found)["period"]
    assert not found.waiting and found.asked == 0
    page = html.fromstring(render_html(found, "it"))
    assert page.cssselect("#lacks li[data-source=period]")


def test_a_bad_since_date():
    with pytest.raises(ReportError, match="--since 'yesterday'"):
        period_for("yesterday", PERIOD.end)


# --- The task and the digest --------------------------------------------------


def _task_env(sources: Sources, **extra: str) -> dict[str, str]:
    env = {**os.environ, "IDEAS_API_URL": sources.ideas_url or "", **extra}
    env.pop("COLUMNS", None)
    return env


@pytest.fixture
def copy(project: Path) -> Path:
    """A copy of the project (conftest's), with the ideas service's mail
    code the digest sends with: the task writes its var/ there, not here."""
    shutil.copytree(ROOT / "services", project / "services",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    return project


def _run_task(project: Path, sources: Sources, *args: str, **env: str):
    return subprocess.run(
        [sys.executable, "-m", "invoke", "-r", str(project), "report",
         "--db", str(sources.isso_db), *args],
        cwd=project, capture_output=True, text=True, timeout=300, check=False,
        env=_task_env(sources, **env),
    )  # fmt: skip


def test_the_task_writes_the_file_and_a_summary(sources, tmp_path, copy):
    out = tmp_path / "reports" / "report.html"
    done = _run_task(copy, sources, "--since", "2026-03-01", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "Questions and requests in the period" in done.stdout
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    page = html.fromstring(out.read_text(encoding="utf-8"))
    assert page.cssselect("#waiting tr.voice")
    # The ideas service answered: its copy is kept in the project's var/.
    assert (copy / "var" / "ideas" / "snapshot.json").is_file()


def test_the_task_says_what_is_wrong_without_a_traceback(sources, tmp_path, copy):
    done = _run_task(copy, sources, "--since", "someday")
    assert done.returncode == 1
    assert "report: --since 'someday'" in done.stderr
    assert "Traceback" not in done.stderr
    done = _run_task(copy, sources, "--mail", "--out", str(tmp_path / "r.html"))
    assert done.returncode == 1
    assert "REPORT_SMTP_HOST" in done.stderr and "Traceback" not in done.stderr


def test_the_digest_reaches_the_smtp_server_with_both_parts(
    sources,
    tmp_path,
    copy,
    smtp,  # noqa: F811
):
    sink, port = smtp
    done = _run_task(
        copy, sources, "--since", "2026-03-01", "--mail",
        "--out", str(tmp_path / "r.html"),
        REPORT_SMTP_HOST="127.0.0.1", REPORT_SMTP_PORT=str(port),
        REPORT_SMTP_FROM="Piazza <report@officineardesia.example>",
        REPORT_MAIL_TO="leader@officineardesia.example, editor@officineardesia.example",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (message,) = sink.wait(1)
    assert message["To"] == (
        "leader@officineardesia.example, editor@officineardesia.example"
    )
    text = message.get_body(("plain",)).get_content()
    page = html.fromstring(message.get_body(("html",)).get_content())
    assert "Questions and requests in the period" in text
    assert page.cssselect("#waiting tr.voice")
    # No reader's e-mail or address in either part.
    for part in (text, page.text_content()):
        assert not re.search(r"@example\.org|192\.0\.2\.|198\.51\.100\.", part)
    assert message["Subject"].startswith("Piazza: report 2026-03-01")


def test_the_reports_idea_links_are_the_boards_pages(published_site):
    from piazza.report.task import idea_pages

    pages = idea_pages(ROOT / "content" / "ideas")
    assert set(pages) == {1, 2, 3, 4, 5, 6, 7}  # the demo's ideas
    for pages_of in pages.values():
        for lang, slug in pages_of.items():
            board = "idee" if lang == "it" else "en/ideas"
            assert (published_site.output / board / slug / "index.html").is_file()
