"""The community plugin's one exception type."""

from __future__ import annotations

from configuration import ConfigError


class CommunityError(ConfigError):
    """A mistake the editor can fix: the message names the file, line or feed.

    Only invalid configuration raises it (a malformed ``feeds.toml``, a
    duplicate URL, an unreadable OPML file). A feed that is down, slow, huge
    or broken never does: that is reported, not raised.
    """
