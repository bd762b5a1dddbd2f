"""Social cards: a 1200×630 image per article and page, drawn at build in
the post's language (its title, the site's name, its cover when it has one),
for Open Graph and Twitter cards.

Contract (CONVENTIONS: contracts named in one place): after this plugin,
every article and page with a card has

- ``social_card``: its URL relative to SITEURL, no leading slash;
- ``social_card_alt``: what the card shows, for og:image:alt;
- ``social_card_type``, ``social_card_width``, ``social_card_height``.

base.html's ``meta`` block uses them, or SOCIAL_IMAGE without. The cover comes
from plugins/pictures/cover.py's ``cover_source``; this plugin needs only the
source file, so it may run before or after plugins/pictures. Settings and
their defaults: ``socialcards/settings.py``.
"""

from pelican import signals

from socialcards import generator


def register() -> None:
    signals.all_generators_finalized.connect(generator.make_cards)
