"""`invoke check`: is a built site fit to go live?

Reads a Pelican output folder the way a browser and a feed reader would, without
the network: every internal link and asset must resolve to a file in the folder,
feeds must parse, every page needs a title and a canonical URL, stays under a size
budget, and loads nothing over plain http on an https site.

Reader content is judged as reader content: what readers wrote (a comment in
the static snapshot, a community entry) sits in an element marked
``data-reader-content="<what it is>"`` by the theme. A broken link, fragment
or asset inside one is reported as a ``reader-content`` warning naming the
page, the comment or entry and the link, never as an error: one reader must
not be able to stop a publish. The site's own pages are judged strictly.

Images (plugins/pictures): every ``<img>`` needs an ``alt`` (``alt=""`` says
it is decorative), and every image file a page loads stays under its budget
(``PICTURES_BUDGET_VARIANT`` for the variants in images/v/,
``PICTURES_BUDGET_ORIGINAL`` for any other image), named with the pages
that load it.

The search index is checked too (piazza/search.py): the pages marked
``data-pagefind-body`` are counted per ``<html lang>`` as they are read, and
the index must hold exactly those, one per language, within its budget.

Each page is parsed once (lxml); file existence is answered from one walk of the
folder, and URL resolution is cached, so the check stays a small fraction of the
build even at thousands of pages. With a ``cache`` folder (var/check/, as
`invoke check` and `invoke publish` use), what each file says (its own
findings, links, ids, size, feeds; its *facts*) is kept by the SHA-256 of its
bytes (piazza/checkcache.py), so a republish parses only the files whose bytes
changed; what depends on other files (does a link's target exist, does it have
the anchor, is an image under budget, does the search index count every page)
is judged again from the facts at every check, so the findings are the same
with or without the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import runpy
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import feedparser
from lxml import etree

from piazza import checkcache
from piazza.checkcache import FactCache, collector_paused
from piazza.search import check_index
from pictures.settings import Budget, budget
from wording import counted

DEFAULT_SIZE_BUDGET = 512 * 1024
"""Bytes an HTML page may weigh on its own (images and CSS not included)."""

CHECK_CACHE = Path("var/check")
"""Where `invoke check` and `invoke publish` keep each file's facts (relative
to the project; piazza/checkcache.py). Safe to delete."""

DEFAULT_IGNORE_PREFIXES = ("/comments/",)
"""URL paths served by something other than the static site (Isso, via nginx)."""

HTML_SUFFIXES = (".html", ".htm")
FEED_SUFFIXES = (".atom.xml", ".rss.xml")
XML_FEED_TYPES = frozenset({"application/atom+xml", "application/rss+xml"})
JSON_FEED_TYPES = frozenset({"application/feed+json", "application/json"})
JSON_FEED_VERSION = "https://jsonfeed.org/version/"

# <link rel=...> values whose target the browser loads as part of the page.
ASSET_RELS = frozenset(
    {
        "stylesheet",
        "icon",
        "shortcut",
        "apple-touch-icon",
        "apple-touch-icon-precomposed",
        "mask-icon",
        "manifest",
        "preload",
        "modulepreload",
    }
)
# <meta> that point at images or media crawlers fetch (social cards).
META_ASSETS = frozenset(
    {
        "og:image",
        "og:image:url",
        "og:image:secure_url",
        "og:video",
        "og:video:url",
        "og:audio",
        "twitter:image",
        "twitter:image:src",
    }
)
META_LINKS = frozenset({"og:url"})

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_CSS_URL = re.compile(
    r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s]*))\s*\)|@import\s+(?:"([^"]*)"|'([^']*)')"""
)
_REFRESH_URL = re.compile(r"url\s*=\s*['\"]?([^'\"\s;]+)", re.IGNORECASE)
_FAKE_BASE = "http://site.invalid"

_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True)
# Elements that carry URLs, titles or styles; one C-level walk finds them all.
_TAGS = (
    "a",
    "area",
    "link",
    "meta",
    "title",
    "base",
    "style",
    "img",
    "script",
    "iframe",
    "source",
    "video",
    "audio",
    "track",
    "embed",
    "object",
    "input",
)
_XP_IDS = etree.XPath("//@id | //a/@name", smart_strings=False)
_XP_STYLE_ATTRS = etree.XPath("//@style[contains(., 'url(')]", smart_strings=False)
READER_CONTENT_ATTRIBUTE = "data-reader-content"
_XP_READER = etree.XPath(f"//*[@{READER_CONTENT_ATTRIBUTE}]")
# A page the search indexes (plugins/search: search_attributes()).
_XP_SEARCHABLE = etree.XPath("boolean(//*[@data-pagefind-body])")


