"""Subscriptions: ``feeds.toml`` in, OPML in and out.

``feeds.toml`` holds one ``[[feeds]]`` table per feed::

    [[feeds]]
    name = "Ardesisti"                      # required: shown on the site
    url = "https://ardesisti.example/feed"  # required: RSS, Atom or RDF
    site = "https://ardesisti.example/"     # optional: the home page
    avatar = "https://ardesisti.example/logo.png"  # optional (or site-relative)
    lang = "it"                             # optional: language of its posts
    include = ["raduni", "/Sebino/"]        # optional: categories, or /title regex/
    exclude = ["mercatino"]                 # optional: same forms
    max_entries = 20                        # optional: entries kept
    slug = "ardesisti"                      # optional: its page's URL (from name)

A missing or empty file means no feeds. A malformed one, an unknown key, a bad
value or a URL subscribed twice raises :class:`CommunityError` with the line.
"""

from __future__ import annotations

import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from community.errors import CommunityError
from community.model import EntryFilter, Subscription
from configuration import array_of_tables, parse_toml, read_text
from wholefile import write_whole

KNOWN_KEYS = (
    "name",
    "url",
    "site",
    "avatar",
    "lang",
    "include",
    "exclude",
    "max_entries",
    "slug",
)
_HEADER = re.compile(r"^\s*\[\[\s*feeds\s*\]\]\s*(?:#.*)?$")
_ANY_TABLE = re.compile(r"^\s*\[")
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
_LANG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")


def slugify(text: str) -> str:
    """A URL-safe ASCII slug: "Ardesia – Forum!" -> "ardesia-forum"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-").lower()
    return slug[:60].strip("-") or "feed"


def url_key(url: str) -> str:
    """What makes two URLs the same feed or page: host, port, path and query,
    case-insensitive host, whatever the scheme or a trailing slash."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    port = f":{parts.port}" if parts.port not in (None, 80, 443) else ""
    path = parts.path.rstrip("/") or "/"
    query = f"?{parts.query}" if parts.query else ""
    return f"{host}{port}{path}{query}"


def is_http_url(url: object) -> bool:
    if not isinstance(url, str) or any(c.isspace() for c in url.strip()):
        return False
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


@dataclass(frozen=True)
class _Layout:
    """Where each [[feeds]] table and its keys are in the file's text."""

    lines: tuple[str, ...]
    headers: tuple[int, ...]  # 1-based line of each [[feeds]] header

    @classmethod
    def of(cls, text: str) -> _Layout:
        lines = tuple(text.splitlines())
        headers = tuple(n for n, line in enumerate(lines, 1) if _HEADER.match(line))
        return cls(lines, headers)

    def table_line(self, index: int, count: int) -> int | None:
        # Only trust positions when every table was found as a header.
        return self.headers[index] if len(self.headers) == count else None

    def key_line(self, index: int, count: int, key: str) -> int | None:
        start = self.table_line(index, count)
        if start is None:
            return None
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for number in range(start + 1, len(self.lines) + 1):
            line = self.lines[number - 1]
            if _ANY_TABLE.match(line):
                break
            if pattern.match(line):
                return number
        return start


def load_subscriptions(path: Path) -> tuple[Subscription, ...]:
    """The subscriptions in ``path``; none if the file is missing or empty."""
    text = read_text(path, CommunityError)
    return () if text is None else parse_subscriptions(text, path)


