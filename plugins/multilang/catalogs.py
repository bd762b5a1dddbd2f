"""Gettext catalogs for the theme, read straight from the ``.po`` sources.

Catalogs live in ``theme/translations/<lang>/LC_MESSAGES/*.po``; every domain
file there is merged into one catalog per language, so a plugin can ship its
own strings (``community.po``) next to the theme's (``messages.po``). Reading
the ``.po`` files directly means there is no compiled ``.mo`` to forget to
rebuild: what is in the source is what the site shows.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po
from babel.support import NullTranslations, Translations


class CatalogError(Exception):
    """A translation catalog can't be read; the message names the file."""


def _read_catalog(po_path: Path, lang: str) -> Translations:
    try:
        with po_path.open("rb") as fp:
            catalog = read_po(fp, locale=lang, abort_invalid=True)
    except (PoFileError, OSError, ValueError) as exc:
        raise CatalogError(
            f"{po_path}: cannot read translation catalog: {exc}"
        ) from exc
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=po_path.stem)


@cache
def load_translations(translations_dir: str, lang: str) -> NullTranslations:
    """All catalogs of one language merged; a language with none gets the msgids."""
    folder = Path(translations_dir) / lang / "LC_MESSAGES"
    merged: NullTranslations = NullTranslations()
    for po_path in sorted(folder.glob("*.po")):
        translations = _read_catalog(po_path, lang)
        if isinstance(merged, Translations):
            merged.merge(translations)
        else:
            merged = translations
    return merged