class Kind(StrEnum):
    """What a finding is about; the report groups findings by it."""

    BROKEN_LINK = "broken-link"
    MISSING_ASSET = "missing-asset"
    BROKEN_FRAGMENT = "broken-fragment"
    INVALID_FEED = "invalid-feed"
    INVALID_SITEMAP = "invalid-sitemap"
    MISSING_TITLE = "missing-title"
    MISSING_CANONICAL = "missing-canonical"
    OVER_BUDGET = "over-budget"
    MIXED_CONTENT = "mixed-content"
    UNREADABLE = "unreadable"
    READER_CONTENT = "reader-content"
    SEARCH_INDEX = "search-index"
    IMAGE_WITHOUT_ALT = "image-without-alt"
    IMAGE_OVER_BUDGET = "image-over-budget"


_ADVICE: dict[str, str] = {
    Kind.BROKEN_LINK: "fix the link in the post or template, or restore the page",
    Kind.MISSING_ASSET: "add the file (content/images, theme/static) or fix the URL",
    Kind.BROKEN_FRAGMENT: "the #anchor names no id on the target page",
    Kind.INVALID_FEED: "feed readers will reject it: check the feed settings/plugin",
    Kind.INVALID_SITEMAP: "search engines will reject it: check the sitemap plugin",
    Kind.MISSING_TITLE: "every page needs a non-empty <title> (see base.html)",
    Kind.MISSING_CANONICAL: 'add <link rel="canonical"> or mark the page noindex',
    Kind.OVER_BUDGET: "split the page or lower the page size (pagination, images)",
    Kind.MIXED_CONTENT: "browsers block http:// assets on https pages: use https://",
    Kind.UNREADABLE: "the file could not be read or parsed",
    Kind.SEARCH_INDEX: "the search page would find nothing, or not every page",
    Kind.IMAGE_WITHOUT_ALT: (
        'describe the image in alt="..." (alt="" if it is only decoration)'
    ),
    Kind.IMAGE_OVER_BUDGET: (
        "export it smaller (fewer pixels, more compression) or raise "
        "PICTURES_BUDGET_VARIANT / PICTURES_BUDGET_ORIGINAL in pelicanconf.py"
    ),
    Kind.READER_CONTENT: (
        "links readers wrote (comments, community entries); they never block a "
        "publish: edit or delete the comment if it matters"
    ),
}


@dataclass(frozen=True, order=True)
class Finding:
    """One problem: its kind, the file it was found in (relative), what's wrong."""

    kind: str
    page: str
    detail: str


@dataclass(frozen=True)
class CheckReport:
    """Everything the check found. Errors block a publish; warnings don't."""

    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    pages: int = 0
    files: int = 0
    drafts: int = 0  # draft pages left out (a published site has none)
    # files read afresh, and files whose facts the cache had (not findings:
    # a report is the same with or without the cache)
    parsed: int = field(default=0, compare=False)
    reused: int = field(default=0, compare=False)

    @property
    def ok(self) -> bool:
        """True when nothing blocks publishing."""
        return not self.errors


@dataclass(frozen=True)
class _Target:
    """Where a URL found in a file points, once resolved against the site."""

    path: str | None  # file in the output (relative, posix) or None if missing
    wanted: str  # the file it should be, for the message
    fragment: str


