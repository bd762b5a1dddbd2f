"""What flows through the plugin: a card to draw and how to draw it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from socialcards.palette import Colour

WIDTH = 1200
HEIGHT = 630


@dataclass(frozen=True)
class Style:
    """Everything about a card's look that comes from settings and the theme."""

    title_font: Path
    label_font: Path
    slate: Colour  # the background, and the scrim over a cover
    paper: Colour  # the text (unless it lacks contrast on slate)
    accent: Colour  # the bar: decoration, never text
    max_lines: int
    title_sizes: tuple[int, ...]  # largest first
    label_size: int
    min_contrast: float
    jpeg_quality: int


@dataclass(frozen=True)
class Card:
    """One card: what it says and what it shows."""

    title: str  # plain text, as drawn (layout.card_text)
    site_name: str
    lang: str
    cover: Path | None  # the cover's source file, if the post has one
    source: str  # the post's source file, for messages
