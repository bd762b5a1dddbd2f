"""The search index: Pagefind, run over a built site, and its check.

Every build that publishes (`invoke build`, `preview`, `publish`) calls
:func:`index_site` on its output once Pelican is done, so the index is part of
the release: it matches the pages it was built with and rolls back with them.
Pagefind (PyPI ``pagefind[bin]``, pinned in requirements.txt: its binary comes
in the wheel, nothing is downloaded) writes ``pagefind/`` into the output: one
index per ``<html lang>``, over the elements the theme marks
``data-pagefind-body`` (posts, pages, community sources, ideas:
``search_attributes()`` in plugins/search). Drafts carry no mark.

:func:`check_index` is what `invoke check` asks of it (piazza/check.py):
present, one index per language that has searchable pages, each holding every
such page, and small enough for a reader's first search.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import logging
import os
import posixpath
import shutil
import subprocess
import tempfile
import threading
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import brotli
import cbor2

from piazza import scratch
from wholefile import write_whole

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]

DEFAULT_CACHE = ROOT / "var" / "search"
"""Where the compressed variants of Pagefind's scripts are kept, by content
hash: the same Pagefind writes the same scripts, so they are compressed once."""

# The attribute that makes a page searchable (plugins/search). HTML attribute
# names are case-insensitive (in ASCII), and so is Pagefind's selector.
MARK = b"data-pagefind-body"

# Pagefind says this when some page carries the mark (and then ignores the
# pages without it); without the line it indexed every page whole.
MARKED_SITE = "Found a data-pagefind-body element"

BUNDLE = "pagefind"
"""The bundle's folder in the output (SEARCH_BUNDLE_URL in plugins/search)."""

ENTRY = "pagefind-entry.json"

# Pagefind's own ready-made interfaces: we use our own (theme/static/js/search.js)
# on its JavaScript API, so a release doesn't carry them.
UNUSED = (
    "pagefind-ui.js",
    "pagefind-ui.css",
    "pagefind-modular-ui.js",
    "pagefind-modular-ui.css",
    "pagefind-component-ui.js",
    "pagefind-component-ui.css",
    "pagefind-highlight.js",
)

# What every first search downloads whatever the query: the script, its
# worker, the WebAssembly for the language and the language's metadata.
FIRST_LOAD = ("pagefind.js", "pagefind-worker.js")

DEFAULT_FIRST_LOAD_BUDGET = 400 * 1024
"""Bytes on disk of what a first search loads before any index chunk
(pagefind.js, its worker, the language's WebAssembly and metadata). The
scripts travel compressed (about a third), the rest is compressed already."""

DEFAULT_INDEX_BUDGET = 64 * 1024 * 1024
"""Bytes on disk of the whole bundle (every language, every chunk)."""

TIMEOUT = 600


class SearchIndexError(RuntimeError):
    """Pagefind could not index the site; the message says what to do."""


class SearchIndexTimeout(SearchIndexError):
    """Pagefind did not finish in time (not worth a second try)."""


@dataclass(frozen=True)
class LanguageIndex:
    lang: str
    pages: int
    meta: str  # the metadata file, relative to the bundle


@dataclass(frozen=True)
class SearchIndex:
    """What an indexing run wrote."""

    bundle: Path
    languages: tuple[LanguageIndex, ...]
    bytes: int
    seconds: float


def pagefind_binary() -> Path:
    """The Pagefind binary from the pagefind_bin wheel."""
    try:
        from pagefind_bin import get_executable  # noqa: PLC0415
    except ImportError:
        raise SearchIndexError(
            "Pagefind is not installed: run `.venv/bin/pip install -r "
            "requirements.txt` (it pins pagefind[bin], whose wheel carries the binary)."
        ) from None
    try:
        return get_executable()
    except FileNotFoundError as exc:
        raise SearchIndexError(
            f"The pagefind_bin package has no binary for this machine ({exc}): "
            "reinstall it with `.venv/bin/pip install --force-reinstall -r "
            "requirements.txt`."
        ) from None


