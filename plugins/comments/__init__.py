"""Reader comments: the Isso thread on every post, and its static snapshot.

A post opts out with ``Comments: off``; a page opts in with ``Comments: on``.
The build reads the published comments from Isso's API and renders them into
the pages (for readers without JavaScript and for search engines); the live
widget replaces them in the browser. Settings and their defaults:
``comments/settings.py``; who gets a badge: ``comments/badges.py`` and
``content/staff.toml``.

What this plugin gives other plugins and the templates (the project has no
shared contracts module yet, so they are named here):

Context (set on ``all_generators_finalized``, so every writer sees them):

``comments_enabled``
    Whether comments are on (``ISSO_URL`` set).
``comments_threads``
    ``{thread uri: Thread}`` of every thread read from Isso.
``comments_latest_by_lang``
    ``{lang: (LatestItem, ...)}``: the home page's "Latest comments", newest
    first, at most ``COMMENTS_LATEST`` per language (the post's language).
``comments_most_discussed_by_lang``
    ``{lang: (Discussed, ...)}``: the home page's "Most discussed" posts, at
    most ``COMMENTS_MOST_DISCUSSED`` per language.

Attributes on each post and page that has comments:

``comment_uri``
    Its Isso thread id (its path on the site).
``comment_page_author_hashes``
    The hashes the live widget marks as the page author's
    (``staff-<key>`` of each staff member who owns the post).
``comment_thread``
    Its :class:`comments.model.Thread` (only when the snapshot was read):
    ``plugins/channels`` reads it for the JSON-LD and ``commentCount``.

Order in ``PLUGINS``: after ``multilang`` (the templates' languages) and
before ``channels`` (which reads ``comment_thread``); any order works for the
signals, this one reads best.
"""


def register() -> None:
    # Imported here, not at the top, as the community plugin does: importing
    # the package (its model, its pure rules) needs none of Pelican.
    from pelican import signals  # noqa: PLC0415

    from comments import generator  # noqa: PLC0415

    signals.all_generators_finalized.connect(generator.collect)
