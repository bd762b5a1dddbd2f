"""The social cards plugin's one exception type."""

from __future__ import annotations

from configuration import ConfigError


class SocialCardsError(ConfigError):
    """A mistake the editor can fix: the message names the setting or the file
    (a font that can't be found, a colour the stylesheet doesn't define, a
    cover Pillow can't open)."""
