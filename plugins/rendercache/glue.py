"""Pelican glue: a writer that renders a page only when something it is made
of changed, and the bookkeeping that tells.

A page's key (rendercache/key.py) covers the code that renders it (the
plugins, the theme and its templates, the versions of Pelican, Jinja,
Markdown and Babel), its output path, its template, every value of its
template context, and the fields of every article, page and static file the
build reached, but no content's body. While a page renders, every body it
reads (``content``, ``summary`` derived from the body, ``_content``) is
recorded with its digest; a later build writes the kept page only when its
key is the same and each body it read is the same. Rendering is a function of
exactly those inputs, so the kept page is the page a clean build would write.

What would break that is refused: relative URLs (the shared context's
``localsiteurl`` changes under the pages), ``{attach}`` links (rendering a
body moves a static file), a context value the key can't digest (that page is
rendered), and any value that changes while pages are written (the build
fails and the cache is dropped).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sys
import time
from collections import Counter
from importlib import metadata
from pathlib import Path
from typing import Any

from pelican import contents, urlwrappers
from pelican.writers import Writer

from rendercache import settings as configuration
from rendercache.key import Keyer, Unkeyable
from rendercache.store import Store

logger = logging.getLogger(__name__)

# The build's state (one build per process; the dev server forks one each).
_state: dict[str, Any] = {}
# The bodies read by the page being rendered (a stack: a template may render
# another page's fragment).
_reading: list[set[Any]] = []
_ATTACH = re.compile(r"\{attach\}")
VERSIONS = ("pelican", "jinja2", "markdown", "babel", "markupsafe")
# Pelican's lookup tables (source path -> content) and its list of static
# files: filled in no fixed order, and no template lists them.
UNORDERED = ("generated_content", "static_content", "staticfiles")


# ------------------------------------------------------------ body reads
def _note_read(content: Any) -> None:
    if _reading:
        _reading[-1].add(content)


def _body(content: Any) -> Any:
    values = content.__dict__
    return values.get("_rendercache_body", values.get("_content"))


def _get_body(self: Any) -> Any:
    _note_read(self)
    return _body(self)


def _set_body(self: Any, value: Any) -> None:
    self.__dict__["_rendercache_body"] = value
    self.__dict__.pop("_content", None)


def _patch_contents() -> None:
    """Make every read of a content's body visible (once per process)."""
    content = contents.Content
    if "_rendercache_get_content" in content.__dict__:
        return
    get_content = content.__dict__["get_content"]
    get_summary = content.__dict__["get_summary"]

    def read_content(self: Any, siteurl: str) -> str:
        _note_read(self)
        return get_content.__get__(self, type(self))(siteurl)

    def read_summary(self: Any, siteurl: str) -> str:
        if "summary" not in self.metadata:  # else the summary is a field
            _note_read(self)
        return get_summary.__get__(self, type(self))(siteurl)

    content._rendercache_get_content = get_content
    content.get_content = read_content
    content.get_summary = read_summary
    content._content = property(_get_body, _set_body)


def _is_content(obj: Any) -> bool:
    return isinstance(obj, contents.Content)


def _is_wrapper(obj: Any) -> bool:
    return isinstance(obj, urlwrappers.URLWrapper)


def _token(content: Any) -> str:
    path = getattr(content, "relative_source_path", None) or getattr(
        content, "source_path", None
    )
    if not path:
        raise Unkeyable(f"a {type(content).__qualname__} with no source file")
    return f"{type(content).__qualname__}:{path}"


def body_digest(content: Any) -> str:
    body = _body(content)
    if hasattr(content, "_get_content"):
        raise Unkeyable(f"{_token(content)} makes its body with _get_content()")
    data = (body or "").encode("utf-8", "surrogatepass")
    return f"{type(body).__name__}:{hashlib.sha256(data).hexdigest()}"


# ---------------------------------------------------------- fingerprint
def _hash_tree(digest: Any, root: Path) -> None:
    if not root.is_dir():
        return
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(names):
            path = Path(folder, name)
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())


def code_fingerprint(settings: dict[str, Any]) -> str:
    """What renders the pages: plugins, theme, versions."""
    digest = hashlib.sha256()
    for package in VERSIONS:
        digest.update(f"{package}={metadata.version(package)};".encode())
    digest.update(sys.version.encode())
    digest.update(Path(__file__).resolve().parent.name.encode())
    for path in settings.get("PLUGIN_PATHS") or ():
        _hash_tree(digest, Path(path).resolve())
    _hash_tree(digest, Path(settings["THEME"]).resolve())
    for path in settings.get("THEME_TEMPLATES_OVERRIDES") or ():
        _hash_tree(digest, Path(path).resolve())
    return digest.hexdigest()