class _Site:
    """The output folder as a set of files, and URL resolution against SITEURL."""

    def __init__(
        self, root: Path, siteurl: str, ignore_prefixes: Sequence[str]
    ) -> None:
        self.root = root
        self.top = os.fspath(root)
        self.files: set[str] = set()
        self.dirs: set[str] = set()
        for dirpath, dirnames, filenames in os.walk(root):
            rel = dirpath[len(self.top) + 1 :].replace(os.sep, "/")
            prefix = rel + "/" if rel else ""
            self.dirs.update(prefix + d for d in dirnames)
            self.files.update(prefix + name for name in filenames)
        self.siteurl = siteurl.rstrip("/")
        base = urlsplit(self.siteurl or _FAKE_BASE)
        self.scheme = base.scheme
        self.netloc = base.netloc.lower()
        self.base_path = base.path.rstrip("/")
        self.origin = f"{base.scheme}://{base.netloc}"
        self.ignore_prefixes = tuple(ignore_prefixes)
        self._absolute: dict[str, _Target | None] = {}
        # Absolute URLs already known to resolve to a file (or not to be ours).
        self.good: set[str] = set()
        self._relative: dict[tuple[str, str], _Target | None] = {}

    def page_url(self, rel: str) -> str:
        """The URL a file in the output is served at."""
        if rel == "index.html" or rel.endswith("/index.html"):
            rel = rel[: -len("index.html")]
        return f"{self.origin}{self.base_path}/{rel}"

    def resolve(self, ref: str, page_url: str) -> _Target | None:
        """The output file ``ref`` points to, or None if it's not ours to check."""
        if _SCHEME.match(ref) or ref.startswith("//"):
            try:
                return self._absolute[ref]
            except KeyError:
                target = self._absolute[ref] = self._locate(ref)
                if target is None or (target.path and not target.fragment):
                    self.good.add(ref)
                return target
        key = (page_url, ref)
        try:
            return self._relative[key]
        except KeyError:
            target = self._relative[key] = self._locate(urljoin(page_url, ref))
            return target

    def _locate(self, url: str) -> _Target | None:
        try:
            parts = urlsplit(url)
        except ValueError:
            return _Target(None, url, "")
        if parts.scheme not in ("http", "https") or parts.netloc.lower() != self.netloc:
            return None
        path = parts.path or "/"
        if self.base_path:
            if path != self.base_path and not path.startswith(self.base_path + "/"):
                return None
            path = path[len(self.base_path) :] or "/"
        if path.startswith(self.ignore_prefixes):
            return None
        rel = unquote(path).lstrip("/")
        fragment = unquote(parts.fragment)
        wanted = rel + "index.html" if rel == "" or rel.endswith("/") else rel
        if wanted in self.files:
            return _Target(wanted, wanted, fragment)
        if rel in self.dirs and f"{rel}/index.html" in self.files:
            return _Target(f"{rel}/index.html", wanted, fragment)
        return _Target(None, wanted, fragment)


@dataclass
class _Findings:
    errors: set[Finding] = field(default_factory=set)
    warnings: set[Finding] = field(default_factory=set)

    def error(self, kind: Kind | str, page: str, detail: str) -> None:
        self.errors.add(Finding(str(kind), page, detail))

    def warn(self, kind: Kind | str, page: str, detail: str) -> None:
        self.warnings.add(Finding(str(kind), page, detail))


class _Local:
    """What a file's own rules found, before it is known where the file is:
    (is an error, kind, detail) triples, part of the file's facts."""

    def __init__(self) -> None:
        self.found: list[tuple[bool, str, str]] = []

    def error(self, kind: Kind | str, page: str, detail: str) -> None:
        self.found.append((True, str(kind), detail))

    def warn(self, kind: Kind | str, page: str, detail: str) -> None:
        self.found.append((False, str(kind), detail))

    def facts(self) -> tuple[tuple[bool, str, str], ...]:
        return tuple(self.found)


_Sink = _Findings | _Local


@dataclass
class _ReaderFindings:
    """Where findings inside reader content go: every one a warning, of kind
    reader-content, naming the comment or entry (``label``)."""

    found: _Sink
    label: str

    def error(self, kind: Kind | str, page: str, detail: str) -> None:
        self.warn(kind, page, detail)

    def warn(self, kind: Kind | str, page: str, detail: str) -> None:
        self.found.warn(Kind.READER_CONTENT, page, f"{self.label}: {detail}")


@dataclass
class _Pending:
    """What can only be judged once every page has been read."""

    ids: dict[str, frozenset[str]] = field(default_factory=dict)
    # page, target, fragment, what to show, where to report it
    fragments: list[tuple[str, str, str, str, _Findings | _ReaderFindings]] = field(
        default_factory=list
    )
    xml_feeds: set[str] = field(default_factory=set)
    json_feeds: set[str] = field(default_factory=set)
    # searchable pages per <html lang>, for the search index's check
    searchable: Counter[str] = field(default_factory=Counter)
    # image files (relative, posix) and the pages that load them
    images: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))


