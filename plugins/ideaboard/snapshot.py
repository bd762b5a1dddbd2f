"""The edge: the ideas service's snapshot (``GET /snapshot``) for the build.

The service is the source of truth for support and statuses; the build only
reads it. Every answer is bounded (a timeout, a size limit) and checked. A
good answer is kept in a cache file (``var/ideas/snapshot.json``); a service
that is down, slow or answering nonsense means a warning naming the URL and
the last known snapshot from that file, never a failed build. One malformed
idea is left out with a warning naming it; the others stay.

The report (piazza/report) reads the same snapshot through :func:`load`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from ideaboard.model import Change, IdeaNumbers, Snapshot
from ideaboard.settings import STATUSES
from sanitize import sanitize_html
from wholefile import write_whole

# Pelican turns warnings into a stop under --fatal warnings; a service that
# is down is no fault of the content (as for the comments): these warnings go
# through a plain logger, shown like any, and the build goes on.
logger = logging.Logger(__name__)
logger.parent = logging.getLogger()

TIMEOUT = 10.0
MAX_BYTES = 64 * 1024 * 1024
ACCEPT = {"Accept": "application/json"}
EMPTY = Snapshot(ideas=(), generated=None, budget=10, recent_days=30, stale=True)


class SnapshotError(Exception):
    """The service's answer (or the cache) is not a snapshot; says why."""


def _date(value: Any, field: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        found = datetime.fromisoformat(str(value))
    except ValueError:
        raise SnapshotError(f"{field}: {value!r} is not an ISO 8601 date") from None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def _count(data: Mapping[str, Any], key: str, field: str) -> int:
    value = data.get(key, 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise SnapshotError(f"{field}.{key}: {value!r} is not a count")
    return value


def _text(value: Any) -> str:
    return " ".join(str(value or "").split())


def parse_idea(data: Mapping[str, Any]) -> IdeaNumbers:
    """One idea of the answer, checked; SnapshotError names what is wrong."""
    if not isinstance(data, Mapping):
        raise SnapshotError("an idea is not an object")
    number = data.get("id")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise SnapshotError(f"id {number!r} is not an idea number")
    field = f"idea {number}"
    status = data.get("status")
    if status not in STATUSES:
        raise SnapshotError(f"{field}: unknown status {status!r}")
    lang = data.get("lang")
    if lang not in ("it", "en"):
        raise SnapshotError(f"{field}: unknown language {lang!r}")
    counts = data.get("counts")
    if not isinstance(counts, Mapping):
        raise SnapshotError(f"{field}: no counts")
    history = []
    for index, change in enumerate(data.get("history") or ()):
        where = f"{field}: history[{index}]"
        if not isinstance(change, Mapping) or change.get("status") not in STATUSES:
            raise SnapshotError(f"{where}: not a status change")
        answer = change.get("answer")
        answer = answer if isinstance(answer, Mapping) else {}
        date = _date(change.get("date"), f"{where}.date")
        if date is None:
            raise SnapshotError(f"{where}: no date")
        history.append(
            Change(
                status=change["status"],
                answer_it=_text(answer.get("it")),
                answer_en=_text(answer.get("en")),
                date=date,
            )
        )
    duplicate = data.get("duplicate_of")
    if duplicate is not None and (not isinstance(duplicate, int) or duplicate < 1):
        raise SnapshotError(f"{field}: duplicate_of {duplicate!r} is not an idea")
    return IdeaNumbers(
        id=number,
        title=_text(data.get("title"))[:300],
        description_html=sanitize_html(str(data.get("description_html") or "")),
        category=_text(data.get("category"))[:60],
        lang=lang,
        author=_text(data.get("author"))[:120],
        status=status,
        duplicate_of=duplicate,
        created=_date(data.get("created"), f"{field}.created"),
        published=_date(data.get("published"), f"{field}.published"),
        supporters=_count(counts, "supporters", f"{field}.counts"),
        confirmed=_count(counts, "confirmed", f"{field}.counts"),
        recent=_count(data, "recent", field),
        history=tuple(history),
    )


def parse(data: Any, *, stale: bool, where: str) -> Snapshot:
    """A whole answer; a malformed idea is left out with a warning."""
    if not isinstance(data, Mapping) or not isinstance(data.get("ideas"), list):
        raise SnapshotError("not a snapshot (no list of ideas)")
    ideas = []
    for item in data["ideas"]:
        try:
            ideas.append(parse_idea(item))
        except SnapshotError as exc:
            logger.warning("ideas snapshot %s: %s; that idea is left out", where, exc)
    budget = data.get("budget", 10)
    days = data.get("recent_days", 30)
    return Snapshot(
        ideas=tuple(sorted(ideas, key=lambda idea: idea.id)),
        generated=_date(data.get("generated"), "generated"),
        budget=budget if isinstance(budget, int) and budget > 0 else 10,
        recent_days=days if isinstance(days, int) and days > 0 else 30,
        stale=stale,
    )


def get_bytes(target: str, *, timeout: float, max_bytes: int) -> bytes:
    """The body of a GET of ``target`` (HTTP 200 only, at most ``max_bytes``);
    OSError says what failed. Shared by the edges that read the ideas
    service (this snapshot, the polls' numbers)."""
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=False) as client,
            client.stream("GET", target, headers=ACCEPT) as answer,
        ):
            if answer.status_code != 200:
                raise OSError(f"{target}: HTTP {answer.status_code}")
            body = bytearray()
            for chunk in answer.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise OSError(f"{target}: answer over {max_bytes} bytes")
            return bytes(body)
    except httpx.HTTPError as exc:
        raise OSError(f"{target}: {exc.__class__.__name__}: {exc}") from None


def fetch(url: str, *, timeout: float = TIMEOUT, max_bytes: int = MAX_BYTES) -> bytes:
    """The raw answer of ``<url>/snapshot``; SnapshotError says what failed."""
    try:
        return get_bytes(
            url.rstrip("/") + "/snapshot", timeout=timeout, max_bytes=max_bytes
        )
    except OSError as exc:
        raise SnapshotError(str(exc)) from None


def _save(cache: Path, body: bytes) -> None:
    try:
        write_whole(cache, body)
    except OSError as exc:
        logger.warning("ideas snapshot: could not keep a copy in %s (%s)", cache, exc)


def _cached(cache: Path) -> Snapshot:
    if not cache.is_file():
        return EMPTY
    try:
        data = json.loads(cache.read_bytes())
        return parse(data, stale=True, where=str(cache))
    except (OSError, ValueError, SnapshotError) as exc:
        logger.warning("ideas snapshot: the last copy %s is unusable (%s)", cache, exc)
        return EMPTY


def load(url: str | None, cache: Path, *, timeout: float = TIMEOUT) -> Snapshot:
    """The service's snapshot, kept in ``cache``; without a ``url``, or with a
    service that can't answer, the last known one (``stale``), with a
    warning that says from when; with nothing known, an empty one."""
    if not url:
        return _cached(cache)
    try:
        body = fetch(url, timeout=timeout)
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise SnapshotError(f"{url}/snapshot: not JSON ({exc})") from None
        found = parse(data, stale=False, where=f"{url}/snapshot")
    except SnapshotError as exc:
        last = _cached(cache)
        since = last.generated.isoformat() if last.generated else "never"
        logger.warning(
            "ideas service unreachable (%s): the board shows the last known "
            "numbers (from %s)",
            exc,
            since,
        )
        return last
    _save(cache, body)
    return found
