"""The Pelican glue: read the poll files, check every post's ``Poll:``,
take the numbers from the ideas service, prepare each poll for its page,
and write what the service learns (``output/polls.json``).

Thin: the checks are in definition.py, the service in results.py.
"""

from __future__ import annotations

import json
import logging
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from configuration import read_text
from polls import definition, results
from polls.model import Poll
from polls.settings import PollsError, PollsSettings
from wording import counted

logger = logging.getLogger(__name__)
_POLL_LINE = re.compile(r"^\s*poll\s*:", re.IGNORECASE)
_ATTRIBUTES = (
    "articles", "translations", "hidden_articles", "hidden_translations",
    "drafts", "drafts_translations", "pages", "hidden_pages", "draft_pages",
    "draft_translations",
)  # fmt: skip


def _relative(path: Path | str) -> str:
    """As an editor types it: relative to where the build runs, if inside."""
    relative = os.path.relpath(path, os.getcwd())
    return str(Path(path).resolve()) if relative.startswith("..") else relative


def load_polls(
    folder: Path, languages: list[str], zone: Any
) -> tuple[dict[str, Poll], list[str]]:
    """Every poll file in ``folder``: the good ones, and every problem."""
    polls: dict[str, Poll] = {}
    problems: list[str] = []
    if not folder.is_dir():
        return polls, problems
    for path in sorted(folder.glob("*.toml")):
        text = read_text(path, PollsError) or ""
        try:
            polls[path.stem] = definition.parse_poll(
                text, _relative(path), path.stem, languages=languages, zone=zone
            )
        except definition.Problems as exc:
            problems.extend(exc.problems)
    return polls, problems


def _poll_line(source: str) -> int:
    try:
        lines = Path(source).read_text(encoding="utf-8").splitlines()
    except OSError:
        return 1
    return next((n for n, line in enumerate(lines, 1) if _POLL_LINE.match(line)), 1)


def _contents(generators: list[Any]) -> list[Any]:
    seen: dict[int, Any] = {}
    for generator in generators:
        for attribute in _ATTRIBUTES:
            for content in getattr(generator, attribute, ()):
                seen.setdefault(id(content), content)
    return list(seen.values())


def prepare(generators: list[Any]) -> None:
    """After every generator read its content: give each post with a valid
    ``Poll:`` its ``poll_view``, and write the polls the service may take
    votes for. Every mistake is one error naming the file and line (a
    --fatal build stops; otherwise the post shows no poll)."""
    contents = _contents(generators)
    if not contents:
        return
    pelican = contents[0].settings
    settings = PollsSettings.from_pelican(pelican)
    languages = list(pelican.get("LANGUAGES") or [pelican["DEFAULT_LANG"]])
    default_lang = pelican["DEFAULT_LANG"]
    zone = ZoneInfo(pelican.get("TIMEZONE") or "UTC")
    polls, problems = load_polls(settings.folder, languages, zone)
    used: dict[str, list[Any]] = {}
    for content in contents:
        wanted = str(content.metadata.get("poll") or "").strip()
        if not wanted:
            continue
        if wanted in polls:
            used.setdefault(wanted, []).append(content)
            continue
        source = _relative(content.source_path)
        broken = (settings.folder / f"{wanted}.toml").is_file()
        problems.append(
            f"{source}:{_poll_line(content.source_path)}: Poll: {wanted!r} "
            + (
                "is declared in a poll file with mistakes (see above): fix it"
                if broken
                else f"has no poll file {_relative(settings.folder / wanted)}.toml: "
                "create it, or correct the id"
            )
        )
    if problems:
        logger.error(
            "%s:\n%s",
            counted(len(problems), "poll problem"),
            "\n".join(f"  {p}" for p in problems),
        )
    now = datetime.now(UTC)
    known = (
        results.load(settings.api_url, settings.cache, timeout=settings.timeout)
        if used
        else {}
    )
    public: dict[str, Poll] = {}
    for poll_id, users in used.items():
        poll = polls[poll_id]
        numbers = definition.choose_results(poll, known.get(poll_id), now)
        if poll.is_closed(now) and numbers is None:
            results.service_warning.warning(
                "polls: %s closed, but no numbers are known (service down, "
                "no copy, no [result] in the file): its pages say so",
                poll.source,
            )
        for content in users:
            content.poll_view = definition.view(
                poll, numbers, content.lang, default_lang=default_lang, now=now,
                api=settings.public_url,
            )  # fmt: skip
            if getattr(content, "status", "published") != "draft":
                public[poll_id] = poll
    _write(Path(pelican["OUTPUT_PATH"]) / settings.output, public)


def _write(target: Path, polls: dict[str, Poll]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(definition.published(polls), ensure_ascii=False, indent=1)
    target.write_text(text + "\n", encoding="utf-8")
    logger.info("wrote %s: %s", target.name, counted(len(polls), "poll"))
