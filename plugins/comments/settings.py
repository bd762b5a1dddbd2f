"""Settings of the comments plugin: defaults in one dict, read into one object.

Every setting can be overridden in ``pelicanconf.py``/``publishconf.py``.
A relative ``COMMENTS_STAFF_FILE`` is inside the content folder (``PATH``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from comments.errors import CommentsError
from configuration import integer, number

DEFAULTS: dict[str, Any] = {
    # Where readers' browsers reach Isso: "/comments" behind nginx, or
    # "http://localhost:8080" in development. None turns comments off.
    "ISSO_URL": None,
    # Where the build reaches Isso for the static snapshot (default: ISSO_URL).
    # It must be absolute; a relative one means a warning and no snapshot.
    "ISSO_API_URL": None,
    # Render the published comments into the pages at build time.
    "COMMENTS_SNAPSHOT": True,
    # Seconds the build waits for each answer of Isso (connect and read).
    "COMMENTS_TIMEOUT": 5.0,
    # Largest answer read from Isso, in bytes: a bigger one is refused (the
    # build goes on without the snapshot, with a warning).
    "COMMENTS_MAX_BYTES": 16 * 1024 * 1024,
    # Threads read from Isso at once.
    "COMMENTS_WORKERS": 8,
    # The company's people who answer readers (see the file's own comments):
    # whose proven comments get a badge, and on which authors' posts it reads
    # "Author of the post". A missing file means nobody has a badge.
    "COMMENTS_STAFF_FILE": "staff.toml",
    # Entries in the home page's "Latest comments" block, per language.
    "COMMENTS_LATEST": 5,
    # Entries in the home page's "Most discussed" block, per language.
    "COMMENTS_MOST_DISCUSSED": 5,
}


@dataclass(frozen=True)
class CommentsSettings:
    """The plugin's settings, validated, with the staff file's path made
    absolute."""

    isso_url: str | None
    api_url: str | None
    snapshot: bool
    timeout: float
    max_bytes: int
    workers: int
    staff_file: Path
    latest: int
    most_discussed: int

    @property
    def enabled(self) -> bool:
        return bool(self.isso_url)

    @classmethod
    def from_pelican(cls, settings: Mapping[str, Any]) -> CommentsSettings:
        """Read the plugin's settings from Pelican's, with the defaults above.

        Raises :class:`CommentsError` naming the setting when a value is
        unusable.
        """
        value = {**DEFAULTS, **{k: v for k, v in settings.items() if k in DEFAULTS}}
        isso_url = _url(value, "ISSO_URL")
        content = Path(settings.get("PATH") or "content")
        staff_file = value["COMMENTS_STAFF_FILE"]
        if not isinstance(staff_file, str | Path) or not str(staff_file).strip():
            raise CommentsError(
                f"setting COMMENTS_STAFF_FILE must be a file name, not {staff_file!r}"
            )
        staff_path = Path(staff_file).expanduser()
        return cls(
            isso_url=isso_url,
            api_url=_url(value, "ISSO_API_URL") or isso_url,
            snapshot=bool(value["COMMENTS_SNAPSHOT"]),
            timeout=_number(value, "COMMENTS_TIMEOUT"),
            max_bytes=_integer(value, "COMMENTS_MAX_BYTES"),
            workers=_integer(value, "COMMENTS_WORKERS"),
            staff_file=staff_path
            if staff_path.is_absolute()
            else (content / staff_path).resolve(),
            latest=_integer(value, "COMMENTS_LATEST", minimum=0),
            most_discussed=_integer(value, "COMMENTS_MOST_DISCUSSED", minimum=0),
        )


def _url(values: Mapping[str, Any], key: str) -> str | None:
    value = values[key]
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise CommentsError(f"setting {key} must be a URL (a string), not {value!r}")
    return value


def _number(values: Mapping[str, Any], key: str, minimum: float = 0.001) -> float:
    return number(values, key, CommentsError, minimum)


def _integer(values: Mapping[str, Any], key: str, minimum: int = 1) -> int:
    return integer(values, key, CommentsError, minimum)
