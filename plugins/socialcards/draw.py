"""Drawing a card with Pillow: a branded slate design, or the post's cover
under a scrim dark enough (computed, not guessed) for the text on it."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

from socialcards import fonts
from socialcards.errors import SocialCardsError
from socialcards.layout import TitleBlock, ellipsize, fit_title
from socialcards.model import HEIGHT, WIDTH, Card, Style
from socialcards.palette import (
    Colour,
    contrast,
    mix,
    readable_on,
    scrim_opacity,
    worst_contrast,
)

PAD = 72
BAR = 14  # the accent bar along the bottom edge
LINE_HEIGHT = 1.16
GAP = 36  # between the title and the site name
LABEL_INDENT = 26  # the site name, right of its little bar
SCRIM_FLOOR = 0.30  # a cover is always dimmed a little under the text
SCRIM_FADE = 140  # pixels over which the scrim fades out above the text


@dataclass(frozen=True)
class Drawn:
    """A drawn card, encoded: its bytes, format and what was measured."""

    data: bytes
    ext: str  # "png" or "jpg"
    mime: str
    title: TitleBlock
    scrim: float | None  # the scrim's opacity over a cover; None without one
    contrast: float  # the title's worst contrast on what lies under it


def open_cover(path: Path, source: str) -> Image.Image:
    """The cover, decoded and flattened to RGB, or :class:`SocialCardsError`
    naming the post and the file when Pillow can't read it."""
    try:
        with Image.open(path) as opened:
            opened.draft("RGB", (WIDTH, HEIGHT))  # JPEG: decode at a smaller scale
            opened.seek(0)
            image = ImageOps.exif_transpose(opened)
            if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                rgba = image.convert("RGBA")
                flat = Image.new("RGB", rgba.size, (255, 255, 255))
                flat.paste(rgba, mask=rgba.getchannel("A"))
                return flat
            return image.convert("RGB")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise SocialCardsError(
            f"{source}: 'Image: {path.name}' can't be read as an image "
            f"({exc.__class__.__name__}: {exc}); replace the file or fix the "
            "'Image:' line. The social card is drawn without the cover."
        ) from None


def draw(card: Card, style: Style, cover: Image.Image | None = None) -> Drawn:
    """The card as an encoded image (the caller opened the cover, if any)."""
    canvas = Image.new("RGB", (WIDTH, HEIGHT), style.slate)
    text = readable_on(style.slate, style.paper, style.min_contrast)
    label_font = fonts.load(style.label_font, style.label_size)
    width = WIDTH - 2 * PAD

    def measure(line: str, size: int) -> float:
        return fonts.load(style.title_font, size).getlength(line)

    label_top = HEIGHT - BAR - PAD + 8 - style.label_size
    bottom = label_top - GAP  # the title's last line ends here
    title = fit_title(
        card.title,
        measure,
        width,
        style.max_lines,
        style.title_sizes,
        height=bottom - PAD,
        line_height=LINE_HEIGHT,
    )
    title_font = fonts.load(style.title_font, title.size)
    line_height = round(title.size * LINE_HEIGHT)
    title_height = line_height * len(title.lines)
    label = card.site_name
    if label and label_font.getlength(label) > width - LABEL_INDENT:
        label = ellipsize(
            label, lambda line: label_font.getlength(line) <= width - LABEL_INDENT
        )
    if cover is None:
        bands = _strata(canvas, style)
        # Centred in the space above the site name.
        top = PAD + max(0, (bottom - PAD - title_height) // 2)
        scrim = None
        worst = worst_contrast(text, (style.slate, *bands))
    else:
        top = bottom - title_height
        scrim, worst = _cover_with_scrim(canvas, cover, style, text, top)
    pen = ImageDraw.Draw(canvas)
    for i, line in enumerate(title.lines):
        pen.text((PAD, top + i * line_height), line, font=title_font, fill=text)
    pen.rectangle(
        (PAD, label_top + 4, PAD + 10, label_top + 4 + style.label_size - 8),
        fill=style.accent if cover is None else text,
    )
    pen.text((PAD + LABEL_INDENT, label_top), label, font=label_font, fill=text)
    pen.rectangle((0, HEIGHT - BAR, WIDTH, HEIGHT), fill=style.accent)
    data, ext, mime = _encode(
        canvas, photo=cover is not None, quality=style.jpeg_quality
    )
    return Drawn(data, ext, mime, title, scrim, worst)


def _strata(canvas: Image.Image, style: Style) -> tuple[Colour, ...]:
    """Slate's layers: a few bands a shade lighter on the right (decoration).
    Returns their colours, which text may lie over."""
    pen = ImageDraw.Draw(canvas)
    colours = []
    for i, shade in enumerate((0.04, 0.07, 0.10)):
        x = WIDTH - 250 + i * 120
        colour = mix(style.paper, style.slate, shade)
        colours.append(colour)
        pen.polygon(
            [(x, 0), (x + 90, 0), (x + 90 - 230, HEIGHT), (x - 230, HEIGHT)],
            fill=colour,
        )
    return tuple(colours)


def _cover_with_scrim(
    canvas: Image.Image, cover: Image.Image, style: Style, text: Colour, top: int
) -> tuple[float, float]:
    """Lay the cover over the card and the least scrim that keeps ``text``
    at ``style.min_contrast`` over every part of the cover behind it.

    The cover behind the text is averaged over 4×4 blocks (a single bright
    pixel doesn't make a glyph unreadable) and judged by its per-channel
    brightest and darkest colours: every pixel lies between them, and contrast
    moves one way with each channel, so what holds for them holds for all.
    """
    fitted = ImageOps.fit(cover, (WIDTH, HEIGHT), Image.Resampling.LANCZOS)
    canvas.paste(fitted)
    behind = fitted.crop((0, max(0, top - 16), WIDTH, HEIGHT)).reduce(4)
    extrema = behind.getextrema()
    brightest = tuple(high for _low, high in extrema)
    darkest = tuple(low for low, _high in extrema)
    corners = (brightest, darkest)
    alpha = scrim_opacity(text, style.slate, corners, style.min_contrast, SCRIM_FLOOR)
    # Full opacity from just above the title down; fading out above it.
    mask = Image.new("L", (WIDTH, HEIGHT), 0)
    pen = ImageDraw.Draw(mask)
    solid_from = max(0, top - 24)
    for y in range(max(0, solid_from - SCRIM_FADE), solid_from):
        share = (y - (solid_from - SCRIM_FADE)) / SCRIM_FADE
        pen.line((0, y, WIDTH, y), fill=round(255 * alpha * share))
    pen.rectangle((0, solid_from, WIDTH, HEIGHT), fill=round(255 * alpha))
    canvas.paste(style.slate, mask=mask)
    worst = min(contrast(text, mix(style.slate, c, alpha)) for c in corners)
    return alpha, worst


def _encode(image: Image.Image, *, photo: bool, quality: int) -> tuple[bytes, str, str]:
    """A cover makes a photograph: JPEG (a PNG of it: 7× the bytes). The
    branded card is flat colour: a 64-colour PNG, a third of a JPEG's bytes
    and without its ringing round the letters. zlib's default level: level 9
    or ``optimize`` save 12% (1.5 KB) for twice the time."""
    out = io.BytesIO()
    if photo:
        image.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
        return out.getvalue(), "jpg", "image/jpeg"
    image.quantize(colors=64, method=Image.Quantize.FASTOCTREE).save(out, "PNG")
    return out.getvalue(), "png", "image/png"