def parse_subscriptions(text: str, path: Path | str) -> tuple[Subscription, ...]:
    """Parse and validate feeds.toml text; ``path`` is for messages only."""
    data = parse_toml(text, path, CommunityError)
    tables = array_of_tables(data, "feeds", "feed", path, CommunityError)
    layout = _Layout.of(text)
    count = len(tables)
    subscriptions: list[Subscription] = []
    by_url: dict[str, Subscription] = {}
    by_slug: dict[str, Subscription] = {}
    for index, table in enumerate(tables):
        sub = _subscription(table, index, layout, count, path)
        key = url_key(sub.url)
        if key in by_url:
            first = by_url[key]
            raise CommunityError(
                f"feed {sub.name!r} repeats the URL {sub.url} of feed {first.name!r}"
                f"{f' (line {first.line})' if first.line else ''}; remove one of them",
                path=path,
                line=layout.key_line(index, count, "url"),
            )
        if sub.slug in by_slug:
            first = by_slug[sub.slug]
            raise CommunityError(
                f"feed {sub.name!r} would have the same page as {first.name!r} "
                f'(slug {sub.slug!r}); give one of them a different slug = "..."',
                path=path,
                line=sub.line,
            )
        by_url[key] = by_slug[sub.slug] = sub
        subscriptions.append(sub)
    return tuple(subscriptions)


def _subscription(
    table: dict[str, Any], index: int, layout: _Layout, count: int, path: Path | str
) -> Subscription:
    line = layout.table_line(index, count)

    def fail(message: str, key: str | None = None) -> CommunityError:
        where = layout.key_line(index, count, key) if key else line
        label = f"feed #{index + 1}" if where is None else "feed"
        return CommunityError(f"{label}: {message}", path=path, line=where)

    unknown = [k for k in table if k not in KNOWN_KEYS]
    if unknown:
        raise fail(
            f"unknown key {unknown[0]!r} (known keys: {', '.join(KNOWN_KEYS)})",
            unknown[0],
        )
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise fail("'name' is required: the feed's name as shown on the site", "name")
    url = table.get("url")
    if url is None:
        raise fail(f"{name!r} has no 'url': the address of its RSS or Atom feed")
    if not is_http_url(url):
        raise fail(f"'url' must be an http:// or https:// address, not {url!r}", "url")
    site = table.get("site")
    if site is not None and not is_http_url(site):
        raise fail(f"'site' must be an http(s) address, not {site!r}", "site")
    avatar = table.get("avatar")
    if avatar is not None and not _valid_avatar(avatar):
        raise fail(
            f"'avatar' must be an https address or a path on this site, not {avatar!r}",
            "avatar",
        )
    lang = table.get("lang")
    if lang is not None and not (isinstance(lang, str) and _LANG.match(lang)):
        raise fail(
            f"'lang' must be a language code such as \"it\", not {lang!r}", "lang"
        )
    max_entries = table.get("max_entries")
    if max_entries is not None and (
        isinstance(max_entries, bool)
        or not isinstance(max_entries, int)
        or max_entries < 1
    ):
        raise fail(
            f"'max_entries' must be a whole number ≥ 1, not {max_entries!r}",
            "max_entries",
        )
    slug = table.get("slug")
    if slug is None:
        slug = slugify(name)
    elif not (isinstance(slug, str) and _SLUG.match(slug)):
        raise fail(
            f"'slug' must be lowercase letters, digits and dashes, not {slug!r}", "slug"
        )
    filters = {}
    for key in ("include", "exclude"):
        try:
            filters[key] = parse_filter(table.get(key))
        except ValueError as exc:
            raise fail(f"{key!r}: {exc}", key) from None
    return Subscription(
        slug=slug,
        name=name.strip(),
        url=url.strip(),
        site=site.strip() if site else None,
        avatar=avatar.strip() if avatar else None,
        lang=lang.lower() if lang else None,
        include=filters["include"],
        exclude=filters["exclude"],
        max_entries=max_entries,
        line=line,
    )


def _valid_avatar(value: object) -> bool:
    if not isinstance(value, str) or not value.strip():
        return False
    value = value.strip()
    if is_http_url(value):
        return True
    # A path on this site: no scheme, not protocol-relative, no spaces.
    return (
        ":" not in value.split("/", 1)[0]
        and not value.startswith("//")
        and not any(c.isspace() or c in "\"'<>\\" for c in value)
    )


