"""The comments plugin's one exception type."""

from __future__ import annotations

from pathlib import Path


class CommentsError(Exception):
    """A mistake the editor can fix: the message names the setting, or the
    file and line (a malformed ``content/staff.toml``).

    A comment server that is down, slow or answers nonsense never raises it:
    the build goes on with a warning (see ``isso.IssoUnreachable``).
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
