"""The editor's side of the community feeds: `invoke aggregate`, `feeds-check`
and `feeds-import`.

The work is done by the community plugin (``plugins/community``); this module
reads the site's settings, shows a progress bar and the summary table, and
turns the plugin's reports into what an editor reads in a terminal.
"""

from __future__ import annotations

import contextlib
import runpy
from collections.abc import Callable, Iterator
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from community.aggregate import AggregateReport, run_aggregate
from community.check import FeedCheck, Verdict
from community.errors import CommunityError
from community.model import Subscription
from community.settings import CommunitySettings
from community.subscriptions import apply_moves, load_subscriptions
from community.subscriptions import import_opml as append_opml
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
    community, subscriptions = _subscriptions(settings_file, console, "fetch")
    count = len(only) or len(subscriptions)
    with _progress(console, "Fetching feeds", count) as advance:
        report = run_aggregate(
            subscriptions,
            community,
            force=force,
            only=only,
            on_feed=lambda feed: advance(feed.name),
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


def _subscriptions(
    settings_file: Path, console: Console, verb: str
) -> tuple[CommunitySettings, tuple[Subscription, ...]]:
    community = community_settings(settings_file)
    subscriptions = load_subscriptions(community.feeds_file)
    if not subscriptions:
        console.print(
            f"No community feeds in {community.feeds_file}: nothing to {verb}."
        )
    return community, subscriptions


@contextlib.contextmanager
def _progress(
    console: Console, description: str, total: int
) -> Iterator[Callable[[str], None]]:
    """A transient progress bar; the callable advances it by one feed."""
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(description, total=total)

        def advance(name: str) -> None:
            progress.update(task, advance=1, description=f"{name[:30]:<30}")

        yield advance


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


# What needs the editor, first; then what is merely worth knowing.
CHECK_ORDER = (
    Verdict.DEAD,
    Verdict.REFUSED,
    Verdict.MOVED,
    Verdict.BUSY,
    Verdict.REDIRECTED,
    Verdict.OK,
)
# What makes the command exit 1: a temporary redirect or a rate limit is
# worth knowing, not a fault of feeds.toml.
NEEDS_EDITOR = frozenset({Verdict.DEAD, Verdict.REFUSED, Verdict.MOVED})
CHECK_STYLE = {
    Verdict.DEAD: "red",
    Verdict.REFUSED: "red",
    Verdict.MOVED: "yellow",
    Verdict.BUSY: "yellow",
    Verdict.REDIRECTED: "cyan",
    Verdict.OK: "green",
}


def check(
    settings_file: Path,
    fix: bool = False,
    yes: bool = False,
    console: Console | None = None,
    ask=input,
) -> bool:
    """Fetch every feed of feeds.toml; list dead and moved ones. With ``fix``,
    write the permanent redirects into feeds.toml once the editor agrees
    (``yes`` agrees in advance). Returns whether feeds.toml needs nothing more
    (no dead feed, no unfollowed or unwritten redirect)."""
    console = console or terminal.console()
    community, subscriptions = _subscriptions(settings_file, console, "check")
    if not subscriptions:
        return True
    # Imported here: it brings the feed parser, which a warm aggregate run
    # (every feed 304) never needs.
    from community.check import check_feeds  # noqa: PLC0415

    with _progress(console, "Checking feeds", len(subscriptions)) as advance:
        checks = check_feeds(
            subscriptions,
            community.limits,
            on_feed=lambda checked: advance(checked.subscription.name),
        )
    listed = [c for c in checks if c.verdict is not Verdict.OK]
    if listed:
        console.print(check_table(listed))
    problems = [c for c in checks if c.verdict in NEEDS_EDITOR]
    counts = {v: sum(1 for c in checks if c.verdict is v) for v in CHECK_ORDER}
    console.print(
        f"{counted(len(checks), 'feed')} checked: "
        + ", ".join(f"{n} {v}" for v, n in counts.items() if n)
        + f" ({community.feeds_file})"
    )
    fixable = [c for c in checks if c.fixable]
    if not fixable:
        return not problems
    if not fix:
        console.print(
            f"{counted(len(fixable), 'feed has', 'feeds have')} moved permanently: "
            "`invoke feeds-check --fix` writes the new addresses into feeds.toml."
        )
        return False
    for c in fixable:
        console.print(f"{c.subscription.name}: {c.subscription.url} -> {c.moved_to}")
    question = (
        f"Write {counted(len(fixable), 'new address', 'new addresses')} "
        f"into {community.feeds_file}? [y/N] "
    )
    if not yes and not _agrees(ask, question):
        console.print("Nothing written.")
        return False
    report = apply_moves(
        community.feeds_file, {c.subscription.url: c.moved_to for c in fixable}
    )
    for old, new, why in report.skipped:
        console.print(f"not written: {old} -> {new}: {why}")
    console.print(
        f"{counted(len(report.applied), 'address', 'addresses')} updated "
        f"in {community.feeds_file}."
    )
    return len(report.applied) == len(problems)


def _agrees(ask, question: str) -> bool:
    try:
        answer = ask(question)
    except EOFError:  # no one to answer (stdin closed): no
        return False
    return answer.strip().lower() in ("y", "yes", "s", "si", "sì")


def check_table(checks: list[FeedCheck]) -> Table:
    """One row per feed that is not simply fine, the worst first."""
    table = Table(title="Community feeds to look at", title_justify="left")
    table.add_column("Feed")
    table.add_column("Result")
    table.add_column("HTTP", justify="right")
    table.add_column("Details", overflow="fold")
    for c in sorted(checks, key=lambda c: CHECK_ORDER.index(c.verdict)):
        chain = "".join(f"\n  {status} -> {url}" for status, url in c.redirects)
        table.add_row(
            f"{c.subscription.name}\n{c.subscription.url}",
            f"[{CHECK_STYLE[c.verdict]}]{c.verdict}[/]",
            str(c.status or "-"),
            c.detail + chain,
        )
    return table