def parse_filter(value: object) -> EntryFilter:
    """``"raduni"``, ``["raduni", "/Sebino|Lampo/"]`` -> an :class:`EntryFilter`.

    Plain strings are category names (any case); strings between slashes are
    regular expressions searched in the title, ignoring case.
    """
    if value is None:
        return EntryFilter()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ValueError("must be a string or a list of strings")
    categories: set[str] = set()
    titles: list[re.Pattern[str]] = []
    for item in items:
        if len(item) >= 2 and item.startswith("/") and item.endswith("/"):
            try:
                titles.append(re.compile(item[1:-1], re.IGNORECASE))
            except re.error as exc:
                raise ValueError(f"bad regular expression {item}: {exc}") from None
        elif item.strip():
            categories.add(item.strip().casefold())
    return EntryFilter(frozenset(categories), tuple(titles))


# --- OPML -------------------------------------------------------------------


@dataclass(frozen=True)
class Outline:
    """A feed listed in an OPML file."""

    name: str
    url: str
    site: str | None = None
    lang: str | None = None


@dataclass(frozen=True)
class ImportReport:
    """What an OPML import did: subscriptions added, and URLs skipped with why."""

    added: tuple[Subscription, ...]
    skipped: tuple[tuple[str, str], ...]  # (url or name, reason)