def index_site(
    output: Path, *, cache: Path | None = None, marked_only: bool = True
) -> SearchIndex:
    """Index the built site in ``output`` into ``output/pagefind/``.

    Any earlier bundle is replaced whole. SearchIndexError (with Pagefind's
    own words) if it fails.

    Pagefind is not run over ``output`` itself but over a copy of the pages
    it is to index, made in sorted order (site_view): Pagefind numbers the
    pages in the order it finds them, which is the order of the folder's
    directory entries, so the same pages built on another disk, or in memory,
    would give an index that differs byte for byte (and a publish that
    re-uploads it). In the copy the order is the same wherever the site was
    built.

    The copy holds only the pages that mention ``data-pagefind-body``: Pagefind
    reads every page to learn whether any carries the mark and then indexes
    only those that do, and the listings (tags, categories, archives,
    pagination) cost it about as much to read as the posts; the same index
    comes out. Should no page really carry the mark (Pagefind says so), it
    indexes every page whole, as it would have. ``marked_only=False`` gives it
    every page from the start. ``cache`` keeps the compressed scripts
    (default: var/search).
    """
    output = Path(output)
    _must_be_built(output)
    bundle = output / BUNDLE
    if bundle.exists():
        shutil.rmtree(bundle)
    started = time.perf_counter()
    pages = read_pages(output, marked_only=marked_only)
    if marked_only and not pages:  # no page even mentions the mark
        log.debug("search index: the marked pages fell short, indexing every page")
        pages, marked_only = read_pages(output, marked_only=False), False
    said = _index_view(output, pages, bundle)
    if marked_only and MARKED_SITE not in said:
        log.debug("search index: the marked pages fell short, indexing every page")
        shutil.rmtree(bundle, ignore_errors=True)
        _index_view(output, read_pages(output, marked_only=False), bundle)
    return _finish(bundle, cache, time.perf_counter() - started)


def _must_be_built(output: Path) -> None:
    if not (output / "index.html").is_file():
        raise SearchIndexError(
            f"{output} has no index.html: build the site before indexing it."
        )


def _finish(bundle: Path, cache: Path | None, seconds: float) -> SearchIndex:
    """What every index gets once Pagefind wrote it: Pagefind's unused
    interfaces removed, the same bytes for the same pages, the scripts
    compressed."""
    for name in UNUSED:
        (bundle / name).unlink(missing_ok=True)
    make_repeatable(bundle)
    precompress(bundle, DEFAULT_CACHE if cache is None else Path(cache))
    languages = tuple(
        LanguageIndex(lang, info["pages"], info["meta"])
        for lang, info in read_entry(bundle).items()
    )
    return SearchIndex(bundle, languages, folder_bytes(bundle), seconds)


class EarlyIndex:
    """The index started as soon as a build's pages are written, while the
    build finishes (publishing: Pelican compresses the files and checks its
    caches for two or three seconds more, and Pagefind takes about as long).

    Pagefind writes its bundle outside the output, so nothing the build
    still does sees it. :meth:`finish` takes it only if the pages it read
    are still the pages in the output, byte for byte; else (or if it
    failed) it indexes again, as :func:`index_site` would have.
    """

    def __init__(self, output: Path) -> None:
        self.output = Path(output)
        self._started = time.perf_counter()
        # beside the output, so the bundle moves in with a rename
        try:
            where = tempfile.mkdtemp(prefix=".pagefind-early-", dir=self.output.parent)
        except OSError:
            where = tempfile.mkdtemp(prefix="piazza-pagefind-early-")
        self._work = Path(where)
        self._pages: dict[str, bytes] = {}
        self._said = ""
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="early-index")
        self._thread.start()

    def _run(self) -> None:
        try:
            _must_be_built(self.output)
            self._pages = read_pages(self.output)
            if self._pages:
                bundle = self._work / BUNDLE
                self._said = _index_view(self.output, self._pages, bundle)
        except BaseException as exc:  # noqa: BLE001 (said again by finish)
            self._error = exc

    def finish(self, cache: Path | None = None) -> SearchIndex:
        """The index in ``output/pagefind/``: the early one if it holds."""
        try:
            waited = time.perf_counter()
            self.wait()
            waited = time.perf_counter() - waited
            if isinstance(self._error, SearchIndexTimeout):
                raise self._error
            early = self._work / BUNDLE
            kept = (
                self._error is None
                and MARKED_SITE in self._said  # (none: index_site says why)
                and read_pages(self.output) == self._pages
            )
            if not kept:
                log.debug(
                    "search index: the early index does not hold (%s), indexing again",
                    self._error or "the pages changed after it started",
                )
                return index_site(self.output, cache=cache)
            bundle = self.output / BUNDLE
            if bundle.exists():
                shutil.rmtree(bundle)
            shutil.move(early, bundle)
            log.debug(
                "search index: started while the build finished and kept "
                "(%.2f s waited for Pagefind once the build was done)",
                waited,
            )
            return _finish(bundle, cache, time.perf_counter() - self._started)
        finally:
            self.cancel()

    def wait(self) -> None:
        """Until Pagefind is done with the pages it read."""
        self._thread.join()

    def cancel(self) -> None:
        """Wait for Pagefind and remove what it wrote (a build that failed)."""
        self.wait()
        shutil.rmtree(self._work, ignore_errors=True)


