"""Pages rendered again only when something they are made of changed.

With ``RENDER_CACHE = True`` (publishconf.py), each page Pelican writes is
kept in ``RENDER_CACHE_PATH`` under a key of everything that renders it; a
later build writes the kept page instead of rendering it, byte for byte what
rendering would give (glue.py says how that is made sure).
"""

from __future__ import annotations

from pelican import signals

from rendercache import glue


def register() -> None:
    signals.initialized.connect(glue.configure)
    signals.generator_init.connect(glue.keep_fragment_reads)
    signals.all_generators_finalized.connect(glue.refuse_attachments)
    signals.get_writer.connect(glue.get_writer)
    signals.finalized.connect(glue.finish)
