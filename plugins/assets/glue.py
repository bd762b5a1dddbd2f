"""Pelican glue: the ``asset_url()`` template global."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any


@cache
def fingerprint(path: Path, mtime_ns: int) -> str:
    """A short content hash (the mtime only keys the cache across rebuilds)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def install_asset_url(generator: Any) -> None:
    settings = generator.settings
    static = Path(settings["THEME"]) / "static"
    base = f"{settings['SITEURL']}/{settings['THEME_STATIC_DIR']}"

    @cache  # one build: theme files don't change under it (a rebuild re-installs)
    def asset_url(name: str) -> str:
        path = static / name
        if not path.is_file():
            raise FileNotFoundError(f"{path}: theme asset not found (asset_url)")
        return f"{base}/{name}?v={fingerprint(path, path.stat().st_mtime_ns)}"

    generator.env.globals["asset_url"] = asset_url
