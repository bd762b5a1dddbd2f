"""The comments plugin's one exception type."""

from __future__ import annotations

from configuration import ConfigError


class CommentsError(ConfigError):
    """A mistake the editor can fix: the message names the setting, or the
    file and line (a malformed ``content/staff.toml``).

    A comment server that is down, slow or answers nonsense never raises it:
    the build goes on with a warning (see ``isso.IssoUnreachable``).
    """