def _loader_fingerprint(environment: Any) -> str:
    """The files every template search path holds (extends, includes)."""
    remembered = _state["loaders"].get(id(environment))
    if remembered is not None:
        return remembered[1]
    digest = hashlib.sha256()
    paths: list[str] = []

    def walk(loader: Any) -> None:
        for inner in getattr(loader, "loaders", ()) or ():
            walk(inner)
        for inner in (getattr(loader, "mapping", None) or {}).values():
            walk(inner)
        paths.extend(getattr(loader, "searchpath", ()) or ())

    walk(environment.loader)
    for path in paths:
        digest.update(path.encode())
        _hash_tree(digest, Path(path))
    value = digest.hexdigest()
    _state["loaders"][id(environment)] = (environment, value)
    return value


# ---------------------------------------------------------------- pages
def _view(keyer: Keyer, values: dict[str, Any]) -> dict[str, Any]:
    """What of a template context goes in a key. Each publish builds into a
    new folder: where a page is written is not what it shows (a page that
    shows it is not kept)."""
    view = dict(values)
    if "OUTPUT_PATH" in view:
        view["OUTPUT_PATH"] = None
    for name in UNORDERED:
        if isinstance(view.get(name), dict | list):
            view[name] = keyer.unordered(view[name])
    return view


def _base_digest(keyer: Keyer, context: dict[str, Any]) -> bytes:
    """The digest of the context a generator hands the writer, once per
    context (each page's own values are digested apart); finish() checks
    that none changed after."""
    bases = _state["bases"]
    known = bases.get(id(context))
    if known is not None and known[0] is context and known[1] == len(context):
        return known[2]
    value = keyer.digest(_view(keyer, context))
    bases[id(context)] = (context, len(context), value)
    return value


class KeptTemplate:
    """A template whose render() returns the kept page when it may."""

    def __init__(self, template: Any, context: dict[str, Any]) -> None:
        self._template = template
        self._context = context

    def __getattr__(self, name: str) -> Any:
        return getattr(self._template, name)

    def render(self, localcontext: dict[str, Any]) -> str:
        keyer: Keyer = _state["keyer"]
        store: Store = _state["store"]
        counts: Counter = _state["counts"]
        template = self._template
        started = time.perf_counter()
        output = localcontext.get("OUTPUT_PATH")
        try:
            base = _base_digest(keyer, self._context)
            shared = self._context
            missing = object()
            delta = {
                name: value
                for name, value in localcontext.items()
                if shared.get(name, missing) is not value
            }
            page = keyer.digest(_view(keyer, delta))
            every = keyer.contents_digest()
        except Unkeyable as exc:
            counts["unkeyable"] += 1
            _state["why"][str(exc)] += 1
            return template.render(localcontext)
        key = hashlib.sha256(
            b"\0".join(
                (
                    _state["code"].encode(),
                    _loader_fingerprint(template.environment).encode(),
                    str(template.name).encode(),
                    str(localcontext.get("output_file")).encode(),
                    base,
                    page,
                    every,
                )
            )
        ).hexdigest()
        entry = store.get(key)
        if entry is not None and _bodies_unchanged(entry.bodies, keyer):
            text = store.read(key, entry)
            if text is not None:
                counts["kept"] += 1
                _state["seconds"] += time.perf_counter() - started
                return text
        _state["seconds"] += time.perf_counter() - started
        _reading.append(set())
        try:
            text = template.render(localcontext)
        finally:
            read = _reading.pop()
        if _reading:  # a page rendered inside another: the outer read it too
            _reading[-1].update(read)
        try:
            if output and str(output) in text:
                raise Unkeyable("the page shows the output folder")
            bodies = {_token(c): body_digest(c) for c in read}
        except Unkeyable as exc:
            counts["unkeyable"] += 1
            _state["why"][str(exc)] += 1
            return text
        store.put(key, bodies, text)
        counts["rendered"] += 1
        return text


def _bodies_unchanged(bodies: dict[str, str], keyer: Keyer) -> bool:
    for token, digest in bodies.items():
        known = keyer.contents.get(token)
        if known is None:
            return False
        try:
            if body_digest(known[0]) != digest:
                return False
        except Unkeyable:
            return False
    return True


