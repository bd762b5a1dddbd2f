"""The list of comment threads the site has, for the comment server's guard.

Writes ``comment-threads.json`` at the output's root: ``{"threads": {uri:
title}}`` for every post and page that takes comments (``comment_uri``, set
by the comments plugin: list this plugin AFTER "comments" in PLUGINS, it reads
what that one prepared), and every page a generator lists in its
``comment_threads`` (the ideas board's idea pages). The production comment
server reads the live release's copy (``PIAZZA_THREADS_FILE``,
piazza/isso_guard.py): a comment may only open a thread for a real post,
under the post's own title, never one a sender made up. The list is public
anyway (every URI is a page of the site).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from markupsafe import Markup
from pelican import signals

FILENAME = "comment-threads.json"
logger = logging.getLogger(__name__)


def write_threads(generators: list[Any]) -> None:
    """After the comments plugin has marked what takes comments: write the list."""
    threads: dict[str, str] = {}
    settings = None
    for generator in generators:
        settings = settings or generator.settings
        # comment_threads: pages a plugin writes itself (the ideas board).
        for attribute in (
            "articles",
            "translations",
            "pages",
            "hidden_pages",
            "comment_threads",
        ):
            for content in getattr(generator, attribute, ()):
                uri = getattr(content, "comment_uri", None)
                if uri:
                    threads[uri] = Markup(content.title).striptags()
    if settings is None or not threads:
        return
    output = Path(settings["OUTPUT_PATH"])
    output.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"threads": dict(sorted(threads.items()))}, ensure_ascii=False)
    (output / FILENAME).write_text(text + "\n", encoding="utf-8")
    logger.info("wrote %s: %d comment threads", FILENAME, len(threads))


def register() -> None:
    signals.all_generators_finalized.connect(write_threads)