def check_site(
    output_dir: Path,
    siteurl: str,
    *,
    size_budget: int = DEFAULT_SIZE_BUDGET,
    https_required: bool | None = None,
    ignore_prefixes: Sequence[str] = DEFAULT_IGNORE_PREFIXES,
    drafts: bool = False,
    image_budget: Budget | None = None,
    cache: Path | None = None,
) -> CheckReport:
    """Check a built site in ``output_dir`` published at ``siteurl``.

    Draft pages (``<html data-status="draft">``, which a development build
    writes and a production build never does) are left out unless ``drafts``:
    what is checked is what would be published. A preview checks them too.

    ``siteurl`` is the SITEURL it was built with (empty for relative URLs).
    ``https_required`` (default: whether ``siteurl`` is https) turns http://
    assets into mixed-content errors. URL paths under ``ignore_prefixes`` are
    served by something else (the comment server) and are not looked for.
    ``image_budget`` defaults to the project's settings (pelicanconf.py).

    ``cache`` is a folder (var/check/) where what each file's own rules found
    is kept by content hash (piazza/checkcache.py): a file whose bytes did
    not change is not parsed again. The findings are the same with or without.
    """
    output_dir = Path(output_dir)
    if not output_dir.is_dir():
        raise FileNotFoundError(f"{output_dir} is not a folder: build the site first")
    if https_required is None:
        https_required = siteurl.lower().startswith("https://")
    with collector_paused():  # see piazza/checkcache.py
        site = _Site(output_dir, siteurl, ignore_prefixes)
        facts = FactCache(
            cache / f"facts-{'https' if https_required else 'http'}.bin"
            if cache
            else None,
            _cache_version(https_required),
        )
        found = _Findings()
        pending = _Pending()
        pages = skipped = 0
        for rel in sorted(site.files):
            if rel.endswith(HTML_SUFFIXES):
                checked = _check_page(
                    site,
                    rel,
                    found,
                    pending,
                    facts,
                    size_budget=size_budget,
                    https_required=https_required,
                    drafts=drafts,
                )
                pages += checked
                skipped += not checked
            elif rel.endswith(".css"):
                _check_css(site, rel, found, facts)
            elif rel.endswith(FEED_SUFFIXES):
                pending.xml_feeds.add(rel)
            elif rel.endswith(".json") and (
                rel.startswith("feeds/")
                or "/feeds/" in rel
                or rel.endswith("feed.json")
            ):
                pending.json_feeds.add(rel)
        for rel in sorted(pending.xml_feeds):
            _check_file(site, rel, found, facts, role=b"x", gather=_xml_feed_facts)
        for rel in sorted(pending.json_feeds):
            _check_file(site, rel, found, facts, role=b"j", gather=_json_feed_facts)
        if "sitemap.xml" in site.files:
            _check_file(
                site, "sitemap.xml", found, facts, role=b"s", gather=_sitemap_facts
            )
        facts.save()
        for problem in check_index(output_dir, pending.searchable):
            found.error(Kind.SEARCH_INDEX, "pagefind/", problem)
        _check_image_budgets(
            site, pending, found, image_budget or project_image_budget()
        )
        for page, target, fragment, shown, sink in pending.fragments:
            ids = pending.ids.get(target)
            if ids is not None and fragment not in ids:
                sink.warn(
                    Kind.BROKEN_FRAGMENT,
                    page,
                    f"{shown}: no id {fragment!r} on {target}",
                )
        return CheckReport(
            errors=sorted(found.errors),
            warnings=sorted(found.warnings),
            pages=pages,
            files=len(site.files),
            drafts=skipped,
            parsed=facts.misses,
            reused=facts.hits,
        )


def _cache_version(https_required: bool) -> str:
    """What the facts depend on besides a file's bytes: the rules (this code),
    the parsers, the settings read while gathering them."""
    code = hashlib.sha256()
    for module in (__file__, checkcache.__file__):
        code.update(Path(module).read_bytes())
    return " ".join(
        (
            code.hexdigest(),
            f"lxml={etree.LXML_VERSION}/{etree.LIBXML_VERSION}",
            f"feedparser={feedparser.__version__}",
            f"python={sys.version_info[:3]}",
            f"https={https_required}",
        )
    )


