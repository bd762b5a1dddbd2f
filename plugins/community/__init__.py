"""Community feeds: a planet of the fans' own blogs and channels.

``invoke aggregate`` fetches the feeds listed in ``content/community/feeds.toml``
into a cache (``var/community/``); the build reads only that cache and writes
the Community section, a page per source, an editors' status page, an Atom
feed and an OPML list, and gives every template ``community_latest``.
Settings and their defaults: ``community/settings.py``.
"""

import sys

# httpx's package imports its command-line client (httpx._main) whenever
# click, pygments and rich are installed (Pelican and Flask bring them): a
# fifth of the time `invoke aggregate` spends starting, for a client nothing
# here runs. Marked absent before the first `import httpx`, it is skipped and
# httpx defines its own fallback `httpx.main` (which says to install
# httpx[cli]). Nothing changes once httpx is imported.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)


def register() -> None:
    # Imported here, not at the top: `invoke aggregate` (and its worker
    # processes) import this package too, and need none of Pelican.
    from pelican import signals  # noqa: PLC0415

    from community import generator  # noqa: PLC0415

    signals.get_generators.connect(generator.get_generators)
