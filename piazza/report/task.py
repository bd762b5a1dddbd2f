"""``invoke report`` for the person at the terminal: a progress bar while it
reads, the file written (0600), a summary table, the digest if asked."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from piazza.report import ReportError
from piazza.report.run import Sources, build_report, period_for
from piazza.terminal import console

STAGES = ("comments", "themes", "community", "ideas")


def idea_pages(folder: Path) -> dict[int, dict[str, str]]:
    """Each idea's page slug per language, as the board names its pages
    (plugins/ideaboard: ``<number>-<the file's Slug>``)."""
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    from ideaboard.generator import read_ideas  # noqa: PLC0415 (sys.path)

    pages: dict[int, dict[str, str]] = {}
    for text in read_ideas(folder, ZoneInfo("UTC"), ("it", "en")):
        pages.setdefault(text.number, {})[text.lang] = f"{text.number}-{text.slug}"
    return pages


def sources_from(root: Path, settings: Mapping[str, Any], db: str | None) -> Sources:
    """Where to read, from the site's settings and the environment."""
    from piazza.comments import database_path  # noqa: PLC0415

    content = Path(settings.get("PATH") or root / "content")
    content = content if content.is_absolute() else root / content
    community = Path(settings.get("COMMUNITY_CACHE_DIR") or "var/community")
    ideas_cache = Path(
        settings.get("IDEAS_SNAPSHOT_CACHE") or "var/ideas/snapshot.json"
    )
    return Sources(
        isso_db=database_path(db, root),
        community_dir=community if community.is_absolute() else root / community,
        ideas_url=os.environ.get("IDEAS_API_URL") or settings.get("IDEAS_API_URL"),
        ideas_cache=ideas_cache if ideas_cache.is_absolute() else root / ideas_cache,
        glossary=content / "glossary.toml",
        site_url=os.environ.get("PIAZZA_SITEURL") or settings.get("SITEURL") or "",
        slugs=idea_pages(content / "ideas"),
    )


def run_report(
    root: Path,
    settings: Mapping[str, Any],
    *,
    since: str | None = None,
    out: str | None = None,
    mail: bool = False,
    lang: str = "it",
    db: str | None = None,
) -> Path:
    from piazza.report import mail as digest  # noqa: PLC0415
    from piazza.report.render import (  # noqa: PLC0415
        render_html,
        render_text,
        summary_rows,
        write_private,
    )

    if lang not in ("it", "en"):
        raise ReportError(f"--lang {lang!r}: the report speaks it or en")
    mail_settings = digest.settings_from(os.environ) if mail else None
    now = datetime.now(UTC)
    period = period_for(since, now)
    sources = sources_from(root, settings, db)
    out_path = (
        Path(out) if out else root / "var" / "reports" / f"report-{now:%Y-%m-%d}.html"
    )
    screen = console()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        console=screen,
        transient=True,
    ) as progress:
        bar = progress.add_task("Reading", total=len(STAGES))

        def step(name: str) -> None:
            progress.update(
                bar, description=f"Reading {name}", completed=STAGES.index(name)
            )

        report = build_report(sources, period, step=step)
        progress.update(bar, completed=len(STAGES))
    html = render_html(report, lang)
    write_private(out_path, html)
    table = Table(title="The leader's report")
    table.add_column("")
    table.add_column("", justify="right")
    for name, value in summary_rows(report):
        table.add_row(name, value)
    screen.print(table)
    for lack in report.lacks:
        screen.print(f"[yellow]Missing:[/] {lack.message}")
    screen.print(f"Written to {out_path} (readable by you only)")
    if mail_settings:
        smtp, to = mail_settings
        subject = f"Piazza: report {period.start:%Y-%m-%d} – {period.end:%Y-%m-%d}"
        digest.send(smtp, digest.digest(smtp, to, subject, render_text(report), html))
        screen.print(f"Sent to {', '.join(to)}")
    return out_path
