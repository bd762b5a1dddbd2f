"""Social cards without Pelican: the title's words, the colours, the fonts,
the drawing (plugins/socialcards: layout, palette, fonts, draw)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT
from PIL import Image

from socialcards import fonts
from socialcards.draw import SCRIM_FLOOR, draw, open_cover
from socialcards.errors import SocialCardsError
from socialcards.layout import ELLIPSIS, card_text, fit_title, wrap
from socialcards.model import HEIGHT, WIDTH, Card
from socialcards.palette import (
    contrast,
    mix,
    parse_colour,
    root_properties,
    scrim_opacity,
)
from socialcards.settings import SocialCardsSettings

LAKE = FIXTURES / "socialcards" / "lake.jpg"
SETTINGS = {"THEME": str(ROOT / "theme"), "SITENAME": "Officine Ardesia"}


def monospace(line: str, size: int) -> float:
    """A font where every character is half its size wide."""
    return len(line) * size / 2


def always(char: str) -> bool:
    return True


# --- The title's words ----------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "text"),
    [
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("Una <em>nuova</em> moto", "Una nuova moto"),
        ("<script>alert(1)</script>Ciao", "Ciao"),
        ("Perche\u0301 piu\u0300", "Perché più"),  # decomposed accents: composed
        ("  spazi \n  e\ta capo  ", "spazi e a capo"),
        ("Zero\u200bwidth", "Zerowidth"),
    ],
)
def test_card_text_is_plain_text(title, text):
    assert card_text(title, always) == text


def test_glyphs_the_font_lacks_are_left_out_with_their_marks():
    lacks = {"🏍", "中", "文"}
    text = card_text("Moto 🏍️ e 中文 — città", lambda c: c not in lacks)
    assert text == "Moto e — città"


def test_a_title_that_fits_keeps_the_largest_size():
    block = fit_title("Dieci anni", monospace, 1000, 4, (80, 60, 40))
    assert (block.lines, block.size, block.truncated) == (("Dieci anni",), 80, False)


def test_a_longer_title_steps_down_a_size_rather_than_cut():
    title = " ".join(["parola"] * 12)  # 83 characters
    block = fit_title(title, monospace, 1000, 3, (80, 60, 40))
    assert block.size == 60 and not block.truncated
    assert " ".join(block.lines) == title
    assert all(monospace(line, 60) <= 1000 for line in block.lines)


def test_a_300_character_title_ends_with_an_ellipsis_within_the_lines():
    title = ("Una lunghissima storia di moto e di lago " * 8)[:300]
    block = fit_title(title, monospace, 1000, 4, (80, 60, 40))
    assert block.truncated and block.size == 40
    assert len(block.lines) == 4
    assert block.lines[-1].endswith(ELLIPSIS)
    assert all(monospace(line, 40) <= 1000 for line in block.lines)


def test_a_word_longer_than_a_line_is_cut_never_overflows():
    word = "Precipitevolissimevolmente" * 5
    lines = wrap(f"La {word} moto", lambda line: monospace(line, 40) <= 400)
    assert "".join(lines).replace(" ", "") == f"La{word}moto"
    assert all(monospace(line, 40) <= 400 for line in lines)


def test_the_last_line_is_not_a_lone_word_when_the_line_above_can_spare_one():
    block = fit_title("uno due tre quattro cinque", monospace, 400, 4, (40,))
    assert len(block.lines[-1].split()) >= 2


# --- Colours ------------------------------------------------------------------


def test_the_light_schemes_root_properties_are_read():
    css = """
    /* --fg: #ffffff; in a comment */
    :root { --fg: #1d232a; --bg: #fbfaf7; --accent: #8a3b12; --radius: .5rem }
    @media (prefers-color-scheme: dark) { :root { --fg: #e8e6e1; } }
    """
    assert root_properties(css) == {
        "--fg": "#1d232a",
        "--bg": "#fbfaf7",
        "--accent": "#8a3b12",
        "--radius": ".5rem",
    }


def test_contrast_is_wcags():
    assert contrast((0, 0, 0), (255, 255, 255)) == pytest.approx(21)
    assert contrast(parse_colour("#777"), (255, 255, 255)) == pytest.approx(4.48, 0.01)


def test_the_scrim_is_the_least_that_keeps_the_contrast():
    white, slate = (251, 250, 247), (29, 35, 42)
    sky = (250, 240, 220)
    alpha = scrim_opacity(white, slate, [sky], 4.5)
    assert contrast(white, mix(slate, sky, alpha)) >= 4.5
    assert contrast(white, mix(slate, sky, alpha - 0.02)) < 4.5
    # Over a dark cover the floor is enough.
    assert scrim_opacity(white, slate, [(20, 20, 20)], 4.5, 0.3) == 0.3


# --- Settings and fonts -------------------------------------------------------


def test_the_theme_colours_and_the_system_fonts_are_found():
    settings = SocialCardsSettings.from_pelican(SETTINGS)
    light = root_properties((ROOT / "theme/static/css/main.css").read_text("utf-8"))
    assert settings.style.slate == parse_colour(light["--slate"])
    assert settings.style.accent == parse_colour(light["--amber"])
    assert settings.style.title_font.suffix.lower() in {".ttf", ".otf", ".ttc"}


def test_a_missing_font_file_names_the_setting():
    with pytest.raises(SocialCardsError, match=r"SOCIAL_CARDS_FONT.*no such font"):
        SocialCardsSettings.from_pelican(
            {**SETTINGS, "SOCIAL_CARDS_FONT": "/nowhere/Ardesia-Bold.ttf"}
        )


def test_without_fontconfig_the_error_names_the_setting(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(SocialCardsError) as caught:
        fonts.find_font("sans-serif:bold", "SOCIAL_CARDS_FONT")
    message = str(caught.value)
    assert "SOCIAL_CARDS_FONT" in message and "fc-match" in message
    assert "fonts-dejavu-core" in message


def test_a_colour_the_stylesheet_lacks_names_the_setting():
    with pytest.raises(SocialCardsError, match="SOCIAL_CARDS_COLOURS: slate"):
        SocialCardsSettings.from_pelican(
            {
                **SETTINGS,
                "SOCIAL_CARDS_COLOURS": {
                    "slate": "--no-such-colour",
                    "paper": "#fff",
                    "accent": "#8a3b12",
                },
            }
        )


# --- Drawing ------------------------------------------------------------------


@pytest.fixture(scope="module")
def style():
    return SocialCardsSettings.from_pelican(SETTINGS).style


def card(title: str, cover: Path | None = None) -> Card:
    return Card(title, "Officine Ardesia", "it", cover, "posts/x.md")


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_a_branded_card_is_a_small_png_with_the_text_readable(style):
    result = draw(card("La Sebino 800 compie dieci anni"), style)
    image = opened(result.data)
    assert (image.format, image.size) == ("PNG", (WIDTH, HEIGHT))
    assert result.contrast >= style.min_contrast
    assert len(result.data) < 40_000


def test_over_a_bright_cover_the_scrim_keeps_the_contrast(style):
    result = draw(card("Giornata sul lago", LAKE), style, open_cover(LAKE, "x.md"))
    image = opened(result.data)
    assert (image.format, image.size) == ("JPEG", (WIDTH, HEIGHT))
    assert result.scrim is not None and result.scrim > SCRIM_FLOOR  # a bright sky
    assert result.contrast >= style.min_contrast


def test_a_corrupt_cover_is_a_named_error(tmp_path, style):
    broken = tmp_path / "rotta.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG" * 10)
    with pytest.raises(SocialCardsError) as caught:
        open_cover(broken, "posts/rotta.it.md")
    assert "posts/rotta.it.md" in str(caught.value)
    assert "'Image: rotta.jpg'" in str(caught.value)


def test_a_cover_with_transparency_or_frames_is_flattened(tmp_path):
    gif = tmp_path / "anim.gif"
    frames = [Image.new("RGBA", (64, 32), (255, 0, 0, a)) for a in (0, 255)]
    frames[0].save(gif, save_all=True, append_images=frames[1:])
    assert open_cover(gif, "x.md").mode == "RGB"
    shutil.copy(LAKE, tmp_path / "lake.jpg")
    assert open_cover(tmp_path / "lake.jpg", "x.md").size[0] >= WIDTH // 2


def test_a_title_of_glyphs_the_font_lacks_still_makes_a_card(style):
    title = card_text("🏍️🏍️ 中文", fonts.GlyphCheck(style.title_font))
    result = draw(card(title), style)
    assert opened(result.data).size == (WIDTH, HEIGHT)
    assert result.title.lines == ()


def test_many_lines_never_run_out_of_the_height():
    title = " ".join(["parola"] * 80)
    block = fit_title(title, monospace, 1000, 10, (80, 40), height=300)
    assert len(block.lines) * round(block.size * 1.16) <= 300
    assert block.truncated and block.lines[-1].endswith(ELLIPSIS)


def test_a_long_site_name_is_cut_not_overflowing(style):
    long_name = Card("Titolo", "Officine Ardesia " * 10, "it", None, "x.md")
    assert opened(draw(long_name, style).data).size == (WIDTH, HEIGHT)