def _read(site: _Site, rel: str, found: _Findings) -> bytes | None:
    try:
        with open(f"{site.top}/{rel}", "rb") as file:  # no Path: 20,000 of them
            return file.read()
    except OSError as exc:
        found.error(Kind.UNREADABLE, rel, f"cannot read {site.root / rel}: {exc}")
        return None


# A page's facts: what a page says, whatever the rest of the site holds.
_PAGE, _DRAFT, _EMPTY = 0, 1, 2
_LINK, _ASSET = 0, 1
_KIND_OF_REF = {_LINK: Kind.BROKEN_LINK, _ASSET: Kind.MISSING_ASSET}


def _check_page(
    site: _Site,
    rel: str,
    found: _Findings,
    pending: _Pending,
    facts: FactCache,
    *,
    size_budget: int,
    https_required: bool,
    drafts: bool = False,
) -> bool:
    """Check one page; False when it is a draft left out of the check."""
    data = _read(site, rel, found)
    if data is None:
        return True
    state, size, ids, lang, base, local, refs, images, feeds = facts.facts(
        b"p", data, partial(_page_facts, https_required=https_required)
    )
    if state == _DRAFT and not drafts:
        return False
    if size > size_budget:
        found.error(
            Kind.OVER_BUDGET,
            rel,
            f"{size:,} bytes, over the budget of {size_budget:,} bytes",
        )
    if state == _EMPTY:
        found.error(Kind.UNREADABLE, rel, "empty, or not parseable as HTML")
        return True
    own_ids = pending.ids[rel] = frozenset(ids)
    if lang is not None:
        pending.searchable[lang] += 1
    for is_error, kind, detail in local:
        (found.error if is_error else found.warn)(kind, rel, detail)
    page_url = site.page_url(rel)
    if base is not None:
        page_url = urljoin(page_url, base)
    good = site.good
    sinks: dict[str | None, _Findings | _ReaderFindings] = {None: found}
    for ref, shown, kind, label in refs:
        if ref in good:
            continue
        sink = sinks.get(label)
        if sink is None:
            sink = sinks[label] = _ReaderFindings(found, label)
        _check_ref(
            site,
            rel,
            page_url,
            ref,
            sink,
            own_ids=own_ids,
            pending=pending,
            shown=shown,
            kind=_KIND_OF_REF[kind],
        )
    for ref in images:
        target = site.resolve(ref, page_url)
        if target is not None and target.path and target.path.endswith(IMAGE_SUFFIXES):
            pending.images[target.path].add(rel)
    for ref, xml in feeds:
        target = site.resolve(ref, page_url)
        if target is not None and target.path is not None:
            (pending.xml_feeds if xml else pending.json_feeds).add(target.path)
    return True


