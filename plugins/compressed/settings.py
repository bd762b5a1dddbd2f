"""The compressed plugin's settings: DEFAULTS, each documented, and their checks."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from configuration import chosen_from, whole_number

DEFAULTS: dict[str, Any] = {
    # Which siblings to write next to each text file: ".br" (brotli) and
    # ".gz" (gzip), served as they are by nginx's brotli_static/gzip_static.
    "COMPRESSED_FORMATS": ("br", "gz"),
    # Brotli quality, chosen by measurement (bench/bench_compress.py on the
    # 2,000-post site's pages): 5 makes files as small as 9 in a fifteenth of
    # the time; 10 and 11 save 6% and 10% more bytes at 20 and 66 times the
    # time. The cache makes any quality a one-off per file version.
    "COMPRESSED_BROTLI_QUALITY": 5,
    # gzip level: 9 and 6 give the same size and time on these pages.
    "COMPRESSED_GZIP_LEVEL": 9,
    # Files smaller than this many bytes are not compressed.
    "COMPRESSED_MIN_SIZE": 256,
    "COMPRESSED_EXTENSIONS": (
        ".atom",
        ".css",
        ".html",
        ".js",
        ".json",
        ".svg",
        ".txt",
        ".xml",
    ),
    # Compressed variants by content hash: a file seen before is copied, not
    # compressed again (a relative path is under the folder the build runs in,
    # the project's).
    "COMPRESSED_CACHE_PATH": "var/compressed",
    # The cache is pruned to this many bytes after each build (least
    # recently used first); 0 keeps everything.
    "COMPRESSED_CACHE_MAX_BYTES": 512 * 1024 * 1024,
    # Processes that compress the files the cache doesn't have (0: one per core).
    "COMPRESSED_WORKERS": 0,
}

FORMATS = ("br", "gz")


class SettingsError(Exception):
    """A COMPRESSED_* setting that can't be used; the message names it."""


@dataclass(frozen=True)
class Settings:
    formats: tuple[str, ...]
    brotli_quality: int
    gzip_level: int
    min_size: int
    extensions: frozenset[str]
    cache: Path
    cache_max_bytes: int
    workers: int

    def level(self, fmt: str) -> int:
        return self.brotli_quality if fmt == "br" else self.gzip_level


def _int(values: Mapping[str, Any], name: str, low: int, high: int) -> int:
    return whole_number(values[name], name, low, high, SettingsError)


def read(pelican_settings: Mapping[str, Any]) -> Settings:
    """The plugin's settings from Pelican's, checked."""
    values = {key: pelican_settings.get(key, value) for key, value in DEFAULTS.items()}
    formats = chosen_from(
        values["COMPRESSED_FORMATS"], "COMPRESSED_FORMATS", FORMATS, SettingsError
    )
    extensions = frozenset(values["COMPRESSED_EXTENSIONS"])
    wrong = sorted(
        e for e in extensions if not e.startswith(".") or e in (".br", ".gz")
    )
    if wrong:
        raise SettingsError(
            f"COMPRESSED_EXTENSIONS: {', '.join(wrong)} can't be compressed "
            "(an extension starts with a dot; .br and .gz are the variants)"
        )
    workers = _int(values, "COMPRESSED_WORKERS", 0, 256)
    return Settings(
        formats=formats,
        brotli_quality=_int(values, "COMPRESSED_BROTLI_QUALITY", 0, 11),
        gzip_level=_int(values, "COMPRESSED_GZIP_LEVEL", 1, 9),
        min_size=_int(values, "COMPRESSED_MIN_SIZE", 0, 2**31),
        extensions=extensions,
        cache=Path(values["COMPRESSED_CACHE_PATH"]).expanduser(),
        cache_max_bytes=_int(values, "COMPRESSED_CACHE_MAX_BYTES", 0, 2**62),
        workers=workers or os.cpu_count() or 1,
    )
