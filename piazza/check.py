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

The search index is checked too (piazza/search.py): the pages marked
``data-pagefind-body`` are counted per ``<html lang>`` as they are read, and
the index must hold exactly those, one per language, within its budget.

Each page is parsed once (lxml); file existence is answered from one walk of the
folder, and URL resolution is cached, so the check stays a small fraction of the
build even at thousands of pages.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import feedparser
from lxml import etree

from piazza.search import check_index
from wording import counted

DEFAULT_SIZE_BUDGET = 512 * 1024
"""Bytes an HTML page may weigh on its own (images and CSS not included)."""

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
        self.files: set[str] = set()
        self.dirs: set[str] = set()
        for dirpath, dirnames, filenames in os.walk(root):
            rel = os.path.relpath(dirpath, root).replace(os.sep, "/")
            prefix = "" if rel == "." else rel + "/"
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

    def is_insecure(self, ref: str) -> bool:
        """An absolute http:// URL (what mixed content means)."""
        return ref[:7].lower() == "http://"


@dataclass
class _Findings:
    errors: set[Finding] = field(default_factory=set)
    warnings: set[Finding] = field(default_factory=set)

    def error(self, kind: Kind, page: str, detail: str) -> None:
        self.errors.add(Finding(str(kind), page, detail))

    def warn(self, kind: Kind, page: str, detail: str) -> None:
        self.warnings.add(Finding(str(kind), page, detail))


@dataclass
class _ReaderFindings:
    """Where findings inside reader content go: every one a warning, of kind
    reader-content, naming the comment or entry (``label``)."""

    found: _Findings
    label: str

    def error(self, kind: Kind, page: str, detail: str) -> None:
        self.warn(kind, page, detail)

    def warn(self, kind: Kind, page: str, detail: str) -> None:
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


def check_site(
    output_dir: Path,
    siteurl: str,
    *,
    size_budget: int = DEFAULT_SIZE_BUDGET,
    https_required: bool | None = None,
    ignore_prefixes: Sequence[str] = DEFAULT_IGNORE_PREFIXES,
    drafts: bool = False,
) -> CheckReport:
    """Check a built site in ``output_dir`` published at ``siteurl``.

    Draft pages (``<html data-status="draft">``, which a development build
    writes and a production build never does) are left out unless ``drafts``:
    what is checked is what would be published. A preview checks them too.

    ``siteurl`` is the SITEURL it was built with (empty for relative URLs).
    ``https_required`` (default: whether ``siteurl`` is https) turns http://
    assets into mixed-content errors. URL paths under ``ignore_prefixes`` are
    served by something else (the comment server) and are not looked for.
    """
    output_dir = Path(output_dir)
    if not output_dir.is_dir():
        raise FileNotFoundError(f"{output_dir} is not a folder: build the site first")
    if https_required is None:
        https_required = siteurl.lower().startswith("https://")
    site = _Site(output_dir, siteurl, ignore_prefixes)
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
                size_budget=size_budget,
                https_required=https_required,
                drafts=drafts,
            )
            pages += checked
            skipped += not checked
        elif rel.endswith(".css"):
            _check_css(site, rel, found)
        elif rel.endswith(FEED_SUFFIXES):
            pending.xml_feeds.add(rel)
        elif rel.endswith(".json") and (
            rel.startswith("feeds/") or "/feeds/" in rel or rel.endswith("feed.json")
        ):
            pending.json_feeds.add(rel)
    for rel in sorted(pending.xml_feeds):
        _check_xml_feed(site, rel, found)
    for rel in sorted(pending.json_feeds):
        _check_json_feed(site, rel, found)
    if "sitemap.xml" in site.files:
        _check_sitemap(site, "sitemap.xml", found)
    for problem in check_index(output_dir, pending.searchable):
        found.error(Kind.SEARCH_INDEX, "pagefind/", problem)
    for page, target, fragment, shown, sink in pending.fragments:
        ids = pending.ids.get(target)
        if ids is not None and fragment not in ids:
            sink.warn(
                Kind.BROKEN_FRAGMENT, page, f"{shown}: no id {fragment!r} on {target}"
            )
    return CheckReport(
        errors=sorted(found.errors),
        warnings=sorted(found.warnings),
        pages=pages,
        files=len(site.files),
        drafts=skipped,
    )


