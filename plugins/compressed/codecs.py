"""Compressing one file's bytes: pure functions, no files."""

from __future__ import annotations

import zlib

import brotli


def compress(data: bytes, fmt: str, level: int) -> bytes:
    """``data`` as a .br or .gz file; b"" when that would not be smaller
    (then no sibling is written and nginx sends the file itself)."""
    if fmt == "br":
        blob = brotli.compress(data, mode=brotli.MODE_TEXT, quality=level)
    else:
        # gzip with no name and mtime 0 in its header: the same bytes give the
        # same file, whenever and wherever they are compressed.
        packer = zlib.compressobj(level=level, wbits=16 + zlib.MAX_WBITS)
        blob = packer.compress(data) + packer.flush()
    return blob if len(blob) < len(data) else b""


def decompress(blob: bytes, fmt: str) -> bytes:
    if fmt == "br":
        return brotli.decompress(blob)
    return zlib.decompress(blob, wbits=16 + zlib.MAX_WBITS)