def _page_facts(data: bytes, *, https_required: bool) -> tuple:
    """What a page's own rules find, and what it links to, loads and names:
    (state, size, ids, searchable lang, base href, findings, refs, images,
    feeds), plain values (piazza/checkcache.py keeps them)."""
    doc = etree.fromstring(data, _PARSER) if data.strip() else None
    if doc is None:
        return (_EMPTY, len(data), (), None, None, (), (), (), ())
    state = _DRAFT if doc.get("data-status") == "draft" else _PAGE
    ids = frozenset(_XP_IDS(doc))
    lang = (doc.get("lang") or "unknown") if _XP_SEARCHABLE(doc) else None
    elements = list(doc.iter(*_TAGS))
    base = None
    for element in elements:
        if element.tag == "base" and element.get("href"):
            base = element.get("href").strip()
            break
    local = _Local()
    refs: list[tuple[str, str, int, str | None]] = []
    images: list[str] = []
    feeds: list[tuple[str, bool]] = []
    title = canonical = noindex = False
    readers = _reader_content(doc, local)
    sink: _Local | _ReaderFindings = local
    label: str | None = None

    def link(ref: str, shown: str, kind: int = _LINK) -> None:
        if ref.startswith("#"):
            fragment = unquote(ref[1:])
            if fragment and fragment != "top" and fragment not in ids:
                sink.error(Kind.BROKEN_FRAGMENT, "", f"{shown} {ref}: no such id here")
        else:  # the same URLs recur on every page: stored once (marshal)
            refs.append(
                (sys.intern(ref), sys.intern(shown), kind, label and sys.intern(label))
            )

    def asset(ref: str, shown: str, *, loaded: bool = True) -> None:
        if https_required and _is_insecure(ref):
            report = sink.error if loaded else sink.warn
            report(Kind.MIXED_CONTENT, "", f"{shown} {ref} is loaded over http")
        link(ref, shown, _ASSET)

    for element in elements:
        tag = element.tag
        get = element.get
        sink = readers.get(element, local) if readers else local
        label = sink.label if isinstance(sink, _ReaderFindings) else None
        if tag in {"a", "area"}:
            href = get("href")
            if href is not None:
                link(href.strip(), f"<{tag} href>")
        elif tag == "link":
            href = get("href")
            if href is None:
                continue
            ref = href.strip()
            rels = (get("rel") or "").lower().split()
            shown = f'<link rel="{" ".join(rels)}">'
            if "canonical" in rels:
                canonical = True
                link(ref, shown)
            elif ASSET_RELS.intersection(rels):
                asset(ref, shown)
            else:
                link(ref, shown)
                if "alternate" in rels:
                    _note_feed(ref, get("type"), feeds)
        elif tag == "meta":
            content = (get("content") or "").strip()
            name = (get("property") or get("name") or "").lower()
            if name in META_ASSETS:
                asset(content, f'<meta property="{name}">', loaded=False)
            elif name in META_LINKS:
                link(content, f'<meta property="{name}">')
            elif name == "robots" and "noindex" in content.lower():
                noindex = True
            elif (get("http-equiv") or "").lower() == "refresh":
                match = _REFRESH_URL.search(content)
                if match:
                    link(match.group(1), '<meta http-equiv="refresh">')
        elif tag == "title":
            title = title or bool("".join(element.itertext()).strip())
        elif tag == "style":
            for ref in _css_urls("".join(element.itertext())):
                asset(ref, "<style> url()")
        elif tag != "base":
            if tag in {"img", "source"}:
                _note_image(element, images, sink=sink)
            for attribute in ("src", "poster", "data"):
                value = get(attribute)
                if value is not None and value.strip():
                    asset(value.strip(), f"<{tag} {attribute}>")
            srcset = get("srcset")
            if srcset:
                for candidate in _srcset_urls(srcset):
                    asset(candidate, f"<{tag} srcset>")

    sink, label = local, None
    for style in _XP_STYLE_ATTRS(doc):
        for ref in _css_urls(style):
            asset(ref, "style url()")

    if not title:
        local.error(Kind.MISSING_TITLE, "", "no <title>, or an empty one")
    if not canonical and not noindex:
        local.error(
            Kind.MISSING_CANONICAL,
            "",
            'no <link rel="canonical"> (and the page is not marked noindex)',
        )
    return (
        state,
        len(data),
        tuple(sorted(ids)),
        lang,
        base,
        local.facts(),
        tuple(refs),
        tuple(images),
        tuple(feeds),
    )


def _is_insecure(ref: str) -> bool:
    """An absolute http:// URL (what mixed content means)."""
    return ref[:7].lower() == "http://"


IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".avif", ".gif", ".svg")
VARIANTS_DIR = "images/v/"  # plugins/pictures' PICTURES_OUTPUT_DIR default


def project_image_budget(settings_file: Path | None = None) -> Budget:
    """The image budget in the project's pelicanconf.py (defaults: plugins/pictures)."""
    path = settings_file or Path(__file__).resolve().parents[1] / "pelicanconf.py"
    if not path.is_file():
        return Budget()
    return budget(runpy.run_path(str(path)))


def _note_image(
    element: etree._Element,
    images: list[str],
    *,
    sink: _Local | _ReaderFindings,
) -> None:
    """An ``<img>`` needs alt text; remember the image URLs it loads."""
    if element.tag == "img" and element.get("alt") is None:
        src = (element.get("src") or "").strip() or "(no src)"
        sink.error(Kind.IMAGE_WITHOUT_ALT, "", f'<img src="{src}"> has no alt')
    refs = [(element.get("src") or "").strip()]
    refs += _srcset_urls(element.get("srcset") or "")
    images.extend(
        sys.intern(ref) for ref in refs if ref and not ref.startswith(("data:", "#"))
    )


