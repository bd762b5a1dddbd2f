"""Settings of the polls plugin: defaults in one dict, read into one object.

Every setting can be overridden in ``pelicanconf.py``/``publishconf.py``.
``IDEAS_PUBLIC_URL`` and ``IDEAS_API_URL`` are the ideas service's (the board
reads the same two): polls live on that service.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from configuration import ConfigError, number

DEFAULTS: dict[str, Any] = {
    # The folder of poll files (<id>.toml), inside the content folder (PATH).
    "POLLS_DIR": "polls",
    # Where readers' browsers reach the ideas service (the form's action and
    # polls.js): a path on the site's own origin, behind nginx.
    "IDEAS_PUBLIC_URL": "/idee-api",
    # Where the build reads the polls' numbers (GET <url>/polls), e.g.
    # http://127.0.0.1:8090. None: no request, the last known numbers.
    "IDEAS_API_URL": None,
    # The last good answer, kept for a build with the service down.
    "POLLS_CACHE": "var/ideas/polls.json",
    # Seconds the build waits for the service.
    "POLLS_TIMEOUT": 5.0,
    # What the build writes at the output's root for the service
    # (IDEAS_POLLS_FILE points at the live release's copy).
    "POLLS_OUTPUT": "polls.json",
}


class PollsError(ConfigError):
    """A polls setting that can't be used; the message names it."""


@dataclass(frozen=True)
class PollsSettings:
    folder: Path
    public_url: str
    api_url: str | None
    cache: Path
    timeout: float
    output: str

    @classmethod
    def from_pelican(cls, settings: Mapping[str, Any]) -> PollsSettings:
        value = {**DEFAULTS, **{k: v for k, v in settings.items() if k in DEFAULTS}}
        public = value["IDEAS_PUBLIC_URL"]
        if not isinstance(public, str) or not public.strip():
            raise PollsError(
                f"setting IDEAS_PUBLIC_URL must be the service's path or URL "
                f"(e.g. /idee-api), not {public!r}"
            )
        api = value["IDEAS_API_URL"]
        if api is not None and (
            not isinstance(api, str) or not api.startswith(("http://", "https://"))
        ):
            raise PollsError(
                "setting IDEAS_API_URL must be an absolute URL the build can "
                f"reach (e.g. http://127.0.0.1:8090) or None, not {api!r}"
            )
        output = value["POLLS_OUTPUT"]
        if not isinstance(output, str) or not output or "/" in output:
            raise PollsError(
                f"setting POLLS_OUTPUT must be a file name, not {output!r}"
            )
        content = Path(settings.get("PATH") or "content")
        return cls(
            folder=content / str(value["POLLS_DIR"]),
            public_url=public.rstrip("/"),
            api_url=api.rstrip("/") if api else None,
            cache=Path(str(value["POLLS_CACHE"])).expanduser(),
            timeout=number(value, "POLLS_TIMEOUT", PollsError),
            output=output,
        )