def read_opml(path: Path) -> tuple[Outline, ...]:
    """Every outline with an ``xmlUrl`` in an OPML file, folders flattened."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, recover=False
    )
    try:
        tree = etree.parse(str(path), parser)
    except OSError as exc:
        raise CommunityError(f"cannot read OPML file: {exc}", path=path) from None
    except etree.XMLSyntaxError as exc:
        raise CommunityError(
            f"not a valid OPML (XML) file: {exc.msg}", path=path, line=exc.lineno
        ) from None
    root = tree.getroot()
    if not isinstance(root.tag, str) or etree.QName(root).localname.lower() != "opml":
        raise CommunityError("not an OPML file (no <opml> root element)", path=path)
    outlines = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if etree.QName(element).localname.lower() != "outline":
            continue
        attributes = {k.lower(): (v or "").strip() for k, v in element.attrib.items()}
        url = attributes.get("xmlurl")
        if not url:
            continue
        name = attributes.get("title") or attributes.get("text") or url
        outlines.append(
            Outline(
                name=" ".join(name.split()),
                url=url,
                site=attributes.get("htmlurl") or None,
                lang=attributes.get("language") or None,
            )
        )
    return tuple(outlines)


def import_opml(
    opml_path: Path, feeds_file: Path, *, today: datetime | None = None
) -> ImportReport:
    """Append the OPML file's feeds that are new to ``feeds_file``.

    The editor's file is only ever appended to (comments and order kept), the
    result is validated before it replaces the old one, and the write is
    atomic: an interrupted import leaves the old file.
    """
    existing = load_subscriptions(feeds_file)
    keys = {url_key(s.url) for s in existing}
    slugs = {s.slug for s in existing}
    added: list[Subscription] = []
    skipped: list[tuple[str, str]] = []
    blocks: list[str] = []
    for outline in read_opml(opml_path):
        if not is_http_url(outline.url):
            skipped.append((outline.url, "not an http(s) address"))
            continue
        if url_key(outline.url) in keys:
            skipped.append((outline.url, "already subscribed"))
            continue
        derived = slugify(outline.name)
        slug = derived
        number = 2
        while slug in slugs:
            slug = f"{derived[:56]}-{number}"
            number += 1
        table: dict[str, str] = {"name": outline.name, "url": outline.url.strip()}
        if outline.site and is_http_url(outline.site):
            table["site"] = outline.site
        if outline.lang and _LANG.match(outline.lang):
            table["lang"] = outline.lang.lower()
        if slug != derived:
            table["slug"] = slug
        blocks.append(
            "[[feeds]]\n"
            + "".join(f"{k} = {toml_string(v)}\n" for k, v in table.items())
        )
        keys.add(url_key(outline.url))
        slugs.add(slug)
        added.append(Subscription(slug=slug, name=outline.name, url=outline.url))
    if blocks:
        try:
            old = feeds_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            old = "# Community feeds shown on the site: one [[feeds]] table per feed.\n"
        stamp = (today or datetime.now()).date().isoformat()
        new = (
            old.rstrip("\n")
            + f"\n\n# Imported from {Path(opml_path).name} on {stamp}.\n"
            + "\n".join(blocks)
        )
        parse_subscriptions(new, feeds_file)  # never write a file we can't read
        write_whole(feeds_file, new.encode("utf-8"))
    return ImportReport(tuple(added), tuple(skipped))


@dataclass(frozen=True)
class MoveReport:
    """What applying permanent redirects to feeds.toml did."""

    applied: tuple[tuple[str, str], ...]  # (old url, new url)
    skipped: tuple[tuple[str, str, str], ...]  # (old url, new url, why)


def apply_moves(feeds_file: Path, moves: Mapping[str, str]) -> MoveReport:
    """Give each feed whose ``url`` is a key of ``moves`` the new address.

    The file is edited with tomlkit, which keeps everything else as written:
    comments (a comment after the url too), order, blank lines, quoting. A
    new address that another feed already has (or that two feeds would move
    to) is skipped with why, as a feeds.toml that would not load is never
    written. The write is atomic.
    """
    # Imported here: only this command needs it, not every aggregate run.
    import tomlkit  # noqa: PLC0415
    import tomlkit.exceptions  # noqa: PLC0415
    import tomlkit.items  # noqa: PLC0415

    text = read_text(feeds_file, CommunityError)
    if text is None:
        raise CommunityError("no such file: nothing to update", path=feeds_file)
    existing = parse_subscriptions(text, feeds_file)  # file:line for a bad file
    try:
        document = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise CommunityError(
            f"not valid TOML: {exc}", path=feeds_file, line=exc.line
        ) from None
    taken = {url_key(s.url) for s in existing if s.url not in moves}
    applied: list[tuple[str, str]] = []
    skipped: list[tuple[str, str, str]] = []
    for table in document.get("feeds", []):
        old = str(table.get("url", "")).strip()
        new = moves.get(old)
        if new is None:
            continue
        if not is_http_url(new):
            skipped.append((old, new, "not an http(s) address"))
            continue
        if url_key(new) in taken:
            skipped.append((old, new, "another feed in feeds.toml has that URL"))
            taken.add(url_key(old))
            continue
        taken.add(url_key(new))
        item = table["url"]
        literal = (
            isinstance(item, tomlkit.items.String)
            and item.type.is_literal()
            and "'" not in new
            and not item.type.is_multiline()
        )
        table["url"] = tomlkit.string(new, literal=literal)
        applied.append((old, new))
    if applied:
        updated = tomlkit.dumps(document)
        parse_subscriptions(updated, feeds_file)  # never write a file we can't read
        write_whole(feeds_file, updated.encode("utf-8"))
    return MoveReport(tuple(applied), tuple(skipped))


def toml_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's, bar DEL)."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def render_opml(
    subscriptions: Iterable[Subscription], title: str, home: str | None = None
) -> str:
    """An OPML 2.0 list of the subscriptions, for readers to import.

    No creation date: the file changes only when the subscriptions do.
    """
    opml = ET.Element("opml", version="2.0")
    head = ET.SubElement(opml, "head")
    ET.SubElement(head, "title").text = title
    if home:
        ET.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
        ET.SubElement(head, "ownerId").text = home
    body = ET.SubElement(opml, "body")
    for sub in subscriptions:
        attributes = {"type": "rss", "text": sub.name, "title": sub.name}
        attributes["xmlUrl"] = sub.url
        if sub.site:
            attributes["htmlUrl"] = sub.site
        if sub.lang:
            attributes["language"] = sub.lang
        ET.SubElement(body, "outline", attributes)
    ET.indent(opml)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        + ET.tostring(opml, encoding="unicode")
        + "\n"
    )
