"""The rich console the tasks print to.

At a terminal rich lays text out to its width. Anywhere else (a pipe, a log
file, cron's mail) there is no width to respect: lines stay whole, so a file
path or a URL is never cut in the middle, and grep finds it.
"""

from __future__ import annotations

from rich.console import Console


def console() -> Console:
    out = Console()
    if not out.is_terminal:
        out.soft_wrap = True
    return out