def _check_image_budgets(
    site: _Site, pending: _Pending, found: _Findings, limits: Budget
) -> None:
    """Every image file a page loads weighs less than its budget."""
    for path, pages in sorted(pending.images.items()):
        variant = path.startswith(VARIANTS_DIR) or f"/{VARIANTS_DIR}" in path
        limit = limits.variant if variant else limits.original
        try:
            size = (site.root / path).stat().st_size
        except OSError:
            continue  # reported as a missing asset
        if size > limit:
            used = sorted(pages)
            shown = ", ".join(used[:3]) + (
                f" and {len(used) - 3} more" if len(used) > 3 else ""
            )
            found.error(
                Kind.IMAGE_OVER_BUDGET,
                used[0],
                f"{path}: {size:,} bytes, over the budget of {limit:,} bytes for "
                f"{'an image variant' if variant else 'an image'} (used by {shown})",
            )


def _reader_content(
    doc: etree._Element, found: _Local
) -> dict[etree._Element, _ReaderFindings]:
    """Each element inside reader content, with where its findings go (the
    innermost marked container names it)."""
    readers: dict[etree._Element, _ReaderFindings] = {}
    # Document order: an inner container comes after the one around it.
    for container in _XP_READER(doc):
        label = " ".join((container.get(READER_CONTENT_ATTRIBUTE) or "").split())
        sink = _ReaderFindings(found, label or "reader content")
        for element in container.iter(*_TAGS):
            readers[element] = sink
    return readers


def _check_ref(
    site: _Site,
    rel: str,
    page_url: str,
    ref: str,
    found: _Findings | _ReaderFindings,
    *,
    own_ids: frozenset[str],
    pending: _Pending,
    shown: str,
    kind: Kind,
) -> None:
    """Does ``ref`` (not a bare #fragment: the page's facts judged those) resolve?"""
    target = site.resolve(ref, page_url)
    if target is None:
        return
    if target.path is None:
        found.error(kind, rel, f"{shown} {ref}: no file {target.wanted} in the output")
        return
    fragment = target.fragment
    if not fragment or fragment == "top" or not target.path.endswith(HTML_SUFFIXES):
        return
    if target.path == rel:
        if fragment not in own_ids:
            found.error(Kind.BROKEN_FRAGMENT, rel, f"{shown} {ref}: no such id here")
    else:
        pending.fragments.append((rel, target.path, fragment, f"{shown} {ref}", found))


def _note_feed(ref: str, mime: str | None, feeds: list[tuple[str, bool]]) -> None:
    mime = (mime or "").lower().split(";")[0].strip()
    if mime in XML_FEED_TYPES or mime in JSON_FEED_TYPES:
        feeds.append((ref, mime in XML_FEED_TYPES))


def _srcset_urls(srcset: str) -> Iterable[str]:
    for candidate in srcset.split(","):
        parts = candidate.split()
        if parts:
            yield parts[0]


def _css_urls(text: str) -> Iterable[str]:
    for match in _CSS_URL.finditer(text):
        ref = next((group for group in match.groups() if group), "").strip()
        if ref and not ref.startswith(("data:", "#")):
            yield ref


def _check_css(site: _Site, rel: str, found: _Findings, facts: FactCache) -> None:
    data = _read(site, rel, found)
    if data is None:
        return
    url = site.page_url(rel)
    for ref in facts.facts(b"c", data, _css_facts):
        target = site.resolve(ref, url)
        if target is not None and target.path is None:
            found.error(
                Kind.MISSING_ASSET,
                rel,
                f"CSS url({ref}): no file {target.wanted} in the output",
            )


def _css_facts(data: bytes) -> tuple[str, ...]:
    return tuple(_css_urls(data.decode("utf-8", errors="replace")))


class _FileFacts:
    """What a feed's or sitemap's own rules find, and the site URLs it names."""

    def __init__(self) -> None:
        self.local = _Local()
        self.urls: list[tuple[str, str]] = []

    def url(self, url: object, shown: str) -> None:
        if isinstance(url, str) and url:
            self.urls.append((url, shown))

    def facts(self) -> tuple:
        return (self.local.facts(), tuple(self.urls))


