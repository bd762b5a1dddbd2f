"""Content checks Pelican doesn't make: unknown languages, translations that
point nowhere, images without alt text.

Each problem is logged as an error naming the source file, so ``invoke build``
(``--fatal warnings``) fails before anything half-broken is published, and the
editor sees every problem at once rather than one per build.
"""

from pelican import signals

from contentcheck import fatal, glue, piped


def register() -> None:
    fatal.install()
    piped.install()
    signals.article_generator_finalized.connect(glue.check_articles)
    signals.page_generator_finalized.connect(glue.check_pages)
