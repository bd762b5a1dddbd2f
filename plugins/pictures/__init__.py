"""Pictures: a post's cover (``Image:`` + ``Image-Alt:`` metadata) and its
inline raster images, made into responsive variants (AVIF/WebP/original) at
build, cached under var/ by content hash and settings.

The contract the theme and plugins/socialcards rely on is in ``cover.py``
(``Picture``, ``cover_source``) and ``theme/templates/macros/pictures.html``.
"""
