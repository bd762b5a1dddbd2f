"""Finding the card's fonts on this machine and asking them about glyphs.

The site itself uses no web fonts; the card needs a TrueType/OpenType file.
A setting names it either as a path or as a fontconfig pattern
(``sans-serif:bold``), which ``fc-match`` turns into a file.
"""

from __future__ import annotations

import functools
import hashlib
import shutil
import subprocess
from pathlib import Path

from PIL import ImageFont

from socialcards.errors import SocialCardsError

FONT_SUFFIXES = frozenset({".ttf", ".otf", ".ttc"})
# A character no font draws: its glyph is the font's "missing" box.
_NOT_A_CHARACTER = "\uffff"


def find_font(value: str, setting: str) -> Path:
    """The font file a setting names: a path, or a fontconfig pattern.

    Raises :class:`SocialCardsError` naming the setting when there is none.
    """
    value = str(value or "").strip()
    if not value:
        raise SocialCardsError(
            f"setting {setting} is empty: name a .ttf/.otf file or a fontconfig "
            "pattern such as 'sans-serif:bold'"
        )
    as_path = Path(value).expanduser()
    if as_path.suffix.lower() in FONT_SUFFIXES or "/" in value:
        if not as_path.is_file():
            raise SocialCardsError(
                f"setting {setting} = {value!r}: no such font file; name an "
                "installed .ttf/.otf (`fc-list` shows them) or a fontconfig "
                "pattern such as 'sans-serif:bold'"
            )
        return as_path.resolve()
    return _fc_match(value, setting)


def _fc_match(pattern: str, setting: str) -> Path:
    fc_match = shutil.which("fc-match")
    advice = (
        "install fontconfig and a TrueType font (Debian: apt-get install "
        f"fontconfig fonts-dejavu-core), or set {setting} to a .ttf file's path"
    )
    if fc_match is None:
        raise SocialCardsError(
            f"setting {setting} = {pattern!r}: fc-match (fontconfig) is not "
            f"installed to find it; {advice}"
        )
    try:
        proc = subprocess.run(
            [fc_match, "--format=%{file}", pattern],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SocialCardsError(
            f"setting {setting} = {pattern!r}: fc-match failed ({exc}); {advice}"
        ) from None
    found = Path(proc.stdout.strip()) if proc.returncode == 0 else None
    if not found or not found.is_file() or found.suffix.lower() not in FONT_SUFFIXES:
        raise SocialCardsError(
            f"setting {setting} = {pattern!r}: fontconfig found no TrueType/"
            f"OpenType font for it ({proc.stdout.strip() or 'nothing'}); {advice}"
        )
    return found


def font_digest(path: Path) -> str:
    """A hash of the font file's bytes (part of the cache key)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


@functools.lru_cache(maxsize=64)
def load(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


class GlyphCheck:
    """Whether a font draws a character, by comparing it with its "missing"
    glyph (Pillow offers no direct question); answers are remembered."""

    def __init__(self, path: Path) -> None:
        self.font = load(path, 48)
        self.missing = self._shape(_NOT_A_CHARACTER)
        self.known: dict[str, bool] = {}

    def _shape(self, char: str) -> tuple[tuple[int, ...], bytes]:
        mask = self.font.getmask(char)
        return (tuple(mask.size), bytes(mask))

    def __call__(self, char: str) -> bool:
        if char not in self.known:
            self.known[char] = self._shape(char) != self.missing
        return self.known[char]
