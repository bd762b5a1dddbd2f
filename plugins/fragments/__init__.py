"""Render a per-item fragment once per build and reuse it on every listing.

An article appears on many listings (home, its category, each tag, its
author, in every language): its card is the same each time. ``fragment()``
renders ``partials/<name>.html`` once per (item, language) and reuses the
HTML, which keeps listing pages cheap on large sites.
"""

from pelican import signals

from fragments import glue


def register() -> None:
    signals.generator_init.connect(glue.install_fragment_cache)
