"""Pictures: a post's cover (``Image:`` + ``Image-Alt:`` metadata) and its
inline raster images, made into responsive variants (AVIF/WebP/original) at
build, cached under var/ by content hash and settings.

The contract the theme and plugins/socialcards rely on is in ``cover.py``
(``Picture``, ``cover_source``) and ``theme/templates/macros/pictures.html``.
Settings and their defaults: ``pictures/settings.py``.
"""

from pelican import signals

from pictures import glue


def register() -> None:
    signals.initialized.connect(glue.start)
    signals.content_object_init.connect(glue.content_ready)
    signals.static_generator_finalized.connect(glue.static_files)
    signals.finalized.connect(glue.publish)
