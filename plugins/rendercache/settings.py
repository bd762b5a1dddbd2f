"""The render cache's settings: DEFAULTS, each documented."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULTS: dict[str, Any] = {
    # Keep each rendered page and write it again, unrendered, while nothing
    # it was made of changed (production builds turn it on: publishconf.py).
    "RENDER_CACHE": False,
    # Where the pages and their keys live (relative: under the folder the
    # build runs in, the project's).
    "RENDER_CACHE_PATH": "var/pelican-cache/render",
}


@dataclass(frozen=True)
class Settings:
    enabled: bool
    path: Path


def read(pelican_settings: Mapping[str, Any]) -> Settings:
    values = {key: pelican_settings.get(key, value) for key, value in DEFAULTS.items()}
    return Settings(
        enabled=bool(values["RENDER_CACHE"]),
        path=Path(values["RENDER_CACHE_PATH"]).expanduser().resolve(),
    )
