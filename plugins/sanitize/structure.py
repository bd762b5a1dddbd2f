"""Sanitised HTML made valid where it lands: inside a card, under its heading.

nh3 leaves markup that is safe and well-formed but not always valid HTML:
an ``h1`` inside an excerpt, ``li`` or ``dd`` straight in a ``div``, a ``div``
inside a ``span``, ``<a>`` without ``href``, empty ``<time>`` or ``<p>``,
``dir=""``. Browsers cope; the Nu Html Checker does not, and screen readers
get a document outline with a stranger's ``h1`` in the middle. Here the
fragment is parsed once more (lxml) and put right, in this order:

1. content models: block elements inside phrasing ones (``span``, ``p``,
   headings...) are unwrapped, their text kept; ``a`` without ``href``,
   ``time`` without a valid ``datetime``, ``bdo`` without a direction, and
   stray ``rt``/``summary``/``figcaption`` too;
2. attributes: empty ones removed, and values the element does not allow
   (``dir="sideways"``, ``start="one"``); images get an ``alt``;
3. empty elements dropped, bottom up;
4. orphans wrapped: ``li`` in a ``ul``, ``dt``/``dd`` in a ``dl`` (a ``dl``
   that is still not term-then-definition becomes plain ``div`` blocks), and
   what sits in a list outside an ``li`` gets one;
5. headings re-levelled under the heading of the card the fragment goes in
   (``under``): the fragment's top level becomes ``under + 1``, levels keep
   their order, none is skipped going down, and any past ``h6`` become
   paragraphs.

Running it on its own output changes nothing.
"""

from __future__ import annotations

import html
import re
from datetime import date, datetime, time

from lxml import etree
from lxml import html as lxml_html

HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
# Elements whose content may only be phrasing content.
PHRASING_ONLY = frozenset(
    {
        "p", "pre", "span", "strong", "em", "b", "i", "u", "s", "small", "mark",
        "code", "kbd", "samp", "var", "sub", "sup", "q", "cite", "dfn", "abbr",
        "time", "bdi", "bdo", "ruby", "rt", "rp", "summary", *HEADINGS,
    }
)  # fmt: skip
# Elements that are flow content only: never inside a phrasing-only parent.
FLOW_ONLY = frozenset(
    {
        "blockquote", "caption", "dd", "details", "div", "dl", "dt", "figcaption",
        "figure", "hr", "li", "ol", "p", "pre", "summary", "table", "tbody", "td",
        "tfoot", "th", "thead", "tr", "ul", *HEADINGS,
    }
)  # fmt: skip
# Their content model is their parent's.
TRANSPARENT = frozenset({"a", "del", "ins"})
# Flow content, but no headings inside.
NO_HEADINGS = frozenset({"dt", "th"})
# Never dropped for being empty: they hold a table's shape, or are content.
KEEP_EMPTY = frozenset({"td", "th", "tr", "tbody", "thead", "tfoot"})
CONTENT_VOIDS = frozenset({"img"})
VOIDS = frozenset({"br", "hr", "img", "wbr"})

_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
_INTEGER = re.compile(r"^-?\d{1,9}$")
_DATE_LIKE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?(?:[T ]\S+)?$")


def _valid_datetime(value: str) -> bool:
    """A value HTML's ``datetime`` attribute accepts (the common forms)."""
    value = value.strip()
    if re.fullmatch(r"\d{4}", value):
        return True
    if re.fullmatch(r"\d{4}-\d{2}", value):
        return 1 <= int(value[5:]) <= 12
    for parse in (date.fromisoformat, time.fromisoformat):
        if re.fullmatch(r"[\d:.\-]+", value):
            try:
                parse(value)
            except ValueError:
                continue
            return True
    if _DATE_LIKE.match(value):
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return False
        return True
    return False


def _attribute_ok(tag: str, name: str, value: str) -> str | None:
    """The value to keep for an attribute, or None to remove it."""
    if name == "alt":
        return value
    if name == "reversed":
        return ""
    value = value.strip()
    if not value:
        return None
    if name == "dir":
        return value.lower() if value.lower() in ("ltr", "rtl", "auto") else None
    if name in ("lang", "hreflang"):
        return value if _LANGUAGE_TAG.match(value) else None
    if name in ("start", "value"):
        return value if _INTEGER.match(value) else None
    if name == "colspan":
        return value if value.isdigit() and 1 <= int(value) <= 1000 else None
    if name == "rowspan":
        return value if value.isdigit() and int(value) <= 65534 else None
    if name == "scope":
        ok = value.lower() in ("row", "col", "rowgroup", "colgroup")
        return value.lower() if ok else None
    if name == "datetime":
        return value if _valid_datetime(value) else None
    return value


def _fix_attributes(element: etree._Element) -> None:
    for name, value in list(element.attrib.items()):
        kept = _attribute_ok(element.tag, name, value)
        if kept is None:
            del element.attrib[name]
        elif kept != value:
            element.set(name, kept)
    if element.tag == "img" and "alt" not in element.attrib:
        element.set("alt", "")


