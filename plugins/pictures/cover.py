"""The cover contract shared by plugins/pictures, plugins/socialcards and the theme.

A post names its cover in its metadata::

    Image: {static}/images/covers/sebino-800.jpg
    Image-Alt: A slate-grey Sebino 800 on the shore of Lake Iseo

(``images/covers/sebino-800.jpg`` without ``{static}`` works too: the path is
relative to the content folder). The alt text is required; an empty one is
allowed only when said on purpose as ``Image-Alt: ""`` (a decorative cover).

plugins/pictures sets ``content.cover`` to a :class:`Picture` (or ``None``);
templates render it with ``macros/pictures.html``'s ``picture()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

RASTER_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".avif"})


class CoverError(ValueError):
    """A cover that can't be used; the message names the file and the field."""


@dataclass(frozen=True)
class Source:
    """One ``<source>`` of a ``<picture>``: a MIME type and its srcset."""

    type: str  # "image/avif", "image/webp"
    # (URL relative to SITEURL, width), narrowest first
    variants: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Picture:
    """A raster image ready for the page: variants, intrinsic size and alt."""

    src: str  # fallback URL (original format), relative to SITEURL, no leading slash
    # the original format's (URL relative to SITEURL, width), narrowest first
    variants: tuple[tuple[str, int], ...]
    sources: tuple[Source, ...]  # better formats first (AVIF, then WebP)
    width: int  # intrinsic size of ``src`` (for width/height: no layout shift)
    height: int
    alt: str
    path: Path  # the source file on disk (socialcards draws from it)


def cover_source(content, content_root: Path) -> tuple[Path, str] | None:
    """The cover file and alt text a content object names, or None without ``Image:``.

    Raises :class:`CoverError` naming the source file and the field when the
    path leaves the content folder, the file is missing or not a raster image,
    or the alt text is missing.
    """
    metadata = getattr(content, "metadata", {}) or {}
    raw = metadata.get("image")
    if raw is None:
        return None
    where = getattr(content, "source_path", None) or "?"
    value = str(raw).strip()
    for prefix in ("{static}", "{filename}", "|static|", "|filename|"):
        if value.startswith(prefix):
            value = value[len(prefix) :]
    value = value.lstrip("/")
    if not value:
        raise CoverError(f"{where}: 'Image:' is empty: name a file under content/")
    root = content_root.resolve()
    path = (root / value).resolve()
    if not path.is_relative_to(root):
        raise CoverError(f"{where}: 'Image: {raw}' leaves the content folder")
    if path.suffix.lower() not in RASTER_SUFFIXES:
        raise CoverError(
            f"{where}: 'Image: {raw}' is not a raster image "
            f"({', '.join(sorted(RASTER_SUFFIXES))})"
        )
    if not path.is_file():
        raise CoverError(f"{where}: 'Image: {raw}' does not exist ({path})")
    alt = metadata.get("image-alt")
    if alt is None:
        raise CoverError(
            f"{where}: 'Image: {raw}' has no 'Image-Alt:'; describe the picture "
            '(or write Image-Alt: "" if it is decorative)'
        )
    alt = str(alt).strip()
    if alt in ('""', "''"):
        alt = ""
    return path, alt
