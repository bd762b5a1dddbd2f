"""Jinja2 for the pages piazza/ writes itself (the moderation pages, the
leader's report), in the site's languages, with the theme's catalogs read
from the ``.po`` sources as the build reads them."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jinja2

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "theme" / "translations"


def translated_environment(
    templates: Path | Iterable[Path], lang: str, **options: Any
) -> jinja2.Environment:
    """An autoescaping environment on ``templates`` (a folder, or folders
    searched in order) with gettext in ``lang``; ``options`` go to Jinja2
    (e.g. an ``autoescape`` that leaves .txt templates plain)."""
    if str(ROOT / "plugins") not in sys.path:
        sys.path.insert(0, str(ROOT / "plugins"))
    from multilang.catalogs import load_translations  # noqa: PLC0415 (sys.path)

    folders = [templates] if isinstance(templates, Path) else list(templates)
    settings = {
        "autoescape": True,
        "extensions": ["jinja2.ext.i18n"],
        "trim_blocks": True,
        "lstrip_blocks": True,
        **options,
    }
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(f) for f in folders]), **settings
    )
    env.install_gettext_translations(
        load_translations(str(TRANSLATIONS), lang), newstyle=True
    )
    return env
