"""The report as one self-contained HTML file, and its plain-text summary.

Everything is inline (CSS in a <style>, charts as SVG drawn here): the file
reads offline, prints, and runs no script. Strings come from the theme's
gettext catalogs (it, en), as the site's do.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import jinja2
from accountability.chart import Chart, bar_chart

from piazza.report.model import Comment
from piazza.report.run import Report
from piazza.templating import translated_environment

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "piazza" / "templates" / "report"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
QUOTE_LENGTH = 240
# Voices listed, oldest first (the figure above counts them all).
SHOWN_WAITING = 200


def quote(text: str) -> str:
    """A comment's words for a quote: one line, shortened, no e-mail address."""
    flat = " ".join(_EMAIL.sub("[…]", text).split())
    return (
        flat if len(flat) <= QUOTE_LENGTH else flat[: QUOTE_LENGTH - 1].rstrip() + "…"
    )


def _environment(lang: str) -> jinja2.Environment:
    env = translated_environment(TEMPLATES, lang, undefined=jinja2.StrictUndefined)
    env.filters["quote"] = quote
    env.filters["percent"] = lambda v: "–" if v is None else f"{round(v * 100)}%"
    env.filters["hours"] = lambda v: "–" if v is None else f"{v:.1f}"
    env.filters["day"] = lambda v: (
        v.strftime("%Y-%m-%d") if isinstance(v, datetime) else "–"
    )
    return env


def comment_url(report: Report, comment: Comment) -> str:
    return f"{report.site_url}{comment.uri}#isso-{comment.id}"


def idea_url(report: Report, number: int, lang: str) -> str:
    """The board's page of the idea in ``lang`` (the other language's text
    when it has no translation, as the board does), or the board."""
    pages = report.slugs.get(number, {})
    slug = pages.get(lang) or next(iter(pages.values()), None)
    board = "/idee/" if lang == "it" else f"/{lang}/ideas/"
    return f"{report.site_url}{board}{slug}/" if slug else f"{report.site_url}{board}"


def charts(report: Report) -> dict[str, Chart]:
    found = {
        "rate": bar_chart(
            [
                (
                    m.label[2:],
                    m.rate,
                    "" if m.rate is None else f"{round(m.rate * 100)}%",
                )
                for m in report.months
            ],
            top=1.0,
        ),
        "delay": bar_chart(
            [
                (
                    m.label[2:],
                    m.median_hours,
                    "" if m.median_hours is None else f"{m.median_hours:.0f}h",
                )
                for m in report.months
            ]
        ),
    }
    if report.community:
        found["weeks"] = bar_chart(
            [(w[5:], n, str(n)) for w, n in report.community.weeks]
        )
    return found


def render_html(report: Report, lang: str = "it") -> str:
    template = _environment(lang).get_template("report.html")
    return template.render(
        report=report,
        lang=lang,
        charts=charts(report),
        shown_waiting=SHOWN_WAITING,
        comment_url=lambda c: comment_url(report, c),
        idea_url=lambda n, idea_lang: idea_url(report, n, idea_lang),
    )


def summary_rows(report: Report) -> list[tuple[str, str]]:
    """The figures of the terminal table and the digest's plain-text part."""
    themes = [t for found in report.themes.values() for t in found]
    rows = [
        ("Period", f"{report.period.start:%Y-%m-%d} – {report.period.end:%Y-%m-%d}"),
        ("Comments read", str(report.comments)),
        ("Questions and requests in the period", str(report.asked)),
        ("  answered by staff", str(report.answered)),
        (
            "  median hours to a first answer",
            "–" if report.median_hours is None else f"{report.median_hours:.1f}",
        ),
        ("Waiting for an answer (all time)", str(len(report.waiting))),
        ("Themes", ", ".join(f"{t.label} ({t.people})" for t in themes[:5]) or "–"),
    ]
    if report.ideas:
        figures = report.ideas.figures
        share = figures.share_answered
        rows += [
            ("Ideas", str(figures.ideas)),
            (
                "  with a company answer",
                "–" if share is None else f"{round(share * 100)}%",
            ),
            ("  status changes in the period", str(len(report.ideas.changes))),
        ]
    if report.community:
        rows += [
            (
                "Community posts in the period",
                str(sum(s.posts for s in report.community.sources)),
            ),
            ("  sources gone silent", str(len(report.community.silent))),
        ]
    return rows


def render_text(report: Report) -> str:
    """The digest's plain-text part: the summary, and what was lacking."""
    width = max(len(name) for name, _ in summary_rows(report))
    lines = ["Piazza: the leader's report", ""]
    lines += [f"{name.ljust(width)}  {value}" for name, value in summary_rows(report)]
    if report.lacks:
        lines += ["", "Missing from this report:"]
        lines += [f"- {lack.message}" for lack in report.lacks]
    if report.waiting:
        lines += ["", "Oldest voices waiting for an answer:"]
        lines += [
            f"- {v.comment.created:%Y-%m-%d} {comment_url(report, v.comment)}"
            for v in report.waiting[:10]
        ]
    lines += ["", "The whole report is the HTML part of this message."]
    return "\n".join(lines) + "\n"


def write_private(path: Path, html: str) -> None:
    """Write the report readable by its owner only (0600), even over an
    older file that was readable by others."""
    import os  # noqa: PLC0415

    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        os.fchmod(file.fileno(), 0o600)
        file.write(html)