class KeepingWriter(Writer):
    """Pelican's writer, with pages kept between builds (see the module)."""

    def write_file(self, name: Any, template: Any, context: Any, *args, **kwargs):
        if (
            _state.get("store") is not None
            and template is not None
            and isinstance(context, dict)
        ):
            template = KeptTemplate(template, context)
        return super().write_file(name, template, context, *args, **kwargs)


# ----------------------------------------------------------- fragments
def keep_fragment_reads(generator: Any) -> None:
    """A fragment rendered once and reused on other pages (plugins/fragments)
    read bodies for each page that shows it: remember them and note them on
    every page it is shown in."""
    if _state.get("store") is None:
        return
    fragment = generator.env.globals.get("fragment")
    if fragment is None or getattr(fragment, "_rendercache", False):
        return
    reads: dict[tuple[str, int, str], tuple[Any, set[Any]]] = {}

    def kept_fragment(ctx: Any, name: str, item: Any, lang: str) -> Any:
        key = (name, id(item), lang)
        _reading.append(set())
        try:
            html = fragment(ctx, name, item, lang)
        finally:
            read = _reading.pop()
        known = reads.setdefault(key, (item, set()))[1]
        known.update(read)
        if _reading:
            _reading[-1].update(known)
        return html

    kept_fragment.jinja_pass_arg = fragment.jinja_pass_arg  # pass_context
    kept_fragment._rendercache = True
    generator.env.globals["fragment"] = kept_fragment


# ------------------------------------------------------------ the build
def configure(pelican_object: Any) -> None:
    _state.clear()
    settings = pelican_object.settings
    chosen = configuration.read(settings)
    if not chosen.enabled:
        return
    if settings.get("RELATIVE_URLS"):
        logger.info("rendercache: off with RELATIVE_URLS (pages share localsiteurl)")
        return
    _patch_contents()
    _state.update(
        store=Store(chosen.path),
        keyer=Keyer(_is_content, _token, _is_wrapper),
        code=code_fingerprint(settings),
        loaders={},
        counts=Counter(),
        why=Counter(),
        seconds=0.0,
        bases={},
    )


def refuse_attachments(generators: list[Any]) -> None:
    """``{attach}`` moves a static file when the body linking it renders: a
    page not rendered would leave it in the wrong place."""
    if _state.get("store") is None:
        return
    for generator in generators:
        for name in ("articles", "translations", "pages", "hidden_pages"):
            for content in getattr(generator, name, None) or ():
                body = _body(content)
                if isinstance(body, str) and _ATTACH.search(body):
                    logger.info(
                        "rendercache: off for this build: %s links with {attach}",
                        content.source_path,
                    )
                    _state["store"] = None
                    return


def get_writer(pelican_object: Any) -> type[Writer] | None:
    return KeepingWriter if _state.get("store") is not None else None


def finish(pelican_object: Any) -> None:
    store: Store | None = _state.get("store")
    if store is None:
        return
    started = time.perf_counter()
    keyer = _state["keyer"]
    changed = keyer.verify()
    fresh = keyer.checker()
    for context, _, value in _state["bases"].values():
        try:
            if fresh.digest(_view(fresh, context)) != value:
                changed.append("the template context")
        except Unkeyable:
            changed.append("the template context")
    verified = time.perf_counter() - started
    if changed:
        store.forget()
        logger.error(
            "rendercache: %s changed while the pages were written, so kept pages "
            "can't be trusted; the cache in %s is dropped. Build again with "
            "RENDER_CACHE = False and report which plugin changes them.",
            ", ".join(sorted(set(changed))[:5]),
            store.path,
        )
        return
    counts = _state["counts"]
    figures: dict[str, Any] = {
        name: counts[name] for name in ("kept", "rendered", "unkeyable")
    }
    figures.update(
        key_seconds=round(_state["seconds"], 2), verify_seconds=round(verified, 2)
    )
    store.save(figures)
    logger.info(
        "rendercache: %d pages kept, %d rendered, %d not keyable "
        "(keys %.1f s, verified in %.1f s)",
        counts["kept"],
        counts["rendered"],
        counts["unkeyable"],
        _state["seconds"],
        verified,
    )
    for why, count in _state["why"].most_common(5):
        logger.info("rendercache: %d pages not keyable: %s", count, why)
