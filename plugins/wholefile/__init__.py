"""Write a file whole or not at all: a temporary file in the same folder,
then an atomic rename, so an interrupted build never leaves half a file for
the next one to trust. Shared by every cache under var/ (compressed variants,
pictures, social cards, rendered pages, the ideas snapshot)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_whole(path: Path, data: bytes, mode: int = 0o644) -> Path:
    """Write ``data`` to ``path`` atomically (OSError if it can't), readable as a
    file written the usual way (``mode``; mkstemp's own is 0600); return ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.part-")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.chmod(name, mode)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return path