def _read(site: _Site, rel: str, found: _Findings) -> bytes | None:
    try:
        return (site.root / rel).read_bytes()
    except OSError as exc:
        found.error(Kind.UNREADABLE, rel, f"cannot read {site.root / rel}: {exc}")
        return None


def _check_page(
    site: _Site,
    rel: str,
    found: _Findings,
    pending: _Pending,
    *,
    size_budget: int,
    https_required: bool,
    drafts: bool = False,
) -> bool:
    """Check one page; False when it is a draft left out of the check."""
    data = _read(site, rel, found)
    if data is None:
        return True
    doc = etree.fromstring(data, _PARSER) if data.strip() else None
    if doc is not None and not drafts and doc.get("data-status") == "draft":
        return False
    if len(data) > size_budget:
        found.error(
            Kind.OVER_BUDGET,
            rel,
            f"{len(data):,} bytes, over the budget of {size_budget:,} bytes",
        )
    if doc is None:
        found.error(Kind.UNREADABLE, rel, "empty, or not parseable as HTML")
        return True
    pending.ids[rel] = frozenset(_XP_IDS(doc))
    if _XP_SEARCHABLE(doc):
        pending.searchable[doc.get("lang") or "unknown"] += 1
    elements = list(doc.iter(*_TAGS))
    page_url = site.page_url(rel)
    for element in elements:
        if element.tag == "base" and element.get("href"):
            page_url = urljoin(page_url, element.get("href").strip())
            break
    good = site.good
    title = canonical = noindex = False
    readers = _reader_content(doc, found)
    sink: _Findings | _ReaderFindings = found

    def link(ref: str, shown: str) -> None:
        if ref not in good:
            _check_ref(
                site,
                rel,
                page_url,
                ref,
                sink,
                pending=pending,
                shown=shown,
                kind=Kind.BROKEN_LINK,
            )

    def asset(ref: str, shown: str, *, loaded: bool = True) -> None:
        if https_required and site.is_insecure(ref):
            report = sink.error if loaded else sink.warn
            report(Kind.MIXED_CONTENT, rel, f"{shown} {ref} is loaded over http")
        if ref not in good:
            _check_ref(
                site,
                rel,
                page_url,
                ref,
                sink,
                pending=pending,
                shown=shown,
                kind=Kind.MISSING_ASSET,
            )

    for element in elements:
        tag = element.tag
        get = element.get
        sink = readers.get(element, found) if readers else found
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
                    _note_feed(site, page_url, ref, get("type"), pending)
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
            for attribute in ("src", "poster", "data"):
                value = get(attribute)
                if value is not None and value.strip():
                    asset(value.strip(), f"<{tag} {attribute}>")
            srcset = get("srcset")
            if srcset:
                for candidate in _srcset_urls(srcset):
                    asset(candidate, f"<{tag} srcset>")

    sink = found
    for style in _XP_STYLE_ATTRS(doc):
        for ref in _css_urls(style):
            asset(ref, "style url()")

    if not title:
        found.error(Kind.MISSING_TITLE, rel, "no <title>, or an empty one")
    if not canonical and not noindex:
        found.error(
            Kind.MISSING_CANONICAL,
            rel,
            'no <link rel="canonical"> (and the page is not marked noindex)',
        )
    return True


def _reader_content(
    doc: etree._Element, found: _Findings
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
    pending: _Pending,
    shown: str,
    kind: Kind,
) -> None:
    if ref.startswith("#"):
        fragment = unquote(ref[1:])
        if fragment and fragment != "top" and fragment not in pending.ids[rel]:
            found.error(Kind.BROKEN_FRAGMENT, rel, f"{shown} {ref}: no such id here")
        return
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
        if fragment not in pending.ids[rel]:
            found.error(Kind.BROKEN_FRAGMENT, rel, f"{shown} {ref}: no such id here")
    else:
        pending.fragments.append((rel, target.path, fragment, f"{shown} {ref}", found))