def read_pages(output: Path, *, marked_only: bool = True) -> dict[str, bytes]:
    """The HTML pages Pagefind's default glob (``**/*.html``) finds in
    ``output`` (paths relative to it, with /), outside the bundle; with
    ``marked_only``, only those that mention ``data-pagefind-body``."""
    found = {}
    for folder, dirs, files in os.walk(output):
        if folder == str(output):
            dirs[:] = [d for d in dirs if d != BUNDLE]
        for name in files:
            if name.endswith(".html"):
                path = os.path.join(folder, name)
                try:
                    with open(path, "rb") as page:
                        data = page.read()
                except OSError as exc:
                    raise SearchIndexError(
                        f"Cannot read {path} to index it ({exc.strerror or exc}); "
                        "nothing goes live. Build again."
                    ) from None
                if not marked_only or MARK in data or MARK in data.lower():
                    found[Path(path).relative_to(output).as_posix()] = data
    return found


def marked_pages(output: Path) -> list[str]:
    """The pages Pagefind is given: those that mention ``data-pagefind-body``."""
    return sorted(read_pages(output))


def site_view(pages: Mapping[str, bytes], folder: Path) -> None:
    """Write ``pages`` into ``folder``, in sorted order. Copies of the bytes
    read, not links to the pages: what Pagefind indexes is exactly what was
    read (and, for an early index, compared with the finished build)."""
    made: set[str] = set()
    for rel in sorted(pages):
        parent = posixpath.dirname(rel)
        if parent not in made:
            (folder / parent).mkdir(parents=True, exist_ok=True)
            made.add(parent)
        (folder / rel).write_bytes(pages[rel])


def _index_view(output: Path, pages: Mapping[str, bytes], bundle: Path) -> str:
    """Pagefind over a view of ``pages`` (made in memory where it can be),
    into ``bundle``; what it said."""
    size = sum(map(len, pages.values()))
    with tempfile.TemporaryDirectory(
        prefix="piazza-pagefind-", dir=scratch.memory_folder(2 * size)
    ) as work:
        view = Path(work, "site")
        view.mkdir()
        site_view(pages, view)
        return run_pagefind(view, bundle, name=output)


def run_pagefind(site: Path, bundle: Path, *, name: Path | None = None) -> str:
    """Pagefind over ``site`` into ``bundle``; what it said. It runs in a
    folder of its own, where no configuration file is found. ``name`` is
    the site as the person publishing knows it (for the messages)."""
    name = name or site
    with tempfile.TemporaryDirectory(prefix="piazza-pagefind-run-") as cwd:
        try:
            proc = subprocess.run(
                [
                    str(pagefind_binary()),
                    "--site",
                    str(site.resolve()),
                    "--output-path",
                    str(bundle.resolve()),
                ],
                cwd=cwd,
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise SearchIndexTimeout(
                f"Pagefind did not finish indexing {name} in {TIMEOUT} s."
            ) from None
    if proc.returncode != 0 or not (bundle / ENTRY).is_file():
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-20:])
        raise SearchIndexError(
            f"Pagefind could not index {name} (exit {proc.returncode}); the "
            f"search would be missing, so nothing goes live. It said:\n{tail}"
        )
    return proc.stdout