def _misplaced(element: etree._Element, parent: etree._Element, phrasing: bool) -> bool:
    """Whether an element cannot stay where it is (its content can)."""
    tag = element.tag
    if phrasing and tag in FLOW_ONLY:
        return True
    if tag in HEADINGS and parent.tag in NO_HEADINGS:
        return True
    if tag == "a":
        return not element.get("href")
    if tag == "time":
        return not element.get("datetime")
    if tag == "bdo":
        return element.get("dir") not in ("ltr", "rtl")
    if tag in ("rt", "rp"):
        return parent.tag != "ruby"
    if tag == "summary":
        return parent.tag != "details" or parent.index(element) != 0
    if tag == "figcaption":
        return parent.tag != "figure" or parent.index(element) not in (
            0,
            len(parent) - 1,
        )
    if tag == "caption":
        return parent.tag != "table" or parent.index(element) != 0
    return False


def _has_content(element: etree._Element) -> bool:
    if element.tag in CONTENT_VOIDS:
        return True
    if any(t.strip() for t in element.itertext()):
        return True
    return any(True for _ in element.iter(*CONTENT_VOIDS))


def _unwrap(element: etree._Element) -> None:
    """Replace an element by its content (a block's kept apart by a space)."""
    if element.tag in VOIDS:
        element.drop_tree()
        return
    if element.tag in FLOW_ONLY and (element.getnext() is not None or element.tail):
        element.tail = " " + (element.tail or "")
    element.drop_tag()


def _fix(parent: etree._Element, phrasing: bool) -> None:
    index = 0
    while index < len(parent):
        child = parent[index]
        if not isinstance(child.tag, str):
            child.drop_tree()
            continue
        _fix_attributes(child)
        if _misplaced(child, parent, phrasing):
            _unwrap(child)  # its children are looked at in its place
            continue
        inner = phrasing or child.tag in PHRASING_ONLY
        if child.tag in TRANSPARENT:
            inner = phrasing
        _fix(child, inner)
        if child.tag not in VOIDS | KEEP_EMPTY and not _has_content(child):
            child.drop_tree()
            continue
        index += 1
    if not phrasing:
        _wrap_orphans(parent)


def _blank(text: str | None) -> bool:
    return not (text or "").strip()


def _wrap_runs(parent: etree._Element, tags: frozenset[str], wrapper: str) -> None:
    """Wrap each run of adjacent ``tags`` children (blank text between them
    only) in a new ``wrapper`` element."""
    index = 0
    while index < len(parent):
        if parent[index].tag not in tags:
            index += 1
            continue
        run = [parent[index]]
        while (
            _blank(run[-1].tail)
            and index + len(run) < len(parent)
            and parent[index + len(run)].tag in tags
        ):
            run.append(parent[index + len(run)])
        box = lxml_html.Element(wrapper)
        box.tail = run[-1].tail
        run[-1].tail = None
        parent.insert(index, box)
        for element in run:
            box.append(element)
        index += 1


def _wrap_orphans(parent: etree._Element) -> None:
    if parent.tag not in ("ul", "ol"):
        _wrap_runs(parent, frozenset({"li"}), "ul")
    else:
        _only_items(parent)
    if parent.tag != "dl":
        _wrap_runs(parent, frozenset({"dt", "dd"}), "dl")
    for dl in [c for c in parent if c.tag == "dl"]:
        _check_definitions(dl)


def _only_items(listing: etree._Element) -> None:
    """A list's loose text and non-``li`` children, each put in an ``li``."""
    if not _blank(listing.text):
        item = lxml_html.Element("li")
        item.text, listing.text = listing.text, None
        listing.insert(0, item)
    index = 0
    while index < len(listing):
        child = listing[index]
        if child.tag != "li":
            item = lxml_html.Element("li")
            listing.replace(child, item)
            item.append(child)
            item.tail, child.tail = child.tail, None
            child = item
        if not _blank(child.tail):
            item = lxml_html.Element("li")
            item.text, child.tail = child.tail, None
            listing.insert(index + 1, item)
        index += 1


def _check_definitions(dl: etree._Element) -> None:
    """A ``dl`` must be groups of terms then definitions; else plain blocks."""
    tags = "".join("t" if c.tag == "dt" else "d" if c.tag == "dd" else "x" for c in dl)
    blank = _blank(dl.text) and all(_blank(c.tail) for c in dl)
    if blank and re.fullmatch(r"(?:t+d+)+", tags):
        return
    dl.tag = "div"
    for child in dl:
        if child.tag in ("dt", "dd"):
            child.tag = "div"


def _relevel(root: etree._Element, under: int) -> None:
    headings = list(root.iter(*HEADINGS))
    levels = sorted({int(h.tag[1]) for h in headings})
    mapping = {level: under + 1 + rank for rank, level in enumerate(levels)}
    previous = under
    for heading in headings:
        # Never deeper than one below the heading before it (no skipped level).
        level = min(mapping[int(heading.tag[1])], previous + 1)
        heading.tag = f"h{level}" if level <= 6 else "p"
        previous = level


def valid_html(cleaned: str, under: int = 2) -> str:
    """Sanitised HTML, valid in a flow container under an ``h{under}``."""
    if "<" not in cleaned:
        return cleaned
    root = lxml_html.fragment_fromstring(cleaned, create_parent="div")
    _fix(root, phrasing=False)
    _relevel(root, under)
    parts = [html.escape(root.text, quote=False)] if root.text else []
    parts += [lxml_html.tostring(child, encoding="unicode") for child in root]
    # Serialised as nh3 does (no-break spaces as &nbsp;): the output of a
    # fragment with markup and of one without read the same way.
    return "".join(parts).strip().replace("\xa0", "&nbsp;")