def _note_feed(
    site: _Site, page_url: str, ref: str, mime: str | None, pending: _Pending
) -> None:
    mime = (mime or "").lower().split(";")[0].strip()
    if mime not in XML_FEED_TYPES and mime not in JSON_FEED_TYPES:
        return
    target = site.resolve(ref, page_url)
    if target is None or target.path is None:
        return
    if mime in XML_FEED_TYPES:
        pending.xml_feeds.add(target.path)
    else:
        pending.json_feeds.add(target.path)


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


def _check_css(site: _Site, rel: str, found: _Findings) -> None:
    data = _read(site, rel, found)
    if data is None:
        return
    url = site.page_url(rel)
    for ref in _css_urls(data.decode("utf-8", errors="replace")):
        target = site.resolve(ref, url)
        if target is not None and target.path is None:
            found.error(
                Kind.MISSING_ASSET,
                rel,
                f"CSS url({ref}): no file {target.wanted} in the output",
            )


def _check_internal_url(
    site: _Site, rel: str, url: object, shown: str, found: _Findings
) -> None:
    if not isinstance(url, str) or not url:
        return
    target = site.resolve(url.strip(), site.page_url(rel))
    if target is not None and target.path is None:
        found.error(
            Kind.BROKEN_LINK,
            rel,
            f"{shown} {url}: no file {target.wanted} in the output",
        )


def _check_xml_feed(site: _Site, rel: str, found: _Findings) -> None:
    data = _read(site, rel, found)
    if data is None:
        return
    parsed = feedparser.parse(data)
    if parsed.get("bozo"):
        problem = parsed.get("bozo_exception")
        found.error(Kind.INVALID_FEED, rel, f"does not parse as a feed: {problem}")
        return
    if not parsed.get("version"):
        found.error(Kind.INVALID_FEED, rel, "not recognised as an Atom or RSS feed")
        return
    for number, entry in enumerate(parsed.entries, start=1):
        if not entry.get("title"):
            found.error(Kind.INVALID_FEED, rel, f"entry {number} has no title")
        _check_internal_url(site, rel, entry.get("link"), f"entry {number}", found)


def _check_json_feed(site: _Site, rel: str, found: _Findings) -> None:
    data = _read(site, rel, found)
    if data is None:
        return
    try:
        feed = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        found.error(Kind.INVALID_FEED, rel, f"not valid JSON: {exc}")
        return
    if not isinstance(feed, dict):
        found.error(Kind.INVALID_FEED, rel, "a JSON Feed must be a JSON object")
        return
    version = feed.get("version")
    if not isinstance(version, str) or not version.startswith(JSON_FEED_VERSION):
        found.error(
            Kind.INVALID_FEED,
            rel,
            f"'version' is {version!r}, not a {JSON_FEED_VERSION}... URL",
        )
    title = feed.get("title")
    if not isinstance(title, str) or not title.strip():
        found.error(Kind.INVALID_FEED, rel, "'title' is missing or empty")
    items = feed.get("items")
    if not isinstance(items, list):
        found.error(Kind.INVALID_FEED, rel, "'items' is missing or not a list")
        return
    for key in ("home_page_url", "feed_url"):
        _check_internal_url(site, rel, feed.get(key), f"'{key}'", found)
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict) or "id" not in item:
            found.error(Kind.INVALID_FEED, rel, f"item {number} has no 'id'")
            continue
        if "content_html" not in item and "content_text" not in item:
            found.error(
                Kind.INVALID_FEED,
                rel,
                f"item {number} has neither content_html nor content_text",
            )
        _check_internal_url(site, rel, item.get("url"), f"item {number} url", found)


def _check_sitemap(site: _Site, rel: str, found: _Findings) -> None:
    data = _read(site, rel, found)
    if data is None:
        return
    try:
        root = etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError as exc:
        found.error(Kind.INVALID_SITEMAP, rel, f"not well-formed XML: {exc}")
        return
    for loc in root.iter("{*}loc"):
        _check_internal_url(site, rel, (loc.text or "").strip(), "<loc>", found)


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
