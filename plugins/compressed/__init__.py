"""Pre-compressed .br and .gz siblings of the site's text files, made once per
file version (a cache by content hash under var/), on every core.

Runs on pelican-granular-signals' ``compress`` signal, after every plugin's
``finalized`` work, so it sees the output as it will be published.
"""

from __future__ import annotations

import logging
from pathlib import Path

import blinker
import pelican.plugins.granular_signals

from compressed import settings as configuration
from compressed.store import compress_output

logger = logging.getLogger(__name__)


def compress_site(pelican_object) -> None:
    try:
        settings = configuration.read(pelican_object.settings)
    except configuration.SettingsError as exc:
        logger.error("compressed: %s", exc)
        return
    outcome = compress_output(Path(pelican_object.settings["OUTPUT_PATH"]), settings)
    logger.info(
        "compressed: %d variants of %d files, %d made now, the rest from %s (%.1f s)",
        outcome.variants,
        outcome.files,
        outcome.compressed,
        settings.cache,
        outcome.seconds,
    )


def register() -> None:
    pelican.plugins.granular_signals.register()
    blinker.signal("compress").connect(compress_site)
