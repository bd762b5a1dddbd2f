"""Scratch folders in memory: where a tmpfs with room is at hand, work that
is thrown away (a publish's build, the search's view of it) goes there.

Creating files is most of what a build costs on a disk (ext4 journals each
new file and folder); in memory it costs next to nothing. ``/dev/shm`` is a
tmpfs on Linux; elsewhere, or when it is short of room, the caller uses the
system's temporary folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from pathlib import Path

MEMORY = Path("/dev/shm")
MIN_FREE = 512 * 2**20


def memory_folder(needed: int = 0, memory: Path = MEMORY) -> Path | None:
    """``memory`` if it is a writable tmpfs with ``needed`` bytes free (and
    at least 512 MiB), else None (the system's temporary folder)."""
    try:
        if not memory.is_dir() or not os.access(memory, os.W_OK):
            return None
        if filesystem_type(memory) != "tmpfs":
            return None
        stats = os.statvfs(memory)
    except OSError:
        return None
    if stats.f_bavail * stats.f_frsize < max(needed, MIN_FREE):
        return None
    return memory


def filesystem_type(folder: Path, mounts: Path = Path("/proc/self/mounts")) -> str:
    """The type of the filesystem holding ``folder``, from the mount table
    ("" where there is none to read, as off Linux)."""
    path = os.path.realpath(folder)
    best, kind = "", ""
    with contextlib.suppress(OSError):
        for line in mounts.read_text(encoding="utf-8", errors="replace").splitlines():
            fields = line.split()
            if len(fields) < 3:
                continue
            point = fields[1].replace("\\040", " ")
            inside = path == point or path.startswith(point.rstrip("/") + "/")
            if inside and len(point) >= len(best):
                best, kind = point, fields[2]
    return kind


def sweep(folder: Path, prefix: str, older_than: float = 24 * 3600) -> list[Path]:
    """Remove this user's folders named ``prefix*`` in ``folder`` untouched
    for ``older_than`` seconds: what a process killed before its cleanup left
    (in memory it holds RAM until the machine restarts). The ones removed."""
    removed = []
    now = time.time()
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if not entry.name.startswith(prefix):
                continue
            with contextlib.suppress(OSError):
                info = entry.stat(follow_symlinks=False)
                mine = info.st_uid == os.getuid()
                folder_of_mine = mine and entry.is_dir(follow_symlinks=False)
                if folder_of_mine and now - info.st_mtime > older_than:
                    shutil.rmtree(entry.path)
                    removed.append(Path(entry.path))
    return removed
