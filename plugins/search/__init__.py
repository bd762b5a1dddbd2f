"""Static search: the search pages (/cerca/, /en/search/) and the marks that
tell Pagefind what to index.

The index itself is built after Pelican, by ``piazza/search.py`` (every build
that publishes calls it). This plugin only renders: the search page in each
language, the header's search form (``search_url()``), and
``search_attributes()``, which a template puts on the element holding its
page's text so Pagefind indexes it, with its filters. Settings and their
defaults: ``search/settings.py``.
"""

from pelican import signals

from search import glue


def register() -> None:
    signals.generator_init.connect(glue.install_template_helpers)
    signals.article_writer_finalized.connect(glue.write_search_pages)
    signals.finalized.connect(glue.say_pages_written)
