"""An accepted idea written into git as content: ``content/ideas/<slug>.<lang>.md``.

The company's decisions live in git, reviewed and published like posts; the
board (a later plugin) reads these files. The body is the description as the
service sanitised it (HTML, which Markdown passes through): what a reader
wrote never reaches the site unsanitised, whatever reads the file. A file is
never overwritten: a second idea with the same title gets ``-<id>``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from services.ideas.model import Idea
from services.ideas.rules import slugify

TIMEZONE = ZoneInfo("Europe/Rome")  # the site's (pelicanconf.TIMEZONE)


class ContentError(Exception):
    """The idea's file could not be written (the message names it)."""


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _local(stamp: float) -> str:
    return (
        datetime.fromtimestamp(stamp, UTC)
        .astimezone(TIMEZONE)
        .strftime("%Y-%m-%d %H:%M")
    )


def decision(idea: Idea) -> list[tuple[str, str]]:
    """The metadata that changes with each decision: the status, its date,
    the company's latest answer, the original of a duplicate. Earlier
    decisions stay in the service's history and in git's."""
    latest = idea.history[-1] if idea.history else None
    return [
        ("Status", idea.status),
        ("Status-Date", _local(latest.created) if latest else ""),
        ("Answer-It", _one_line(latest.answer_it) if latest else ""),
        ("Answer-En", _one_line(latest.answer_en) if latest else ""),
        ("Duplicate-Of", str(idea.duplicate_of) if idea.duplicate_of else ""),
    ]


def render(idea: Idea, slug: str) -> str:
    """The file's text: Pelican-style metadata, a blank line, the body."""
    metadata = [
        ("Title", _one_line(idea.title)),
        ("Date", _local(idea.published or idea.created)),
        ("Category", idea.category),
        ("Idea-Id", str(idea.id)),
        ("Lang", idea.lang),
        ("Slug", slug),
        ("Proposed-By", _one_line(idea.author_name)),
        *decision(idea),
    ]
    head = "".join(f"{key}: {value}\n" for key, value in metadata if value)
    return f"{head}\n{idea.description_html.strip()}\n"


def find(number: int, folder: Path) -> list[Path]:
    """The content files of idea ``number`` (its translations included)."""
    found = []
    for path in sorted(folder.glob("*.md")) if folder.is_dir() else ():
        head = path.read_text(encoding="utf-8").split("\n\n", 1)[0]
        if f"\nIdea-Id: {number}\n" in f"\n{head}\n":
            found.append(path)
    return found


def update(idea: Idea, folder: Path) -> list[Path]:
    """Record a new decision in the idea's files (each translation): the
    decision's lines are replaced, every other line (a title or text the
    editors changed) is kept. The files changed, for the editor to commit."""
    changed = []
    fresh = dict(decision(idea))
    for path in find(idea.id, folder):
        head, _, body = path.read_text(encoding="utf-8").partition("\n\n")
        kept = [
            line
            for line in head.splitlines()
            if line.partition(":")[0].strip() not in fresh
        ]
        lines = kept + [f"{key}: {value}" for key, value in fresh.items() if value]
        try:
            path.write_text("\n".join(lines) + "\n\n" + body, encoding="utf-8")
        except OSError as exc:
            raise ContentError(f"{path}: cannot write it ({exc})") from None
        changed.append(path)
    return changed


def _names(idea: Idea) -> tuple[str, str]:
    base = slugify(idea.title)
    return base, f"{base}-{idea.id}"


def free_name(idea: Idea, folder: Path) -> Path:
    """The file ``write`` would make, or ContentError if both names are taken."""
    for slug in _names(idea):
        path = folder / f"{slug}.{idea.lang}.md"
        if not path.exists():
            return path
    base, numbered = _names(idea)
    raise ContentError(
        f"{folder / f'{base}.{idea.lang}.md'} and {numbered}.{idea.lang}.md "
        "exist already: move one away, then accept again"
    )


def write(idea: Idea, folder: Path) -> Path:
    """Write ``idea`` into ``folder`` under a name no file has yet."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ContentError(f"{folder}: cannot create the folder ({exc})") from None
    for slug in _names(idea):
        path = folder / f"{slug}.{idea.lang}.md"
        try:
            with path.open("x", encoding="utf-8") as file:
                file.write(render(idea, slug))
        except FileExistsError:
            continue
        except OSError as exc:
            raise ContentError(f"{path}: cannot write it ({exc})") from None
        return path
    free_name(idea, folder)  # raises, naming the files
    raise AssertionError("unreachable")
