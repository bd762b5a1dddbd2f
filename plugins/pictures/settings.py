"""The pictures plugin's settings: DEFAULTS, each documented, and their checks.

Every setting can be overridden in ``pelicanconf.py``/``publishconf.py``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, features

from configuration import ConfigError, chosen_from, whole_number

DEFAULTS: dict[str, Any] = {
    # Widths (CSS pixels at 1x) of the variants made of every raster image:
    # the article column is 42rem (672 px), so 480 serves phones, 800 and
    # 1200 the column at 1x/2x and 1600 a cover shown full width on a large
    # screen. An image is never enlarged: widths above its own are dropped,
    # and its own width is added when it falls between two of these.
    "PICTURES_WIDTHS": (480, 800, 1200, 1600),
    # Better formats offered before the original's, when Pillow can write
    # them (AVIF needs Pillow's libavif: PIL.features.check("avif")).
    "PICTURES_FORMATS": ("avif", "webp"),
    # Encoder quality per format (1-100). On the demo covers AVIF at 45 is
    # a fifth lighter than WebP at 75 for the same look; encoder speed 8
    # takes a fifth of speed 6's time for 15% more bytes.
    "PICTURES_QUALITY": {"avif": 45, "webp": 75, "jpeg": 80},
    "PICTURES_AVIF_SPEED": 8,
    # The ``sizes`` attribute of images in a post's text: the width they take
    # in the layout, so the browser picks the right file before any CSS.
    "PICTURES_INLINE_SIZES": "(min-width: 46rem) 42rem, calc(100vw - 2rem)",
    # Where the variants are published (a folder of the output) ...
    "PICTURES_OUTPUT_DIR": "images/v",
    # ... and kept between builds, by the source's content hash, the variant
    # settings and Pillow's version (relative: under the folder the build runs
    # in, the project's). Delete it to make every variant again.
    "PICTURES_CACHE_PATH": "var/pictures",
    # Processes that make the variants the cache doesn't have (0: one per
    # core). AVIF encoding already uses every core; the pool pays only when
    # several images are missing (bench/bench_pictures.py measures both).
    "PICTURES_WORKERS": 0,
    # An image larger than this many pixels is refused (a decompression bomb:
    # a small file that unpacks into gigabytes). Pillow's own limit.
    "PICTURES_MAX_PIXELS": Image.MAX_IMAGE_PIXELS,
    # `invoke check`: the largest file a page may load as one image variant
    # (images/v/...) and as any other image (originals, SVG, social cards).
    "PICTURES_BUDGET_VARIANT": 300 * 1024,
    "PICTURES_BUDGET_ORIGINAL": 1024 * 1024,
}

FORMATS = ("avif", "webp")
PIPELINE_VERSION = 1  # bump when the way variants are made changes


class SettingsError(ConfigError):
    """A PICTURES_* setting that can't be used; the message names it."""


@dataclass(frozen=True)
class Settings:
    widths: tuple[int, ...]
    formats: tuple[str, ...]  # the better formats Pillow can write, in order
    quality: Mapping[str, int]
    avif_speed: int
    inline_sizes: str
    output_dir: str
    cache: Path
    workers: int
    max_pixels: int

    def fingerprint(self) -> str:
        """What, besides the source's bytes, decides a variant's bytes."""
        quality = ",".join(f"{k}={v}" for k, v in sorted(self.quality.items()))
        return (
            f"v{PIPELINE_VERSION};pillow={Image.__version__};{quality};"
            f"avif-speed={self.avif_speed}"
        )


def _int(value: Any, name: str, low: int, high: int) -> int:
    return whole_number(value, name, low, high, SettingsError)


def read(pelican_settings: Mapping[str, Any]) -> Settings:
    """The plugin's settings from Pelican's, checked."""
    values = {key: pelican_settings.get(key, value) for key, value in DEFAULTS.items()}
    widths = values["PICTURES_WIDTHS"]
    if not widths or not isinstance(widths, list | tuple):
        raise SettingsError(
            f"PICTURES_WIDTHS={widths!r}: list the widths in pixels, e.g. (480, 800)"
        )
    widths = tuple(sorted({_int(w, "PICTURES_WIDTHS", 16, 8192) for w in widths}))
    formats = chosen_from(
        values["PICTURES_FORMATS"], "PICTURES_FORMATS", FORMATS, SettingsError
    )
    quality = {**DEFAULTS["PICTURES_QUALITY"], **dict(values["PICTURES_QUALITY"])}
    for fmt, q in quality.items():
        _int(q, f"PICTURES_QUALITY[{fmt!r}]", 1, 100)
    output_dir = str(values["PICTURES_OUTPUT_DIR"]).strip("/")
    if not output_dir or ".." in Path(output_dir).parts:
        raise SettingsError(
            f"PICTURES_OUTPUT_DIR={output_dir!r}: name a folder inside the output"
        )
    return Settings(
        widths=widths,
        formats=tuple(f for f in formats if features.check(f)),
        quality=quality,
        avif_speed=_int(values["PICTURES_AVIF_SPEED"], "PICTURES_AVIF_SPEED", 0, 10),
        inline_sizes=str(values["PICTURES_INLINE_SIZES"]),
        output_dir=output_dir,
        cache=Path(values["PICTURES_CACHE_PATH"]).expanduser(),
        workers=_int(values["PICTURES_WORKERS"], "PICTURES_WORKERS", 0, 256)
        or os.cpu_count()
        or 1,
        max_pixels=_int(values["PICTURES_MAX_PIXELS"], "PICTURES_MAX_PIXELS", 1, 2**40),
    )


@dataclass(frozen=True)
class Budget:
    """Bytes one image file may weigh (`invoke check`)."""

    variant: int = DEFAULTS["PICTURES_BUDGET_VARIANT"]
    original: int = DEFAULTS["PICTURES_BUDGET_ORIGINAL"]


def budget(pelican_settings: Mapping[str, Any]) -> Budget:
    return Budget(
        variant=_int(
            pelican_settings.get("PICTURES_BUDGET_VARIANT", Budget.variant),
            "PICTURES_BUDGET_VARIANT",
            1,
            2**40,
        ),
        original=_int(
            pelican_settings.get("PICTURES_BUDGET_ORIGINAL", Budget.original),
            "PICTURES_BUDGET_ORIGINAL",
            1,
            2**40,
        ),
    )
