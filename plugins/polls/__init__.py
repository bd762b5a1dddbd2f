"""Polls in posts: a post says ``Poll: <id>``, the poll is the file
content/polls/<id>.toml (question, 2 to 8 options, closing date, in every
language of the site; its format: polls/definition.py). Readers vote on the
ideas service (services/ideas/polls.py) through theme/static/js/polls.js.

What this plugin gives the templates and the service:

``poll_view`` on each post or page with a valid ``Poll:``
    a :class:`polls.model.PollView` in the page's language: the question,
    the options with their numbers, closed or not
    (theme/templates/partials/poll.html renders it).
``output/polls.json`` (``POLLS_OUTPUT``)
    ``{"polls": {id: {"options": [keys], "closes": ISO 8601}}}``: the polls
    of the published posts; the service reads the live release's copy
    (``IDEAS_POLLS_FILE``) and takes votes only for these, until ``closes``.

Settings and their defaults: polls/settings.py. Any order in ``PLUGINS``
(it runs on ``all_generators_finalized``).
"""


def register() -> None:
    from pelican import signals  # noqa: PLC0415

    from polls import generator  # noqa: PLC0415

    signals.all_generators_finalized.connect(generator.prepare)
