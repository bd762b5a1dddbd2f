"""A warm Pelican for the development server: a fork server.

`invoke dev` and `invoke livereload` start ``python -m piazza.buildworker``
once. It imports Pelican and the libraries a build needs, then forks one child
per build request: a child starts in milliseconds instead of a second, a
failing or crashing build (``--fatal warnings`` ends Pelican with SystemExit)
only ends its child, and two builds (the changed post first, the whole site
after it) can run side by side.

The protocol is JSON lines. On stdin, a request:
``{"id": 1, "argv": [...pelican arguments...], "log": path, "map": path|null,
"templates": folder|null, "only": [source paths]|null}``;
on stdout, ``{"id": 1, "pid": N}`` at once, then ``{"id": 1, "rc": R}`` when
the build ends. A child writes Pelican's messages to ``log``; with ``map`` it
also writes there, as JSON, each source file's output paths and its
translations' sources (what a later one-post build must select); with
``templates``, compiled templates are cached in that folder; with ``only``,
only the pages of those sources are written.
The worker ends, with its children, when stdin closes.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import select
import signal
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PRELOAD = (
    "pelican",
    "pelican.generators",
    "pelican.readers",
    "pelican.writers",
    "markdown",
    "jinja2",
    "httpx",
    "lxml.html",
    "nh3",
    "feedparser",
    "babel.support",
)
# Where this build child writes its source map (set in the child only).
_request: dict[str, Any] = {}


def _preload(settings: str | None) -> None:
    """Import what every build imports, once, before forking: the libraries
    and the site's plugins (Pelican takes a plugin already imported as is,
    and registers it in each build)."""
    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    if settings:
        from pelican.plugins._utils import load_plugins  # noqa: PLC0415
        from pelican.settings import read_settings  # noqa: PLC0415

        # A plugin that fails to import fails each build, which says why.
        with contextlib.suppress(Exception):
            load_plugins(read_settings(settings))


def _cache_templates(folder: str) -> None:
    """Compiled templates kept on disk between builds (Jinja checks each
    template's source, so an edited template is compiled again)."""
    import jinja2  # noqa: PLC0415
    from pelican import generators  # noqa: PLC0415

    cache = jinja2.FileSystemBytecodeCache(folder)

    class Environment(jinja2.Environment):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("bytecode_cache", cache)
            super().__init__(*args, **kwargs)

    generators.Environment = Environment


def _write_only(sources: set[str]) -> None:
    """Pelican's writer writes only the pages of ``sources`` (the changed
    posts): the first, fast pass of the development server."""
    from pelican.writers import Writer  # noqa: PLC0415

    write_file = Writer.write_file

    def selected(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        content = kwargs.get("article") or kwargs.get("page")
        source = getattr(content, "source_path", None)
        if source and os.path.realpath(source) in sources:
            return write_file(self, name, *args, **kwargs)
        return None

    Writer.write_file = selected


def _contents(generator: Any) -> list[Any]:
    found = []
    for attribute in (
        "articles",
        "translations",
        "drafts",
        "drafts_translations",
        "hidden_articles",
        "hidden_translations",
        "pages",
        "hidden_pages",
        "draft_pages",
        "draft_translations",
    ):
        found += [c for c in getattr(generator, attribute, None) or () if c]
    return found


def write_map(generators: list[Any]) -> None:
    """Each source file: its output paths and its translations' sources."""
    map_path = _request.get("map")
    if not map_path:
        return
    sources: dict[str, dict[str, Any]] = {}
    for generator in generators:
        kind = (
            "page"
            if type(generator).__name__ == "PagesGenerator"
            else "article"
            if type(generator).__name__ == "ArticlesGenerator"
            else None
        )
        if kind is None:
            continue
        for content in _contents(generator):
            source = getattr(content, "source_path", None)
            if not source:
                continue
            entry = sources.setdefault(
                os.path.realpath(source),
                {"kind": kind, "outputs": [], "translations": []},
            )
            if content.save_as and content.save_as not in entry["outputs"]:
                entry["outputs"].append(content.save_as)
            for other in getattr(content, "translations", ()):
                path = os.path.realpath(other.source_path)
                if path not in entry["translations"]:
                    entry["translations"].append(path)
    partial = f"{map_path}.partial"
    with open(partial, "w", encoding="utf-8") as file:
        json.dump(sources, file)
    os.replace(partial, map_path)


def _child(request: dict[str, Any]) -> int:
    """Run one build in this (forked) process; return its exit status."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the dev server stops us
    log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    sys.stdout = open(1, "w", encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    pelican = importlib.import_module("pelican")
    _request.update(request)
    if request.get("templates"):
        _cache_templates(request["templates"])
    if request.get("only") is not None:
        _write_only(set(request["only"]))
    if request.get("map"):
        pelican.signals.all_generators_finalized.connect(write_map)
    try:
        pelican.main(request["argv"])
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    except BaseException as exc:  # noqa: BLE001 (the build's error is its log)
        sys.stderr.write(f"CRITICAL {type(exc).__name__}: {exc}\n")
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return 0


def _answer(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def serve(settings: str | None = None) -> None:
    """Fork a build per request line until stdin closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the dev server's
    _preload(settings)
    children: dict[int, Any] = {}
    buffer = b""
    stdin = sys.stdin.buffer.fileno()
    while True:
        ready, _, _ = select.select([stdin], [], [], 0.02)
        if ready:
            chunk = os.read(stdin, 65536)
            if not chunk:
                break
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                request = json.loads(line)
                sys.stdout.flush()
                pid = os.fork()
                if pid == 0:
                    code = 1
                    try:
                        code = _child(request)
                    finally:
                        os._exit(code)
                children[pid] = request["id"]
                _answer({"id": request["id"], "pid": pid})
        while children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            _answer({"id": children.pop(pid), "rc": os.waitstatus_to_exitcode(status)})
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


if __name__ == "__main__":
    serve(sys.argv[1] if len(sys.argv) > 1 else None)
