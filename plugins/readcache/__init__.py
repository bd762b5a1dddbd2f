"""Pelican's reader cache, made safe to leave on: Markdown read once per
version of each source file, in a cache folder that belongs to the settings
and code that read it.

Pelican keeps what a reader made of a file (its HTML and metadata) keyed by
the file alone, and never notices that the settings or a Markdown extension
changed. Here, with ``READ_CACHE = True`` (publishconf.py), the cache lives
in ``READ_CACHE_PATH/<fingerprint>``, the fingerprint being a hash of what
can change a reader's output: the Markdown settings, the time zone and
default language, the plugins and their source, and the versions of Pelican
and Markdown. Files are told apart by their SHA-256, not their mtime (a git
checkout or a copy changes mtimes, an editor may keep them). A change of
any of those reads everything again into a fresh folder; older folders
beyond the last few are removed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from importlib import metadata
from pathlib import Path

from pelican import signals

logger = logging.getLogger(__name__)

DEFAULTS = {
    # Read each source once per version (production builds turn it on).
    "READ_CACHE": False,
    # Where the fingerprinted cache folders live (relative: under the
    # folder the build runs in, the project's).
    "READ_CACHE_PATH": "var/pelican-cache/read",
    # Folders of earlier fingerprints kept (the most recently used).
    "READ_CACHE_KEEP": 3,
}
PLUGINS_ROOT = Path(__file__).resolve().parents[1]
SETTINGS = ("MARKDOWN", "TIMEZONE", "DEFAULT_LANG", "DEFAULT_DATE_FORMAT",
            "PLUGINS", "READERS", "FORMATTED_FIELDS", "SUMMARY_MAX_LENGTH")  # fmt: skip


def fingerprint(settings) -> str:
    """A hash of everything that can change what a reader makes of a file."""
    digest = hashlib.sha256()
    chosen = {name: settings.get(name) for name in SETTINGS}
    digest.update(json.dumps(chosen, sort_keys=True, default=repr).encode())
    for package in ("pelican", "markdown"):
        digest.update(metadata.version(package).encode())
    for source in sorted(PLUGINS_ROOT.rglob("*.py")):
        digest.update(str(source.relative_to(PLUGINS_ROOT)).encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:20]


def _prune(folder: Path, keep: int, current: Path) -> None:
    others = sorted(
        (path for path in folder.iterdir() if path.is_dir() and path != current),
        key=lambda path: path.stat().st_mtime,
        reverse=True,
    )
    for old in others[max(0, keep - 1) :]:
        shutil.rmtree(old, ignore_errors=True)


def configure(pelican_object) -> None:
    settings = pelican_object.settings
    values = {name: settings.get(name, value) for name, value in DEFAULTS.items()}
    if not values["READ_CACHE"]:
        return
    folder = Path(values["READ_CACHE_PATH"]).expanduser().resolve()
    current = folder / fingerprint(settings)
    try:
        current.mkdir(parents=True, exist_ok=True)
        current.touch()  # most recently used
        _prune(folder, int(values["READ_CACHE_KEEP"]), current)
    except OSError as exc:
        logger.warning(
            "readcache: %s can't be used (%s); reading everything", folder, exc
        )
        return
    settings.update(
        CACHE_CONTENT=True,
        LOAD_CONTENT_CACHE=True,
        CONTENT_CACHING_LAYER="reader",
        CHECK_MODIFIED_METHOD="sha256",
        CACHE_PATH=str(current),
    )


def register() -> None:
    signals.initialized.connect(configure)
