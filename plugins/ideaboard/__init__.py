"""The ideas board: pages built from content/ideas/ and the ideas service's
snapshot (snapshot.py). Settings and their defaults: ``ideaboard/settings.py``;
what wins between git and the service: ``ideaboard/board.py``.

What this plugin gives the templates and other plugins:

Context (set in ``generate_context``, so every writer sees them):

``ideas_urls``
    ``{lang: {"board", "trending", "newest", "roadmap", "propose", "feed",
    ...}}``: the board's addresses (the menu, the home page).
``ideas_latest_decisions``
    ``{lang: [decision, ...]}``: the home page's "Latest decisions", newest
    first, at most ``IDEAS_HOME_DECISIONS``.

Generator attribute ``comment_threads``: each idea page's Isso thread
(``comment_uri``, ``title``), listed by plugins/commentthreads.

Each page it writes has ``page_alternates`` in its context: plugins/multilang
gives them to the templates (hreflang, the language switcher) and
plugins/channels to the sitemap.

Order in ``PLUGINS``: after ``multilang`` (the templates' languages) and
``comments`` (``comments_enabled``), before ``commentthreads`` (which lists
the idea pages' threads) and ``channels`` (whose sitemap records the pages as
they are written).
"""


def register() -> None:
    # Imported here, as the community plugin does: the package's pure logic
    # (its model, rank, board) needs none of Pelican.
    from pelican import signals  # noqa: PLC0415

    from ideaboard import generator  # noqa: PLC0415

    signals.get_generators.connect(generator.get_generators)
