"""The edge: the polls' numbers from the ideas service (``GET /polls``).

The service is the source of truth; the build only reads it. The answer is
bounded (a timeout, a size limit) and checked; a good one is kept in a cache
file (``POLLS_CACHE``). A service that is down, slow or answering nonsense
means a warning naming the URL and the last known numbers, never a failed
build (as the ideas board's snapshot, plugins/ideaboard/snapshot.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ideaboard.snapshot import get_bytes

from polls.model import Results
from wholefile import write_whole

logger = logging.getLogger(__name__)
# Pelican's loggers turn every warning into a stop under --fatal warnings. A
# service that is down is no fault of the content (plugins/comments does the
# same): its warning goes through a plain logger, and the build goes on.
service_warning = logging.Logger(f"{__name__}.service")
service_warning.parent = logging.getLogger()
MAX_BYTES = 4 * 1024 * 1024


class ResultsError(Exception):
    """The answer (or the cache) is not the polls' numbers; says why."""


def parse(data: Any, source: str) -> dict[str, Results]:
    """``{poll id: Results}`` from an answer of ``GET /polls``."""
    if not isinstance(data, Mapping) or not isinstance(data.get("polls"), Mapping):
        raise ResultsError('not the polls\' numbers (no "polls" object)')
    try:
        as_of = datetime.fromisoformat(str(data.get("generated")))
    except ValueError:
        raise ResultsError("generated: not an ISO 8601 date") from None
    as_of = as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)
    found = {}
    for poll, numbers in data["polls"].items():
        totals = numbers.get("totals") if isinstance(numbers, Mapping) else None
        if not isinstance(totals, Mapping) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0
            for v in totals.values()
        ):
            raise ResultsError(f"poll {poll!r}: totals are not counts")
        found[str(poll)] = Results(
            {str(k): v for k, v in totals.items()}, as_of, source
        )
    return found


def fetch(url: str, *, timeout: float) -> bytes:
    try:
        return get_bytes(f"{url}/polls", timeout=timeout, max_bytes=MAX_BYTES)
    except OSError as exc:
        raise ResultsError(str(exc)) from None


def _cached(cache: Path) -> dict[str, Results]:
    if not cache.is_file():
        return {}
    try:
        return parse(json.loads(cache.read_bytes()), "cache")
    except (OSError, ValueError, ResultsError) as exc:
        service_warning.warning(
            "polls: the last known numbers %s are unusable (%s)", cache, exc
        )
        return {}


def _save(cache: Path, body: bytes) -> None:
    try:
        write_whole(cache, body)
    except OSError as exc:
        service_warning.warning("polls: could not keep a copy in %s (%s)", cache, exc)


def load(url: str | None, cache: Path, *, timeout: float) -> dict[str, Results]:
    """The service's numbers, kept in ``cache``; without a ``url``, or with
    a service that can't answer, the last known ones, with a warning."""
    if not url:
        return _cached(cache)
    try:
        body = fetch(url, timeout=timeout)
        try:
            found = parse(json.loads(body), "service")
        except ValueError as exc:
            raise ResultsError(f"{url}/polls: not JSON ({exc})") from None
    except ResultsError as exc:
        last = _cached(cache)
        since = min((r.as_of for r in last.values() if r.as_of), default=None)
        service_warning.warning(
            "ideas service unreachable for the polls (%s): the pages show the "
            "last known numbers (from %s)",
            exc,
            since.isoformat() if since else "never: no numbers",
        )
        return last
    _save(cache, body)
    return found
