"""Build messages in whole lines when nobody watches a terminal.

Pelican logs through rich, which lays each message out in a table as wide as
the console: 80 columns when the output goes to a file, a pipe or a CI log, so
file paths and URLs break in the middle and every line is padded with spaces.
When the output is not a terminal, one plain line per message is what people
grep and read: rich's console stops wrapping, and its log handler is swapped
for a plain one (same filters, same levels). At a terminal, nothing changes.
"""

from __future__ import annotations

import logging
import sys

FORMAT = "%(levelname)-8s %(message)s"


class PlainLineHandler(logging.StreamHandler):
    """One unwrapped line per message (tracebacks follow it, as logging does)."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)
        self.setFormatter(logging.Formatter(FORMAT))


def install() -> None:
    from pelican.log import DEFAULT_LOG_HANDLER, console  # noqa: PLC0415

    if console.is_terminal:
        return
    # What Pelican prints itself ("Done: Processed …") is not wrapped either.
    console.soft_wrap = True
    root = logging.getLogger()
    if DEFAULT_LOG_HANDLER not in root.handlers:
        return
    plain = PlainLineHandler()
    plain.setLevel(DEFAULT_LOG_HANDLER.level)
    for log_filter in DEFAULT_LOG_HANDLER.filters:
        plain.addFilter(log_filter)
    root.removeHandler(DEFAULT_LOG_HANDLER)
    root.addHandler(plain)
