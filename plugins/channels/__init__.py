"""Channels a site offers besides its pages: JSON Feed 1.1 per language,
``sitemap.xml`` with hreflang alternates, and ``robots.txt``.

Written here rather than taken from pelican-sitemap because that plugin's
alternates are invalid (``<xhtml:link ref=...>`` instead of ``href``, and no
self or x-default link), and no maintained Pelican plugin writes JSON Feed 1.1.
"""

from pelican import signals

from channels import glue


def register() -> None:
    signals.generator_init.connect(glue.install_template_helpers)
    signals.get_generators.connect(glue.get_generators)
    signals.content_written.connect(glue.record_written)