def _check_file(
    site: _Site,
    rel: str,
    found: _Findings,
    facts: FactCache,
    *,
    role: bytes,
    gather: Callable[[bytes], tuple],
) -> None:
    """A feed or sitemap: its own findings, then every site URL it names."""
    data = _read(site, rel, found)
    if data is None:
        return
    local, urls = facts.facts(role, data, gather)
    for is_error, kind, detail in local:
        (found.error if is_error else found.warn)(kind, rel, detail)
    page_url = site.page_url(rel)
    for url, shown in urls:
        target = site.resolve(url.strip(), page_url)
        if target is not None and target.path is None:
            found.error(
                Kind.BROKEN_LINK,
                rel,
                f"{shown} {url}: no file {target.wanted} in the output",
            )


def _xml_feed_facts(data: bytes) -> tuple:
    file = _FileFacts()
    parsed = feedparser.parse(data)
    if parsed.get("bozo"):
        problem = parsed.get("bozo_exception")
        file.local.error(Kind.INVALID_FEED, "", f"does not parse as a feed: {problem}")
        return file.facts()
    if not parsed.get("version"):
        file.local.error(Kind.INVALID_FEED, "", "not recognised as an Atom or RSS feed")
        return file.facts()
    for number, entry in enumerate(parsed.entries, start=1):
        if not entry.get("title"):
            file.local.error(Kind.INVALID_FEED, "", f"entry {number} has no title")
        file.url(entry.get("link"), f"entry {number}")
    return file.facts()


def _json_feed_facts(data: bytes) -> tuple:
    file = _FileFacts()
    error = file.local.error
    try:
        feed = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        error(Kind.INVALID_FEED, "", f"not valid JSON: {exc}")
        return file.facts()
    if not isinstance(feed, dict):
        error(Kind.INVALID_FEED, "", "a JSON Feed must be a JSON object")
        return file.facts()
    version = feed.get("version")
    if not isinstance(version, str) or not version.startswith(JSON_FEED_VERSION):
        error(
            Kind.INVALID_FEED,
            "",
            f"'version' is {version!r}, not a {JSON_FEED_VERSION}... URL",
        )
    title = feed.get("title")
    if not isinstance(title, str) or not title.strip():
        error(Kind.INVALID_FEED, "", "'title' is missing or empty")
    items = feed.get("items")
    if not isinstance(items, list):
        error(Kind.INVALID_FEED, "", "'items' is missing or not a list")
        return file.facts()
    for key in ("home_page_url", "feed_url"):
        file.url(feed.get(key), f"'{key}'")
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict) or "id" not in item:
            error(Kind.INVALID_FEED, "", f"item {number} has no 'id'")
            continue
        if "content_html" not in item and "content_text" not in item:
            error(
                Kind.INVALID_FEED,
                "",
                f"item {number} has neither content_html nor content_text",
            )
        file.url(item.get("url"), f"item {number} url")
    return file.facts()


def _sitemap_facts(data: bytes) -> tuple:
    file = _FileFacts()
    try:
        root = etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError as exc:
        file.local.error(Kind.INVALID_SITEMAP, "", f"not well-formed XML: {exc}")
        return file.facts()
    for loc in root.iter("{*}loc"):
        file.url((loc.text or "").strip(), "<loc>")
    return file.facts()


def format_report(report: CheckReport, *, limit: int = 30) -> str:
    """The report as plain text, grouped by kind, errors first.

    At most ``limit`` findings are listed per kind; the rest are counted.
    """
    lines: list[str] = []
    verdict = "OK" if report.ok else "FAILED"
    lines.append(
        f"check {verdict}: {counted(report.pages, 'page')}, "
        f"{counted(report.files, 'file')}, {counted(len(report.errors), 'error')}, "
        f"{counted(len(report.warnings), 'warning')}"
    )
    if report.drafts:
        lines.append(
            f"({counted(report.drafts, 'draft page')} left out: not published; "
            "`invoke check --drafts` checks them too)"
        )
    for label, findings in (("error", report.errors), ("warning", report.warnings)):
        groups: dict[str, list[Finding]] = defaultdict(list)
        for finding in findings:
            groups[finding.kind].append(finding)
        for kind, items in sorted(groups.items()):
            advice = _ADVICE.get(kind)
            header = f"\n{label}s: {kind} ({len(items)})"
            lines.append(header + (f" — {advice}" if advice else ""))
            lines.extend(f"  {f.page}: {f.detail}" for f in items[:limit])
            if len(items) > limit:
                lines.append(f"  … and {len(items) - limit} more")
    return "\n".join(lines)
