"""Counted nouns for the messages people read: "1 error", "2 errors".

Terminal and log messages are in English (the site's pages go through gettext);
a count always agrees with its noun. Like ``sanitize``, this package imports
nothing from Pelican, so plugins and the invoke tasks (piazza/) share it.
"""

from __future__ import annotations


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """``n`` and the noun that agrees with it, thousands separated.

    >>> counted(1, "error"), counted(2, "error"), counted(0, "entry", "entries")
    ('1 error', '2 errors', '0 entries')
    """
    noun = singular if n == 1 else (plural or singular + "s")
    return f"{n:,} {noun}"
