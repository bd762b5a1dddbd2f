"""``python -m piazza.pelican_main ARGS``: ``python -m pelican ARGS``, without
the interpreter's teardown.

A build leaves millions of objects (every content, its fields, the rendered
pages) that Python frees one by one when it exits: at 2,000 posts that is
0.6-0.9 s after the last file is written, on every build, for nothing. Here
the exit handlers run, the logs and the standard streams are flushed, and the
process ends at once. Files are written and closed by the build itself
(Pelican's writer and the plugins close what they write), so nothing is lost.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys


def main(argv: list[str]) -> int:
    import pelican  # noqa: PLC0415 (after the caller's sys.path is set)

    try:
        pelican.main(argv)
    except SystemExit as exc:  # as sys.exit() would end it
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        sys.stderr.write(f"{exc.code}\n")
        return 1
    return 0


def _exit_now(code: int) -> None:
    """End the process; at once if nothing else is running in it.

    A pool's worker processes or another thread (a build that failed before
    its plugins shut their pools down) need the interpreter's own exit,
    which stops and joins them: skipping it would leave the process waiting
    for them for ever."""
    import multiprocessing  # noqa: PLC0415
    import threading  # noqa: PLC0415

    if threading.active_count() > 1 or multiprocessing.active_children():
        sys.exit(code)
    atexit._run_exitfuncs()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(code)


if __name__ == "__main__":
    _exit_now(main(sys.argv[1:]))
