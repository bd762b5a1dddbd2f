"""Pure byte work: a JPEG or PNG without its metadata, pixels untouched.

The original of every image the site uses is published too (Pelican copies
content/images/ as it is): a phone photo would give away where it was taken.
This drops the metadata blocks (JPEG: EXIF, XMP, IPTC, comments, maker data;
PNG: eXIf and the text chunks) without decoding or re-encoding anything, and
keeps what decides how the picture looks: the colour profile, the JFIF and
Adobe blocks, and the EXIF orientation (a minimal block with that one tag).
"""

from __future__ import annotations

import struct
import zlib

from PIL import Image

ORIENTATION = 0x0112
JPEG_KEEP = frozenset({0xE0, 0xE2, 0xEE})  # APP0 (JFIF), APP2 (ICC), APP14 (Adobe)
PNG_DROP = frozenset({b"eXIf", b"tEXt", b"iTXt", b"zTXt", b"tIME"})
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _orientation_exif(orientation: int) -> bytes:
    """A TIFF/EXIF block holding only the orientation (with the Exif header)."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    return exif.tobytes()


def _orientation_of(exif_block: bytes) -> int:
    exif = Image.Exif()
    try:
        exif.load(exif_block)
    except (SyntaxError, ValueError, struct.error, OSError):
        return 1
    value = exif.get(ORIENTATION, 1)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def strip_jpeg(data: bytes) -> bytes:
    """A JPEG's bytes without metadata segments; ``data`` unchanged when it is
    not a JPEG this understands."""
    if not data.startswith(b"\xff\xd8"):
        return data
    kept = [b"\xff\xd8"]
    orientation = 1
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return data  # not a segment boundary: leave the file alone
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker == 0xDA:  # start of scan: the image data follows
            break
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        segment = data[at : at + 2 + length]
        body = segment[4:]
        if marker == 0xE1 and body.startswith(b"Exif\x00\x00"):
            orientation = _orientation_of(body[6:])
        if (0xE0 <= marker <= 0xEF and marker not in JPEG_KEEP) or marker == 0xFE:
            at += 2 + length
            continue
        kept.append(segment)
        at += 2 + length
    else:
        return data
    if orientation != 1:
        block = _orientation_exif(orientation)
        app1 = b"\xff\xe1" + struct.pack(">H", len(block) + 2) + block
        kept.insert(2 if len(kept) > 1 and kept[1][1] == 0xE0 else 1, app1)
    return b"".join(kept) + data[at:]


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def strip_png(data: bytes) -> bytes:
    """A PNG's bytes without eXIf and text chunks (the orientation kept)."""
    if not data.startswith(PNG_SIGNATURE):
        return data
    chunks = [PNG_SIGNATURE]
    orientation = 1
    at = len(PNG_SIGNATURE)
    while at + 8 <= len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        end = at + 12 + length
        if end > len(data):
            return data
        if kind == b"eXIf":
            orientation = _orientation_of(data[at + 8 : at + 8 + length])
        if kind not in PNG_DROP:
            if kind == b"IDAT" and orientation != 1:
                block = _orientation_exif(orientation)[6:]  # no "Exif\0\0" in PNG
                chunks.append(_png_chunk(b"eXIf", block))
                orientation = 1
            chunks.append(data[at:end])
        at = end
        if kind == b"IEND":
            break
    return b"".join(chunks)


def strip(data: bytes) -> bytes:
    """The file's bytes without metadata, for the formats this knows."""
    if data.startswith(b"\xff\xd8"):
        return strip_jpeg(data)
    if data.startswith(PNG_SIGNATURE):
        return strip_png(data)
    return data
