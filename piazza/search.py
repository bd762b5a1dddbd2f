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

import gzip
import hashlib
import json
import logging
import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import brotli
import cbor2

log = logging.getLogger(__name__)

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


def index_site(output: Path) -> SearchIndex:
    """Index the built site in ``output`` into ``output/pagefind/``.

    Any earlier bundle is replaced whole. SearchIndexError (with Pagefind's
    own words) if it fails.
    """
    output = Path(output)
    if not (output / "index.html").is_file():
        raise SearchIndexError(
            f"{output} has no index.html: build the site before indexing it."
        )
    bundle = output / BUNDLE
    if bundle.exists():
        shutil.rmtree(bundle)
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            [str(pagefind_binary()), "--site", str(output), "--output-subdir", BUNDLE],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SearchIndexError(
            f"Pagefind did not finish indexing {output} in {TIMEOUT} s."
        ) from None
    seconds = time.perf_counter() - started
    if proc.returncode != 0 or not (bundle / ENTRY).is_file():
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-20:])
        raise SearchIndexError(
            f"Pagefind could not index {output} (exit {proc.returncode}); the "
            f"search would be missing, so nothing goes live. It said:\n{tail}"
        )
    for name in UNUSED:
        (bundle / name).unlink(missing_ok=True)
    make_repeatable(bundle)
    precompress(bundle)
    languages = tuple(
        LanguageIndex(lang, info["pages"], info["meta"])
        for lang, info in read_entry(bundle).items()
    )
    return SearchIndex(bundle, languages, folder_bytes(bundle), seconds)


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


def precompress(bundle: Path) -> None:
    """Write .gz and .br beside Pagefind's scripts, at their best compression,
    for nginx's gzip_static and brotli_static (as pelican-precompress does for
    the pages): every first search loads both. Its other files are compressed
    by Pagefind already."""
    for name in FIRST_LOAD:
        data = (bundle / name).read_bytes()
        (bundle / f"{name}.gz").write_bytes(
            gzip.compress(data, compresslevel=9, mtime=0)
        )
        (bundle / f"{name}.br").write_bytes(brotli.compress(data, quality=11))


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
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


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
