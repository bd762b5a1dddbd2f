"""The community plugin's one exception type."""

from __future__ import annotations

from pathlib import Path


class CommunityError(Exception):
    """A mistake the editor can fix: the message names the file, line or feed.

    Only invalid configuration raises it (a malformed ``feeds.toml``, a
    duplicate URL, an unreadable OPML file). A feed that is down, slow, huge
    or broken never does: that is reported, not raised.
    """

    # Pelican shows it without a traceback (plugins/contentcheck/fatal.py).
    is_user_error = True

    def __init__(
        self, message: str, *, path: Path | str | None = None, line: int | None = None
    ) -> None:
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line else f"{path}: "
        super().__init__(where + message)
        self.path = Path(path) if path is not None else None
        self.line = line