# Pagefind's data files: gzip around "pagefind_dcd" and a CBOR document.
_SIGNATURE = b"pagefind_dcd"


def _load(path: Path) -> Any:
    data = gzip.decompress(path.read_bytes())
    if not data.startswith(_SIGNATURE):
        raise ValueError(f"{path.name}: not a Pagefind data file")
    body = data[len(_SIGNATURE) :]
    document = cbor2.loads(body)
    if cbor2.dumps(document) != body:
        raise ValueError(f"{path.name}: its CBOR would not be written back the same")
    return document


def _dump(document: Any) -> bytes:
    return _SIGNATURE + cbor2.dumps(document)


def _named(prefix: str, data: bytes, length: int) -> str:
    return f"{prefix}_{hashlib.sha256(data).hexdigest()[:length]}"


def make_repeatable(bundle: Path) -> None:
    """Make the same pages give the same index, byte for byte.

    Pagefind writes each filter's values in the order of a hash map, which
    changes from run to run: the filter chunks, and through their names the
    metadata and the entry file, would differ between two builds of the same
    pages, and every publish would be a new release. Here each filter's
    values are sorted, each rewritten file is named after its content (as
    Pagefind names its files) and the metadata and the entry file point at
    the new names. A file this cannot read back exactly is left as Pagefind
    wrote it (the index still works; it just isn't repeatable), with a warning.
    """
    entry_path = bundle / ENTRY
    entry = json.loads(entry_path.read_text(encoding="utf-8"))
    try:
        metas = {
            lang: _load(bundle / f"pagefind.{info['hash']}.pf_meta")
            for lang, info in entry["languages"].items()
        }
        chunks = {
            chunk: _load(bundle / "filter" / f"{chunk}.pf_filter")
            for meta in metas.values()
            for _name, chunk in meta[3]
        }
    except (OSError, ValueError, KeyError, IndexError, cbor2.CBORError) as exc:
        log.warning(
            "search index: Pagefind %s wrote a file this build cannot read back "
            "(%s); the index works but will differ between builds of the same pages",
            entry.get("version"),
            exc,
        )
        return
    renamed: dict[str, str] = {}
    written: dict[str, bytes] = {}
    for chunk, (name, values) in chunks.items():
        data = _dump([name, sorted(values, key=lambda v: v[0])])
        renamed[chunk] = _named(chunk.rsplit("_", 1)[0], data, 7)
        written[f"filter/{renamed[chunk]}.pf_filter"] = data
    for lang, meta in metas.items():
        meta[3] = sorted([name, renamed[chunk]] for name, chunk in meta[3])
        data = _dump(meta)
        old = entry["languages"][lang]["hash"]
        entry["languages"][lang]["hash"] = _named(old.rsplit("_", 1)[0], data, 10)
        written[f"pagefind.{entry['languages'][lang]['hash']}.pf_meta"] = data
        (bundle / f"pagefind.{old}.pf_meta").unlink()
    for chunk in chunks:
        (bundle / "filter" / f"{chunk}.pf_filter").unlink()
    for name, data in written.items():
        (bundle / name).write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    entry_path.write_text(
        json.dumps(entry, sort_keys=True, ensure_ascii=False, separators=(",", ":")),
        encoding="utf-8",
    )


def precompress(bundle: Path, cache: Path = DEFAULT_CACHE) -> None:
    """Write .gz and .br beside Pagefind's scripts, at their best compression,
    for nginx's gzip_static and brotli_static (as pelican-precompress does for
    the pages): every first search loads both. Its other files are compressed
    by Pagefind already. The variants are kept in ``cache`` by the script's
    hash (brotli at quality 11 is slow, and the scripts change only with
    Pagefind); a cache that can't be written only costs the time."""
    for name in FIRST_LOAD:
        data = (bundle / name).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        for suffix, compress, decompress in (
            ("gz", lambda d: gzip.compress(d, compresslevel=9, mtime=0), _gunzip),
            ("br", lambda d: brotli.compress(d, quality=11), _unbrotli),
        ):
            kept = cache / f"{digest}.{suffix}"
            variant = _kept(kept, data, decompress)
            if variant is None:
                variant = compress(data)
                try:
                    write_whole(kept, variant)
                except OSError as exc:
                    log.warning("search index: cannot keep %s (%s)", kept, exc)
            (bundle / f"{name}.{suffix}").write_bytes(variant)


