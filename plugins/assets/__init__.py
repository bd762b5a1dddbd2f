"""Fingerprinted theme asset URLs, so nginx can cache them for a year.

``{{ asset_url('css/main.css') }}`` gives ``SITEURL/theme/css/main.css?v=<hash>``
where the hash is of the file's content: a changed file gets a new URL, an
unchanged one keeps it (deploy/nginx.conf caches ``?v=`` URLs as immutable).
"""

from pelican import signals

from assets import glue


def register() -> None:
    signals.generator_init.connect(glue.install_asset_url)
