"""Bilingual site support: UI strings per page language, language-mirrored
listings (``/en/``, ``/en/categoria/...``) and hreflang alternates.

Pelican handles translations of articles and pages itself (``Lang`` and
``Translation`` metadata, linked by slug). This plugin adds what a bilingual
site needs around them without building the site twice (as i18n_subsites
does): every template renders its UI in the language of the page it renders.
"""

from pelican import signals

from multilang import glue


def register() -> None:
    signals.generator_init.connect(glue.install_template_helpers)
    signals.article_writer_finalized.connect(glue.write_language_listings)
    signals.article_writer_finalized.connect(glue.write_year_archives)
    signals.feed_generated.connect(glue.label_feed_categories)