def _gunzip(data: bytes) -> bytes:
    return gzip.decompress(data)


def _unbrotli(data: bytes) -> bytes:
    return brotli.decompress(data)


def _kept(path: Path, data: bytes, decompress) -> bytes | None:
    """The variant kept at ``path`` if it gives ``data`` back (checked: it
    takes a millisecond, and a damaged cache must not reach readers)."""
    try:
        variant = path.read_bytes()
        return variant if decompress(variant) == data else None
    except (OSError, EOFError, zlib.error, brotli.error):
        return None


def read_entry(bundle: Path) -> dict[str, dict]:
    """The languages of a bundle: {lang: {"pages": n, "meta": file, "wasm": file}}."""
    entry = json.loads((bundle / ENTRY).read_text(encoding="utf-8"))
    return {
        lang: {
            "pages": int(info.get("page_count", 0)),
            "meta": f"pagefind.{info['hash']}.pf_meta",
            "wasm": f"wasm.{info.get('wasm') or 'unknown'}.pagefind",
        }
        for lang, info in entry["languages"].items()
    }


def folder_bytes(folder: Path) -> int:
    """The bytes of the files under ``folder`` (one that can't be read, such
    as a dangling link, counts nothing)."""
    total = 0
    for path, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.path.getsize(os.path.join(path, name))
    return total


def check_index(
    output: Path,
    searchable: Mapping[str, int],
    *,
    first_load_budget: int = DEFAULT_FIRST_LOAD_BUDGET,
    index_budget: int = DEFAULT_INDEX_BUDGET,
) -> list[str]:
    """What is wrong with the search index of a built site (empty: nothing).

    ``searchable`` counts the pages marked ``data-pagefind-body`` per
    ``<html lang>`` (the check reads every page anyway). With none, a site
    has no search and needs no index.
    """
    if not searchable:
        return []
    bundle = Path(output) / BUNDLE
    rebuild = "build with `invoke build` (or publish), which indexes the site"
    if not (bundle / ENTRY).is_file():
        return [f"no search index ({BUNDLE}/{ENTRY} is missing): {rebuild}"]
    try:
        languages = read_entry(bundle)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [f"{BUNDLE}/{ENTRY} cannot be read ({exc}): {rebuild}"]
    problems = []
    for lang, pages in sorted(searchable.items()):
        info = languages.get(lang)
        if info is None:
            problems.append(
                f"no index for language {lang!r} ({pages} searchable pages): {rebuild}"
            )
            continue
        if info["pages"] != pages:
            problems.append(
                f"the {lang!r} index holds {info['pages']} pages, the site has "
                f"{pages} searchable ones: it is stale; {rebuild}"
            )
        missing = [
            n for n in (info["meta"], info["wasm"]) if not (bundle / n).is_file()
        ]
        if missing:
            problems.append(f"the {lang!r} index lacks {', '.join(missing)}: {rebuild}")
            continue
        first = sum(
            (bundle / n).stat().st_size
            for n in (*FIRST_LOAD, info["meta"], info["wasm"])
            if (bundle / n).is_file()
        )
        if first > first_load_budget:
            problems.append(
                f"a first search in {lang!r} loads {first:,} bytes before any "
                f"result, over the budget of {first_load_budget:,}: fewer or "
                "shorter searchable pages (data-pagefind-ignore on what needn't "
                "be found)"
            )
    unknown = sorted(set(languages) - set(searchable))
    for lang in unknown:
        problems.append(
            f"an index for {lang!r} ({languages[lang]['pages']} pages) that no "
            "searchable page is in: a page without <html lang>, or a stale index; "
            + rebuild
        )
    size = folder_bytes(bundle)
    if size > index_budget:
        problems.append(
            f"the search index weighs {size:,} bytes on disk, over the budget of "
            f"{index_budget:,}: mark less with data-pagefind-body, or raise the budget"
        )
    return problems
