"""One aggregate run: fetch the feeds that are due, fold them into the cache.

Feeds are fetched concurrently; each result is handled on its own (parsed in a
worker process when there are many) and written to that feed's files only. A
feed that fails gets a backoff and keeps its entries; nothing one feed does
can stop or change another. Nothing here raises for a feed's problems, and
nothing logs above INFO: the run's report says what happened, and the caller
(the `invoke aggregate` table, the build's status page) shows it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import multiprocessing
import shutil
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

import httpx

from community.cache import Cache, Meta
from community.errors import CommunityError
from community.fetch import FetchRequest, FetchResult, Outcome, fetch_each
from community.model import FeedState, Subscription
from community.settings import CommunitySettings, Rules
from wording import counted

logger = logging.getLogger(__name__)

# Below this many feeds to parse, starting worker processes costs more than
# it saves.
POOL_THRESHOLD = 8


class Status(StrEnum):
    UPDATED = "updated"
    NOT_MODIFIED = "not modified"
    UNCHANGED = "unchanged"
    GONE = "gone"
    RATE_LIMITED = "rate limited"
    FAILED = "failed"
    SKIPPED = "skipped"

    @property
    def ok(self) -> bool:
        return self in (Status.UPDATED, Status.NOT_MODIFIED, Status.UNCHANGED)


@dataclass(frozen=True)
class FeedReport:
    """How one feed fared in a run, for the summary table."""

    slug: str
    name: str
    status: Status
    message: str
    new_entries: int = 0
    entries_held: int = 0
    # Entries of this fetch left out: older than the maximum age, the same
    # entry twice in the feed, refused by the feed's filters.
    dropped_old: int = 0
    dropped_duplicates: int = 0
    dropped_filtered: int = 0
    http_status: int | None = None
    elapsed: float = 0.0
    moved_to: str | None = None


@dataclass(frozen=True)
class AggregateReport:
    """A whole run: one report per subscription, in feeds.toml order."""

    feeds: tuple[FeedReport, ...]
    generated_at: datetime
    cache_dir: Path

    @property
    def new_entries(self) -> int:
        return sum(f.new_entries for f in self.feeds)

    @property
    def dropped(self) -> dict[str, int]:
        """Entries left out in this run, by reason."""
        return {
            "old": sum(f.dropped_old for f in self.feeds),
            "duplicates": sum(f.dropped_duplicates for f in self.feeds),
            "filtered": sum(f.dropped_filtered for f in self.feeds),
        }

    @property
    def problems(self) -> tuple[FeedReport, ...]:
        return tuple(f for f in self.feeds if not f.status.ok or f.moved_to is not None)


@dataclass(frozen=True)
class Run:
    """What all feeds of one run share (picklable, for worker processes)."""

    cache_dir: Path
    now: datetime
    rules: Rules


# --- State transitions (pure) -------------------------------------------------


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def succeeded(
    state: FeedState, result: FetchResult, now: datetime, **changes: object
) -> FeedState:
    """The state after an answer we could use (200 or 304)."""
    validators = {
        "etag": result.etag,
        "last_modified": result.last_modified,
    }
    if result.outcome is Outcome.NOT_MODIFIED:
        validators = {k: v or getattr(state, k) for k, v in validators.items()}
    return replace(
        state,
        **validators,
        moved_to=result.moved_to or state.moved_to,
        last_attempt=now,
        last_success=now,
        last_status=result.status,
        failures=0,
        failing_since=None,
        quarantined=False,
        next_attempt=None,
        **changes,
    )


def failed(
    state: FeedState,
    now: datetime,
    rules: Rules,
    error: str,
    *,
    status: int | None = None,
    retry_after: float | None = None,
    count: bool = True,
    moved_to: str | None = None,
) -> FeedState:
    """The state after a failure: the error, and when to try again.

    Each consecutive failure doubles the wait (from ``rules.backoff`` up to
    ``rules.backoff_max``); a server's Retry-After, within the maximum, wins.
    A rate limit (``count=False``) waits without counting as a failure.
    After ``rules.quarantine_after`` failures in a row the feed is in
    quarantine: it waits ``rules.quarantine_retry`` (a day) between tries.
    """
    failures = state.failures + 1 if count else state.failures
    since = state.failing_since if state.failures else None
    if count and since is None:
        since = now
    quarantined = state.quarantined or (count and failures >= rules.quarantine_after)
    wait = min(rules.backoff * 2 ** max(failures - 1, 0), rules.backoff_max)
    if retry_after is not None:
        wait = min(max(retry_after, 1.0), rules.backoff_max)
    if quarantined and count:
        wait = rules.quarantine_retry
    return replace(
        state,
        moved_to=moved_to or state.moved_to,
        last_attempt=now,
        last_status=status,
        last_error=error,
        last_error_at=now,
        failures=failures,
        failing_since=since,
        quarantined=quarantined,
        next_attempt=now + timedelta(seconds=wait),
    )


def _next_try(before: FeedState, after: FeedState) -> str:
    """ "; next try after ..." for a failure's message, saying when it put the
    feed into quarantine."""
    when = _when(after.next_attempt)
    if after.quarantined and not before.quarantined:
        return (
            f"; in quarantine after {counted(after.failures, 'error')} in a row "
            f"since {_when(after.failing_since)}: tried once a day, next after {when}"
        )
    if after.quarantined:
        return f"; still in quarantine, next try after {when}"
    return f"; next try after {when}"


def record_answer(
    run: Run, sub: Subscription, state: FeedState, result: FetchResult
) -> FeedReport:
    """Handle a result without a body (304, 410, 429, errors) and save the state."""
    cache, now, rules = Cache(run.cache_dir), run.now, run.rules
    report = {
        "slug": sub.slug,
        "name": sub.name,
        "http_status": result.status,
        "elapsed": result.elapsed,
        "entries_held": state.entries_held,
    }
    if result.outcome is Outcome.NOT_MODIFIED:
        new_state = succeeded(state, result, now)
        status, message = Status.NOT_MODIFIED, "not modified (304)"
    elif result.outcome is Outcome.GONE:
        new_state = replace(
            state,
            gone=True,
            last_attempt=now,
            last_status=result.status,
            last_error=result.error,
            last_error_at=now,
        )
        status = Status.GONE
        message = (
            "410 Gone: no longer fetched, its entries stay; "
            "remove it from feeds.toml or give it a new URL"
        )
    elif result.outcome is Outcome.RATE_LIMITED:
        new_state = failed(
            state,
            now,
            rules,
            result.error or "rate limited",
            status=result.status,
            retry_after=result.retry_after,
            count=False,
            moved_to=result.moved_to,
        )
        status = Status.RATE_LIMITED
        message = f"{result.error}{_next_try(state, new_state)}"
    else:
        new_state = failed(
            state,
            now,
            rules,
            result.error or "failed",
            status=result.status,
            retry_after=result.retry_after,
            moved_to=result.moved_to,
        )
        status = Status.FAILED
        message = f"{result.error}{_next_try(state, new_state)}"
    cache.save_state(sub.slug, new_state)
    return FeedReport(
        **report, status=status, message=message, moved_to=new_state.moved_to
    )


def process_body(
    run: Run, sub: Subscription, state: FeedState, result: FetchResult
) -> FeedReport:
    """Parse a fetched body and fold it into the feed's cached entries.

    Runs in a worker process when there are many feeds: it takes and returns
    plain picklable data, and touches only this feed's files.
    """
    # Imported at the first body: a run where every feed answers 304 needs
    # no parser (feedparser, chardet, the sanitiser) at all.
    from community.normalize import (  # noqa: PLC0415
        NotAFeed,
        candidates,
        merge,
        parse_feed,
    )

    cache, now, rules = Cache(run.cache_dir), run.now, run.rules
    body = result.body or b""
    body_hash = hashlib.sha256(body).hexdigest()
    base = {"slug": sub.slug, "name": sub.name, "http_status": result.status}
    base["elapsed"] = result.elapsed
    previous = cache.load_entries(sub.slug)
    if previous is not None and body_hash == state.body_hash:
        # The server ignored our validators but sent the same bytes.
        new_state = succeeded(
            state, result, now, body_hash=body_hash, entries_held=len(previous.entries)
        )
        cache.save_state(sub.slug, new_state)
        return FeedReport(
            **base,
            status=Status.UNCHANGED,
            message="unchanged (same content)",
            entries_held=len(previous.entries),
            moved_to=new_state.moved_to,
        )
    final_url = result.final_url or result.url
    try:
        parsed = parse_feed(body, url=final_url, content_type=result.content_type)
    except NotAFeed as exc:
        cache.save_raw(sub.slug, body)  # for the editor to look at
        new_state = failed(
            state, now, rules, str(exc), status=result.status, moved_to=result.moved_to
        )
        cache.save_state(sub.slug, new_state)
        return FeedReport(
            **base,
            status=Status.FAILED,
            message=f"{exc}{_next_try(state, new_state)}",
            entries_held=state.entries_held,
            moved_to=new_state.moved_to,
        )
    if parsed.problem:
        cache.save_raw(sub.slug, body)  # what was recovered from, for a look
    found = candidates(parsed, sub, base_url=final_url, rules=rules)
    merged = merge(found, previous, sub, now=now, rules=rules)
    feed_entries, new = merged.entries, merged.new
    dropped = {
        "dropped_old": merged.too_old,
        "dropped_duplicates": len(parsed.entries) - len(found),
        "dropped_filtered": merged.filtered,
    }
    cache.save_entries(sub.slug, feed_entries)
    held = len(feed_entries.entries)
    new_state = succeeded(
        state,
        result,
        now,
        body_hash=body_hash,
        title=parsed.title or state.title,
        home=parsed.home or state.home,
        notice="; ".join(
            note
            for note in (
                f"not well-formed, {counted(len(found), 'entry', 'entries')} "
                f"recovered ({parsed.problem})"
                if parsed.problem
                else None,
                parsed.encoding_note,
            )
            if note
        )
        or None,
        entries_held=held,
        **dropped,
    )
    cache.save_state(sub.slug, new_state)
    message = f"{new} new" if new else "no new entries"
    message += dropped_words(**dropped, max_age_days=rules.max_age_days)
    if parsed.problem:
        message += " (feed not well-formed; entries recovered)"
    return FeedReport(
        **base,
        status=Status.UPDATED,
        message=message,
        new_entries=new,
        entries_held=held,
        moved_to=new_state.moved_to,
        **dropped,
    )


def dropped_words(
    *,
    dropped_old: int,
    dropped_duplicates: int,
    dropped_filtered: int,
    max_age_days: int,
) -> str:
    """ "; 3 older than 365 days, 1 duplicate, 2 filtered out", or nothing."""
    parts = []
    if dropped_old:
        parts.append(f"{dropped_old} older than {counted(max_age_days, 'day')}")
    if dropped_duplicates:
        parts.append(counted(dropped_duplicates, "duplicate"))
    if dropped_filtered:
        parts.append(f"{dropped_filtered} filtered out")
    return f"; {', '.join(parts)} left out" if parts else ""


# --- A run ----------------------------------------------------------------------


def _skip_reason(state: FeedState, now: datetime) -> str | None:
    if state.gone:
        return "gone (410): not fetched; remove it from feeds.toml or change its URL"
    if state.quarantined and state.next_attempt and state.next_attempt > now:
        since = f" since {_when(state.failing_since)}" if state.failing_since else ""
        return (
            f"in quarantine ({counted(state.failures, 'error')} in a row{since}): "
            f"next try after {_when(state.next_attempt)}"
        )
    if state.next_attempt and state.next_attempt > now:
        why = (
            f"after {counted(state.failures, 'error')}"
            if state.failures
            else "rate limited"
        )
        return f"waiting ({why}) until {_when(state.next_attempt)}"
    return None


def run_aggregate(
    subscriptions: Sequence[Subscription],
    settings: CommunitySettings,
    *,
    now: datetime | None = None,
    force: bool = False,
    only: Sequence[str] = (),
    transport: httpx.AsyncBaseTransport | None = None,
    on_feed: Callable[[FeedReport], None] | None = None,
) -> AggregateReport:
    """Fetch every due subscription into ``settings.cache_dir``.

    ``force`` fetches feeds that are backing off or gone too; ``only`` limits
    the run to some slugs. ``now`` and ``transport`` are for tests and for
    making snapshots. ``on_feed`` is called as each feed is done (progress).
    Raises :class:`CommunityError` only for an unknown slug in ``only``.
    """
    now = now or datetime.now(UTC).replace(microsecond=0)
    cache = Cache(settings.cache_dir)
    seed_from_snapshot(settings)
    known = {s.slug for s in subscriptions}
    for slug in only:
        if slug not in known:
            raise CommunityError(
                f"no feed with slug {slug!r} in feeds.toml "
                f"(known: {', '.join(sorted(known)) or 'none'})"
            )
    reports: dict[str, FeedReport] = {}
    due: list[tuple[Subscription, FeedState]] = []
    for sub in subscriptions:
        if only and sub.slug not in only:
            continue
        state = cache.load_state(sub.slug, sub.url)
        reason = None if force else _skip_reason(state, now)
        if reason:
            reports[sub.slug] = FeedReport(
                sub.slug,
                sub.name,
                Status.SKIPPED,
                reason,
                entries_held=state.entries_held,
                moved_to=state.moved_to,
            )
            if on_feed:
                on_feed(reports[sub.slug])
        else:
            due.append((sub, state))
    if due:
        run = Run(settings.cache_dir, now, settings.rules)
        # Worker processes cost time to start. When many feeds have no
        # validators (a first run), bodies will come: start them now, before
        # the event loop, while this process is still single-threaded (so
        # they can be forked, the fastest way). Otherwise they start with the
        # first body, so a run where every feed answers 304 never pays.
        fresh = sum(1 for _s, state in due if not (state.etag or state.last_modified))
        early = (
            _pool(settings.workers, len(due))
            if _wants_pool(settings, due) and fresh >= POOL_THRESHOLD
            else None
        )
        fold = _fetch_and_fold(
            due, run, settings, transport=transport, on_feed=on_feed, pool=early
        )
        for report in run_coroutine(fold):
            reports[report.slug] = report
    cache.save_meta(Meta(generated_at=now))
    ordered = tuple(reports[s.slug] for s in subscriptions if s.slug in reports)
    for report in ordered:
        logger.info("community: %s: %s", report.name, report.message)
    return AggregateReport(ordered, now, settings.cache_dir)


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def run_coroutine(coroutine):
    """asyncio.run, also from a thread whose event loop is already running
    (a notebook, or Playwright's sync API in the test session): then the run
    gets a thread, and a loop, of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def seed_from_snapshot(settings: CommunitySettings) -> bool:
    """Start a cache that has never been filled from the shipped snapshot.

    The first `invoke aggregate` then builds on the entries the site already
    shows: a feed that can't be reached keeps them, as it would in any later
    run. Returns whether the snapshot was copied.
    """
    cache, snapshot = Cache(settings.cache_dir), Cache(settings.snapshot_dir)
    if cache.exists() or not snapshot.exists() or cache.root == snapshot.root:
        return False
    for kind in ("state", "entries"):
        source = snapshot.root / kind
        if source.is_dir():
            shutil.copytree(source, cache.root / kind, dirs_exist_ok=True)
    return True


def _wants_pool(settings: CommunitySettings, due: Sequence[object]) -> bool:
    return settings.workers > 1 and len(due) >= POOL_THRESHOLD


def _pool(workers: int, jobs: int) -> Executor:
    initializer = None
    if threading.active_count() == 1 and not _in_event_loop():
        # A single-threaded process with no loop running forks safely, and a
        # forked worker starts at once. Each imports the parser itself, on
        # its own core, while this process goes on to fetch: importing it
        # here first would keep every core but one idle meanwhile.
        context = multiprocessing.get_context("fork")
        initializer = _import_parser
    else:
        # Otherwise workers fork from a clean server process, never from this
        # one with its threads, event loop and sockets.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["community.aggregate", "community.normalize"])
    count = min(workers, jobs)
    pool = ProcessPoolExecutor(
        max_workers=count, mp_context=context, initializer=initializer
    )
    # Start the workers now, not at the first real jobs.
    for _ in range(count):
        pool.submit(int)
    return pool


def _import_parser() -> None:
    # Should the import fail, the pool would break and every feed say only
    # "BrokenProcessPool"; left to the first job, each says what failed.
    with contextlib.suppress(Exception):
        import community.normalize  # noqa: F401, PLC0415


async def _fetch_and_fold(
    due: Sequence[tuple[Subscription, FeedState]],
    run: Run,
    settings: CommunitySettings,
    *,
    transport: httpx.AsyncBaseTransport | None,
    on_feed: Callable[[FeedReport], None] | None,
    pool: Executor | None = None,
) -> list[FeedReport]:
    loop = asyncio.get_running_loop()
    by_slug = {sub.slug: (sub, state) for sub, state in due}
    requests = [
        FetchRequest(sub.slug, state.fetch_url, state.etag, state.last_modified)
        for sub, state in due
    ]
    use_pool = _wants_pool(settings, due)
    reports: list[FeedReport] = []

    def done(report: FeedReport) -> FeedReport:
        reports.append(report)
        if on_feed:
            on_feed(report)
        return report

    async def in_pool(sub: Subscription, state: FeedState, result: FetchResult) -> None:
        try:
            report = await loop.run_in_executor(
                pool, process_body, run, sub, state, result
            )
        except Exception as exc:  # noqa: BLE001 - logged below; isolates the feed
            report = _internal_error(run, sub, state, result, exc)
        done(report)

    pending = []
    try:
        async for result in fetch_each(requests, settings.limits, transport=transport):
            sub, state = by_slug[result.key]
            if result.outcome is not Outcome.FETCHED:
                done(record_answer(run, sub, state, result))
            elif use_pool:
                pool = pool or _pool(settings.workers, len(due))
                pending.append(asyncio.create_task(in_pool(sub, state, result)))
            else:
                try:
                    report = process_body(run, sub, state, result)
                except Exception as exc:  # noqa: BLE001 - logged; isolates the feed
                    report = _internal_error(run, sub, state, result, exc)
                done(report)
        await asyncio.gather(*pending)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return reports


def _internal_error(
    run: Run, sub: Subscription, state: FeedState, result: FetchResult, exc: Exception
) -> FeedReport:
    """A bug met while handling one feed: logged with its traceback, the feed
    backs off like after any failure, the run goes on."""
    logger.info(
        "community: unexpected error handling %s (%s)", sub.name, sub.url, exc_info=exc
    )
    error = f"internal error: {type(exc).__name__}: {exc}"
    new_state = failed(state, run.now, run.rules, error, status=result.status)
    with contextlib.suppress(OSError):
        Cache(run.cache_dir).save_state(sub.slug, new_state)
    return FeedReport(
        sub.slug,
        sub.name,
        Status.FAILED,
        error,
        entries_held=state.entries_held,
        http_status=result.status,
        elapsed=result.elapsed,
    )
