"""The editor's configuration, read the same way by every plugin.

Settings in ``pelicanconf.py`` and files such as ``content/staff.toml`` or
``content/community/feeds.toml`` are written by people: a mistake must stop
the build with a message that names the setting, or the file and line, and
says what to do, never with a traceback. Each plugin keeps its own exception
type (a subclass of :class:`ConfigError`); the checks live here, once.

Not a Pelican plugin (it registers nothing): plugins import it, as they
import ``sanitize``.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_TOML_POSITION = re.compile(r"\s*\(at line (\d+)(?:, column (\d+))?\)")


class ConfigError(Exception):
    """A mistake the editor can fix; the message starts with ``path:line:``
    when it is about a file."""

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


def read_text(path: Path, error: type[ConfigError]) -> str | None:
    """The file's text, or None if it does not exist."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as exc:
        raise error(f"not UTF-8 text ({exc.reason})", path=path) from None
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror}", path=path) from None


def parse_toml(text: str, path: Path | str, error: type[ConfigError]) -> dict:
    """TOML text as a dict; a syntax error names the line (and column)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_POSITION.search(str(exc))
        message = _TOML_POSITION.sub(
            lambda m: f" (column {m.group(2)})" if m.group(2) else "", str(exc)
        ).strip(" .")
        raise error(
            f"not valid TOML: {message}; check quotes, commas and brackets",
            path=path,
            line=int(match.group(1)) if match else None,
        ) from None


def array_of_tables(
    data: Mapping[str, Any],
    name: str,
    item: str,
    path: Path | str,
    error: type[ConfigError],
) -> list[dict[str, Any]]:
    """The ``[[name]]`` tables of a file that holds nothing else (``item``
    says what one table is, for the message)."""
    unknown = sorted(set(data) - {name})
    if unknown:
        raise error(
            f"unknown top-level key {unknown[0]!r}: each {item} goes in its own "
            f"[[{name}]] table",
            path=path,
        )
    tables = data.get(name, [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise error(f"'{name}' must be a list of [[{name}]] tables", path=path)
    return tables


def number(
    values: Mapping[str, Any],
    key: str,
    error: type[ConfigError],
    minimum: float = 0.001,
) -> float:
    """Setting ``key`` as a finite number ≥ ``minimum``."""
    value = values[key]
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < minimum
    ):
        raise error(f"setting {key} must be a number ≥ {minimum}, not {value!r}")
    return float(value)


def integer(
    values: Mapping[str, Any], key: str, error: type[ConfigError], minimum: int = 1
) -> int:
    """Setting ``key`` as a whole number ≥ ``minimum``."""
    value = values[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise error(f"setting {key} must be a whole number ≥ {minimum}, not {value!r}")
    return value


def whole_number(
    value: Any, name: str, low: int, high: int, error: type[Exception]
) -> int:
    """``value`` (setting ``name``, or an item of it) as a whole number from
    ``low`` to ``high``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not low <= value <= high
    ):
        raise error(f"{name}={value!r}: use a whole number from {low} to {high}")
    return value


def chosen_from(values: Any, name: str, allowed: Any, error: type[Exception]) -> tuple:
    """``values`` (setting ``name``) as a tuple, each one of ``allowed``."""
    chosen = tuple(values)
    unknown = [value for value in chosen if value not in allowed]
    if unknown:
        raise error(
            f"{name}: unknown {', '.join(map(repr, unknown))}; "
            f"use some of {', '.join(allowed)}"
        )
    return chosen
