"""The editor's side of the community feeds: `invoke aggregate` and `feeds-import`.

The work is done by the community plugin (``plugins/community``); this module
reads the site's settings, shows a progress bar and the summary table, and
turns the plugin's reports into what an editor reads in a terminal.
"""

from __future__ import annotations

import runpy
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from community.aggregate import AggregateReport, FeedReport, run_aggregate
from community.errors import CommunityError
from community.settings import CommunitySettings
from community.subscriptions import import_opml as append_opml
from community.subscriptions import load_subscriptions
from piazza import terminal
from wording import counted


def community_settings(settings_file: Path) -> CommunitySettings:
    """The plugin's settings as the build would see them.

    Relative paths are resolved as ``invoke build`` resolves them: content
    against the settings file's folder, the cache against the project root.
    """
    settings_file = settings_file.resolve()
    if not settings_file.is_file():
        raise CommunityError(f"{settings_file}: no such settings file")
    # The settings' upper-case names, as Pelican reads them (without importing
    # Pelican: fetching feeds needs none of it).
    settings = {
        k: v for k, v in runpy.run_path(str(settings_file)).items() if k.isupper()
    }
    root = settings_file.parent
    settings["PATH"] = str(root / settings.get("PATH", "content"))
    return CommunitySettings.from_pelican(settings, root=root)


def aggregate(
    settings_file: Path,
    force: bool = False,
    only: tuple[str, ...] = (),
    console: Console | None = None,
) -> AggregateReport:
    """Fetch every due feed into the cache; print progress and a summary.

    Feed problems are reported, never raised: only invalid configuration
    (a CommunityError) stops the run.
    """
    console = console or terminal.console()
    community = community_settings(settings_file)
    subscriptions = load_subscriptions(community.feeds_file)
    if not subscriptions:
        console.print(
            f"No community feeds in {community.feeds_file}: nothing to fetch."
        )
    count = len(only) or len(subscriptions)
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("Fetching feeds", total=count)

        def advance(report: FeedReport) -> None:
            progress.update(task, advance=1, description=f"{report.name[:30]:<30}")

        report = run_aggregate(
            subscriptions, community, force=force, only=only, on_feed=advance
        )
    if report.feeds:
        console.print(summary_table(report))
    problems = len(report.problems)
    dropped = report.dropped
    left_out = [
        f"{dropped['old']} too old" if dropped["old"] else "",
        counted(dropped["duplicates"], "duplicate") if dropped["duplicates"] else "",
        f"{dropped['filtered']} filtered out" if dropped["filtered"] else "",
    ]
    left_out = [words for words in left_out if words]
    console.print(
        f"{counted(len(report.feeds), 'feed')}, "
        f"{counted(report.new_entries, 'new entry', 'new entries')}"
        + (f" ({', '.join(left_out)} left out)" if left_out else "")
        + (
            f", {problems} {'needs' if problems == 1 else 'need'} attention"
            if problems
            else ""
        )
        + f"; cache: {report.cache_dir}"
    )
    return report


def summary_table(report: AggregateReport) -> Table:
    """One row per feed: what happened, what it brought, how long it took."""
    table = Table(title="Community feeds", title_justify="left")
    table.add_column("Feed")
    table.add_column("Status")
    table.add_column("New", justify="right")
    table.add_column("Held", justify="right")
    table.add_column("Old", justify="right")
    table.add_column("Dup.", justify="right")
    table.add_column("Filtered", justify="right")
    table.add_column("Time", justify="right")
    table.add_column("Details", overflow="fold")
    for feed in report.feeds:
        style = "green" if feed.status.ok else "yellow"
        details = feed.message
        if feed.moved_to:
            details += f" (moved permanently to {feed.moved_to}: update feeds.toml)"
        table.add_row(
            feed.name,
            f"[{style}]{feed.status}[/]",
            str(feed.new_entries),
            str(feed.entries_held),
            str(feed.dropped_old),
            str(feed.dropped_duplicates),
            str(feed.dropped_filtered),
            f"{feed.elapsed:.2f} s" if feed.elapsed else "-",
            details,
        )
    return table


def import_opml(
    settings_file: Path, opml_file: Path, console: Console | None = None
) -> None:
    """Append the feeds of an OPML file to feeds.toml; say what was skipped."""
    console = console or terminal.console()
    community = community_settings(settings_file)
    report = append_opml(opml_file, community.feeds_file)
    for sub in report.added:
        console.print(f"added: {sub.name} <{sub.url}>")
    for what, why in report.skipped:
        console.print(f"skipped: {what}: {why}")
    console.print(
        f"{len(report.added)} added, {len(report.skipped)} skipped "
        f"({community.feeds_file})"
    )
