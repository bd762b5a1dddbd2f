"""The edge: source images read with Pillow, their variants made into the cache.

A variant is named ``<key>-<width>.<ext>``: the key is a hash of the source's
bytes and of everything else that decides the variant's bytes (quality,
encoder speed, Pillow's version: ``Settings.fingerprint``), so the name is
also the cache entry and a URL that can be cached forever. Entries are
written to a temporary name and renamed: a build that stops midway leaves no
half-written file.

Variants carry the pixels only: the EXIF orientation is applied, then EXIF,
XMP and comments (a phone photo's GPS position, its serial number) are
dropped; the ICC colour profile stays, so colours don't shift.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from filedigest import file_sha256
from wholefile import write_whole

EXTENSIONS = {"avif": ".avif", "webp": ".webp", "jpeg": ".jpg", "png": ".png"}
MIME_TYPES = {
    "avif": "image/avif",
    "webp": "image/webp",
    "jpeg": "image/jpeg",
    "png": "image/png",
}
# The format a browser without AVIF/WebP gets, by the source's format.
FALLBACKS = {"JPEG": "jpeg", "MPO": "jpeg", "PNG": "png", "WEBP": "webp", "GIF": "png"}
ORIENTATION = 0x0112
SWAPPED = frozenset({5, 6, 7, 8})  # orientations that turn the picture a quarter


class ImageError(Exception):
    """A source image that can't be used; the message says why and what to do
    (the caller adds the file and the field that named it)."""


@dataclass(frozen=True)
class Probe:
    """What a source image is, as a reader will see it (orientation applied)."""

    width: int
    height: int
    fallback: str  # "jpeg", "png" or "webp"
    animated: bool


@dataclass(frozen=True)
class Job:
    """The variants of one source that the cache doesn't hold yet."""

    source: Path
    key: str
    widths: tuple[int, ...]
    formats: tuple[str, ...]  # the better ones and the fallback
    quality: Mapping[str, int]
    avif_speed: int
    cache: Path
    max_pixels: int


def digest(path: Path) -> str:
    """SHA-256 of a file's bytes (hex), read once per build (plugins/filedigest:
    socialcards hashes the same covers)."""
    return file_sha256(path)


def variant_name(key: str, width: int, fmt: str) -> str:
    return f"{key}-{width}{EXTENSIONS[fmt]}"


def cache_entry(cache: Path, name: str) -> Path:
    return cache / name[:2] / name


@contextmanager
def _opened(path: Path, max_pixels: int) -> Iterator[Image.Image]:
    """The image, opened lazily; every way it can be unusable is an ImageError."""
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            # Over the limit is a refusal here, not a warning (Pillow only
            # refuses at twice the limit).
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                yield image
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(
            f"too many pixels (over {max_pixels:,}, PICTURES_MAX_PIXELS): a "
            "decompression bomb, or a photo to shrink before adding it"
        ) from None
    except UnidentifiedImageError:
        raise ImageError(
            "not an image Pillow can read (a broken file, or another format "
            "under an image's name): export it again as JPEG or PNG"
        ) from None
    except FileNotFoundError:
        raise ImageError("the file does not exist") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(
            f"can't be read ({exc}): the file is truncated or damaged; export it again"
        ) from None
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def probe(path: Path, max_pixels: int, *, decode: bool = False) -> Probe:
    """Read a source's header (and, with ``decode``, all of its pixels, which
    finds a truncated file)."""
    with _opened(path, max_pixels) as image:
        width, height = image.size
        if width * height > max_pixels:
            raise ImageError(
                f"{width}x{height} is too many pixels (over {max_pixels:,}, "
                "PICTURES_MAX_PIXELS): shrink it before adding it"
            )
        if image.getexif().get(ORIENTATION) in SWAPPED:
            width, height = height, width
        fallback = FALLBACKS.get(image.format or "", "")
        if not fallback:
            fallback = "png" if "A" in image.mode or image.mode == "P" else "jpeg"
        animated = bool(getattr(image, "is_animated", False))
        if decode:
            image.load()
    return Probe(width, height, fallback, animated)


def widths_for(width: int, wanted: tuple[int, ...]) -> tuple[int, ...]:
    """The variant widths of an image ``width`` pixels wide: the wanted ones it
    can fill, and its own when it falls between two (never enlarged)."""
    fitting = [w for w in wanted if w <= width]
    if width < max(wanted) and width not in fitting:
        fitting.append(width)
    return tuple(fitting)


def height_for(width: int, source: Probe) -> int:
    return max(1, round(width * source.height / source.width))


def _pixels(image: Image.Image) -> Image.Image:
    """The image upright, in RGB or RGBA, with no metadata but its colour profile."""
    icc = image.info.get("icc_profile")
    upright = ImageOps.exif_transpose(image)
    alpha = upright.mode in {"RGBA", "LA", "PA", "La", "RGBa"} or (
        upright.mode == "P" and "transparency" in upright.info
    )
    pixels = upright.convert("RGBA" if alpha else "RGB")
    if pixels is upright:
        pixels = upright.copy()
    pixels.info = {"icc_profile": icc} if icc else {}
    return pixels


def _encode(image: Image.Image, fmt: str, job: Job) -> bytes:
    options: dict = {}
    icc = image.info.get("icc_profile")
    if icc:
        options["icc_profile"] = icc
    if fmt == "jpeg":
        if image.mode != "RGB":
            image = image.convert("RGB")
        options.update(quality=job.quality["jpeg"], optimize=True, progressive=True)
    elif fmt == "webp":
        options.update(quality=job.quality["webp"], method=4)
    elif fmt == "avif":
        options.update(quality=job.quality["avif"], speed=job.avif_speed)
    elif fmt == "png":
        options.update(optimize=True)
    buffer = io.BytesIO()
    image.save(buffer, fmt.upper(), **options)
    return buffer.getvalue()


def make(job: Job) -> int:
    """Make a job's variants into the cache; how many files were written.

    Raises ImageError for a source that can't be decoded.
    """
    with _opened(job.source, job.max_pixels) as image:
        try:
            pixels = _pixels(image)
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise ImageError(f"can't be decoded ({exc}): export it again") from None
    made = 0
    for width in sorted(job.widths, reverse=True):
        height = max(1, round(width * pixels.height / pixels.width))
        if width == pixels.width:
            sized = pixels
        else:
            sized = pixels.resize(
                (width, height), Image.Resampling.LANCZOS, reducing_gap=3.0
            )
            sized.info = dict(pixels.info)
        for fmt in job.formats:
            write_whole(
                cache_entry(job.cache, variant_name(job.key, width, fmt)),
                _encode(sized, fmt, job),
            )
            made += 1
    return made


def make_or_error(job: Job) -> tuple[int, str | None]:
    """``make`` for a worker process: errors come back as text, not exceptions."""
    try:
        return make(job), None
    except ImageError as exc:
        return 0, str(exc)
    except OSError as exc:
        return 0, f"could not write a variant to {job.cache} ({exc})"
