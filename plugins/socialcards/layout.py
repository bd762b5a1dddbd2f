"""The card's words: a title made plain text, wrapped and sized to fit.

Pure functions: text in, lines out. Measuring is passed in (``measure(text,
size)`` gives a width in pixels, ``has_glyph(char)`` says whether the font can
draw a character), so the rules can be tested without a font.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from sanitize.policy import plain_text

ELLIPSIS = "…"

Measure = Callable[[str, int], float]
_INVISIBLE = frozenset({"Cf", "Cc", "Co", "Cs", "Cn"})


def _is_selector(char: str) -> bool:
    code = ord(char)
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


@dataclass(frozen=True)
class TitleBlock:
    """The title as drawn: its lines and the font size they fit at."""

    lines: tuple[str, ...]
    size: int
    truncated: bool


def card_text(title: str, has_glyph: Callable[[str], bool]) -> str:
    """A title as the card shows it: markup and entities made text (``&amp;``
    is "&", ``<em>x</em>`` is "x"), composed accents (NFC), and characters the
    font lacks (emoji, most scripts DejaVu lacks) left out, spaces collapsed."""
    text = unicodedata.normalize("NFC", plain_text(title))
    kept: list[str] = []
    dropped = False  # the last base character was left out
    for char in text:
        category = unicodedata.category(char)
        if char.isspace():
            kept.append(" ")
            dropped = False
        elif category in _INVISIBLE or _is_selector(char):
            continue  # joiners, variation selectors, private use
        elif category.startswith("M"):
            if not dropped and has_glyph(char):
                kept.append(char)  # a mark on a base we kept
        elif has_glyph(char):
            kept.append(char)
            dropped = False
        else:
            dropped = True
    return " ".join("".join(kept).split())


def _break_word(
    word: str, fits: Callable[[str], bool], limit: int | None = None
) -> list[str]:
    """A word wider than the line, cut into the longest pieces that fit
    (at least one character each); at most ``limit + 1`` pieces."""
    pieces: list[str] = []
    rest = word
    while rest and (limit is None or len(pieces) <= limit):
        low, high = 1, len(rest)  # the longest prefix that fits: bisection
        while low < high:
            middle = (low + high + 1) // 2
            if fits(rest[:middle]):
                low = middle
            else:
                high = middle - 1
        pieces.append(rest[:low])
        rest = rest[low:]
    return pieces


def wrap(text: str, fits: Callable[[str], bool], limit: int | None = None) -> list[str]:
    """Greedy word wrap; a word that fits no line is cut where it must.
    With ``limit``, stops once more than ``limit`` lines are certain."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        if limit is not None and len(lines) > limit:
            break
        candidate = f"{current} {word}" if current else word
        if fits(candidate):
            current = candidate
            continue
        if current:
            lines.append(current)
        if fits(word):
            current = word
        else:
            *whole, current = _break_word(word, fits, limit)
            lines.extend(whole)
    if current:
        lines.append(current)
    return lines


def balance_last_line(lines: list[str], fits: Callable[[str], bool]) -> list[str]:
    """Move words down so the last line isn't a lone word (as CSS's
    ``text-wrap: balance`` would), when the line above can spare them."""
    if len(lines) < 2 or " " in lines[-1]:
        return lines
    above = lines[-2].split(" ")
    if len(above) < 3:
        return lines
    moved = f"{above[-1]} {lines[-1]}"
    if fits(moved):
        return [*lines[:-2], " ".join(above[:-1]), moved]
    return lines


def ellipsize(line: str, fits: Callable[[str], bool]) -> str:
    """``line`` shortened (at a word if it can) until it fits with "…"."""
    words = line.split(" ")
    while len(words) > 1:
        candidate = " ".join(words).rstrip(",;:.-–—") + ELLIPSIS
        if fits(candidate):
            return candidate
        words.pop()
    word = words[0]
    while word and not fits(word + ELLIPSIS):
        word = word[:-1]
    return word + ELLIPSIS


def fit_title(
    text: str,
    measure: Measure,
    width: int,
    max_lines: int,
    sizes: tuple[int, ...],
    *,
    height: int | None = None,
    line_height: float = 1.16,
) -> TitleBlock:
    """The largest size in ``sizes`` (largest first) at which ``text`` wraps
    into ``max_lines`` lines of ``width`` pixels (and, given ``height``, lines
    of ``size * line_height`` pixels that fit in it); at the smallest size,
    the lines that fit with an ellipsis on the last. Never wider than
    ``width``: a word too long for a line is cut."""

    def limit(size: int) -> int:
        if height is None:
            return max_lines
        return max(1, min(max_lines, int(height // round(size * line_height))))

    for size in sizes:

        def fits(line: str, size: int = size) -> bool:
            return measure(line, size) <= width

        lines = wrap(text, fits, limit(size))
        if len(lines) <= limit(size):
            return TitleBlock(tuple(balance_last_line(lines, fits)), size, False)
    size = sizes[-1]

    def fits_smallest(line: str) -> bool:
        return measure(line, size) <= width

    lines = wrap(text, fits_smallest, limit(size))[: limit(size)]
    lines[-1] = ellipsize(lines[-1], fits_smallest)
    return TitleBlock(tuple(lines), size, True)
