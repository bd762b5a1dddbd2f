"""`invoke poll-result`: write a closed poll's final numbers into its file.

Once a poll has closed, the ideas service refuses votes and its numbers are
final. This reads them (``GET <IDEAS_API_URL>/polls``) and appends them to
content/polls/<id>.toml as its ``[result]`` table, so the result is part of
the site's record in git, reviewed and published like everything else, and
built the same way with or without the service (plugins/polls).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from polls import definition, results
from polls.settings import PollsError, PollsSettings


def record_result(
    pelican: Mapping[str, Any],
    poll_id: str,
    *,
    url: str | None = None,
    now: datetime | None = None,
) -> Path:
    """Append the service's final numbers for ``poll_id`` to its file; the
    file. PollsError says what stands in the way."""
    settings = PollsSettings.from_pelican(pelican)
    path = settings.folder / f"{poll_id}.toml"
    if not path.is_file():
        raise PollsError(f"{path}: no such poll file (the poll's id is its name)")
    zone = ZoneInfo(pelican.get("TIMEZONE") or "UTC")
    languages = list(pelican.get("LANGUAGES") or [pelican["DEFAULT_LANG"]])
    text = path.read_text(encoding="utf-8")
    try:
        poll = definition.parse_poll(
            text, str(path), poll_id, languages=languages, zone=zone
        )
    except definition.Problems as exc:
        raise PollsError(f"fix the poll file first:\n{exc}") from None
    if not poll.is_closed(now or datetime.now(UTC)):
        raise PollsError(
            f"{path}: the poll is open until {poll.closes.isoformat()}: record "
            "its result once it has closed"
        )
    if poll.record is not None:
        raise PollsError(
            f"{path}: it has a [result] already (recorded "
            f"{poll.record.recorded.isoformat()}); delete that table to record again"
        )
    api = (url or settings.api_url or "").rstrip("/")
    if not api:
        raise PollsError("set IDEAS_API_URL (or pass --url) to reach the ideas service")
    try:
        known = results.parse(json.loads(results.fetch(api, timeout=30)), "service")
    except (results.ResultsError, ValueError) as exc:
        raise PollsError(f"the ideas service did not answer: {exc}") from None
    if poll_id not in known:
        raise PollsError(
            f"{api}/polls does not list {poll_id!r}: the service takes its polls "
            "from the live release's polls.json (IDEAS_POLLS_FILE)"
        )
    found = known[poll_id]
    recorded = (found.as_of or datetime.now(UTC)).astimezone(zone)
    lines = [
        "",
        f"# The final numbers, read from {api}/polls (invoke poll-result).",
        "[result]",
        f"recorded = {recorded.isoformat(timespec='seconds')}",
        *(f"{key} = {found.totals.get(key, 0)}" for key in poll.option_keys()),
    ]
    updated = text.rstrip("\n") + "\n" + "\n".join(lines) + "\n"
    definition.parse_poll(updated, str(path), poll_id, languages=languages, zone=zone)
    path.write_text(updated, encoding="utf-8")
    return path
