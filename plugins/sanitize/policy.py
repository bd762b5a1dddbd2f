"""The allowlist: which tags, attributes and URLs untrusted HTML may keep.

nh3 does the parsing and the enforcing; this module only says what is allowed
and rewrites URLs (absolute, safe scheme, images over https). A second, cheap
pass drops tracking pixels, which an attribute filter cannot remove whole.
"""

from __future__ import annotations

import html
import re
from contextvars import ContextVar
from functools import lru_cache
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

import nh3

from sanitize.structure import valid_html

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "bdi", "bdo", "blockquote", "br", "caption", "cite",
        "code", "dd", "del", "details", "dfn", "div", "dl", "dt", "em",
        "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
        "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "rp", "rt",
        "ruby", "s", "samp", "small", "span", "strong", "sub", "summary", "sup",
        "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u", "ul",
        "var", "wbr",
    }
)  # fmt: skip
"""Plain document markup. No forms, frames, embeds, media players or SVG."""

# Dropped together with everything inside them: their content is code, or
# fallback markup that would otherwise surface as escaped text.
CLEAN_CONTENT_TAGS = frozenset(
    {
        "script", "style", "iframe", "frame", "frameset", "object", "embed",
        "applet", "noscript", "noembed", "noframes", "template", "svg", "math",
        "textarea", "select", "head", "title",
    }
)  # fmt: skip

# No class/id (page styles and DOM clobbering), no style (CSS expressions,
# overlays), no event handlers: nothing but what the text itself needs.
ATTRIBUTES: dict[str, set[str]] = {
    "*": {"lang", "dir", "title"},
    "a": {"href", "hreflang"},
    "img": {"src", "alt", "width", "height"},
    "ol": {"start", "reversed"},
    "li": {"value"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "time": {"datetime"},
}

URL_SCHEMES = frozenset({"http", "https", "mailto"})
IMAGE_SCHEMES = frozenset({"http", "https"})
URL_ATTRIBUTES = frozenset({"href", "src"})
LINK_REL = "nofollow noopener ugc"
MAX_URL_LENGTH = 2048

# Hosts and paths that serve counters rather than pictures.
TRACKER_HOSTS = frozenset(
    {
        "pixel.wp.com", "stats.wordpress.com", "www.google-analytics.com",
        "ssl.google-analytics.com", "pixel.quantserve.com", "ad.doubleclick.net",
        "pubads.g.doubleclick.net", "www.facebook.com", "b.scorecardresearch.com",
        "sb.scorecardresearch.com", "feeds.feedblitz.com", "pixel.mathtag.com",
    }
)  # fmt: skip
TRACKER_PATH = re.compile(
    r"/~(?:r|ff|fc|a|i)/"  # FeedBurner counters and flares
    r"|/(?:pixel|beacon|track(?:ing)?)\.(?:gif|png)\b"
    r"|/1\.0/(?:comments|delicious|facebook|twitter)/"  # WordPress.com buttons
)
# Characters HTML does not allow in a document (and a parser may drop or
# keep): C0 controls but tab, newline and carriage return; DEL and the C1
# controls (U+0080-U+009F: Latin-1 bytes read as Unicode, "\x81"); the
# noncharacters (U+FDD0-U+FDEF and the last two of every plane); lone
# surrogates (from "\ud800" in JSON, or bytes decoded with surrogateescape).
# They never reach a page: removed from every untrusted text and HTML.
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ud800-\udfff"
    + "".join(
        f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(17)
    )
    + "]"
)


def clean_text(text: str) -> str:
    """Text without the characters no page may hold (see ``_CONTROL``)."""
    return _CONTROL.sub("", text)


_DIMENSION = re.compile(r"^\s*(\d{1,5})\s*(?:px)?\s*$")
_URL_SAFE = "/?:@!$&'()*+,;=~%-._"
_URL_JUNK = re.compile(r"[\t\n\r]")
_EDGE_JUNK = "".join(chr(c) for c in range(0x21))  # C0 controls and space


def safe_url(
    url: str | None, base_url: str | None = None, *, image: bool = False
) -> str | None:
    """An absolute URL that is safe to put in ``href`` (or ``src``), or None.

    Strips what browsers ignore (tabs, newlines, edge controls) before looking
    at the scheme, so ``java\\tscript:`` is seen for what it is; resolves
    relative URLs against ``base_url`` (without one they are refused); allows
    http, https and mailto links, and http(s) images, upgraded to https as
    browsers do on an https page (no mixed content).
    """
    if not url:
        return None
    url = _URL_JUNK.sub("", url).strip(_EDGE_JUNK)
    if not url or len(url) > MAX_URL_LENGTH:
        return None
    try:
        parts = urlsplit(url)
        if not parts.scheme:
            base = safe_url(base_url) if base_url else None
            if base is None or urlsplit(base).scheme == "mailto":
                return None
            parts = urlsplit(urljoin(base, url))
        scheme = parts.scheme.lower()
        allowed = IMAGE_SCHEMES if image else URL_SCHEMES
        if scheme not in allowed:
            return None
        if scheme in IMAGE_SCHEMES:
            if not parts.hostname:
                return None
            parts.port  # noqa: B018 - raises ValueError on a bad port
        if image and scheme == "http":
            scheme = "https"
        # Characters a URL may not hold (quotes, spaces, angle brackets) are
        # percent-encoded, as a browser would before sending it.
        return urlunsplit(
            parts._replace(
                scheme=scheme,
                path=quote(parts.path, safe=_URL_SAFE),
                query=quote(parts.query, safe=_URL_SAFE),
                fragment=quote(parts.fragment, safe=_URL_SAFE),
            )
        )
    except ValueError:
        return None


def _filter_attribute(
    base_url: str | None, tag: str, attr: str, value: str
) -> str | None:
    """nh3 callback: absolute safe URLs, numeric sizes, everything else as is."""
    if attr in URL_ATTRIBUTES:
        return safe_url(value, base_url, image=(tag == "img"))
    if attr in ("width", "height"):
        match = _DIMENSION.match(value)
        return match.group(1) if match else None
    return value


_POLICY = {
    "tags": set(ALLOWED_TAGS),
    "clean_content_tags": set(CLEAN_CONTENT_TAGS),
    "attributes": ATTRIBUTES,
    "url_schemes": set(URL_SCHEMES),
    "link_rel": LINK_REL,
    "strip_comments": True,
    # The attribute filter resolves relative URLs itself (against the
    # fragment's own base) and refuses what it cannot make absolute; nh3 then
    # checks the scheme of what is left.
    "url_relative": "pass_through",
    # One attribute only: nh3 adds these in hash order, and a fixed output
    # keeps the cache and the site reproducible.
    "set_tag_attribute_values": {"img": {"loading": "lazy"}},
}


# The base URL of the fragment being cleaned, for the attribute filter: the
# cleaners are built once (nh3 otherwise converts the whole policy at every
# call), so what differs between calls comes through a context variable, set
# around each call in its own thread.
_BASE_URL: ContextVar[str | None] = ContextVar("sanitize_base_url", default=None)


def _filter_in_context(tag: str, attr: str, value: str) -> str | None:
    return _filter_attribute(_BASE_URL.get(), tag, attr, value)


_CLEANER = nh3.Cleaner(attribute_filter=_filter_in_context, **_POLICY)
_TEXT_CLEANER = nh3.Cleaner(tags=set(), clean_content_tags=set(CLEAN_CONTENT_TAGS))


def _clean(fragment: str, base_url: str | None) -> str:
    token = _BASE_URL.set(base_url)
    try:
        cleaned = _CLEANER.clean(fragment)
    finally:
        _BASE_URL.reset(token)
    # A character reference (&#8;) comes out of the parser as the character.
    return _CONTROL.sub("", cleaned)


def sanitize_html(
    fragment: str | None, base_url: str | None = None, *, under: int = 2
) -> str:
    """Untrusted HTML made safe and valid to embed in a page.

    ``base_url`` is where the fragment came from (a feed entry's page), used to
    resolve relative links and images; without it relative URLs are removed.
    ``under`` is the level of the heading the fragment sits under (a card's
    ``h2``): its own headings are re-levelled below it. The result is a valid
    fragment (sanitize/structure.py): only allowlisted tags, attributes and
    URLs remain, with no way to run script or load a tracker.
    """
    if not fragment:
        return ""
    cleaned = _clean(_CONTROL.sub("", fragment), base_url)
    if "<img" in cleaned:
        without_trackers = _drop_tracking_images(cleaned)
        if without_trackers != cleaned:
            # Removing whole start tags from a well-formed fragment cannot
            # create markup; cleaning again makes that a guarantee, not a proof.
            cleaned = _clean(without_trackers, None)
    return _CONTROL.sub("", valid_html(cleaned, under))


def plain_text(fragment: str | None) -> str:
    """The text of an HTML fragment (a title, an author), whitespace collapsed."""
    if not fragment:
        return ""
    fragment = _CONTROL.sub("", fragment)
    if "<" not in fragment and "&" not in fragment:
        # No markup and no reference: the parser would give the text back
        # as it is (most titles; an aggregate run reads thousands).
        return " ".join(fragment.split())
    text = html.unescape(_TEXT_CLEANER.clean(fragment))
    return " ".join(_CONTROL.sub("", text).split())


def is_tracking_image(attrs: dict[str, str | None]) -> bool:
    """Whether an ``<img>`` is a counter rather than a picture."""
    src = attrs.get("src")
    if not src:
        return True
    for name in ("width", "height"):
        value = attrs.get(name)
        if value is not None and value.isdigit() and int(value) <= 1:
            return True
    parts = urlsplit(src)
    return (parts.hostname or "") in TRACKER_HOSTS or bool(
        TRACKER_PATH.search(parts.path)
    )


# nh3 (html5ever) serialises every attribute in double quotes, with any quote
# inside escaped: on its output a regular expression finds tags exactly.
_IMG_TAG = re.compile(r'<img\b(?:[^>"]|"[^"]*")*>')
_ATTRIBUTE = re.compile(r'([^\s"=/>]+)="([^"]*)"')


def image_tags(cleaned: str) -> list[tuple[re.Match[str], dict[str, str]]]:
    """Every ``<img>`` start tag of nh3 output, with its attributes unescaped."""
    return [
        (tag, {k: html.unescape(v) for k, v in _ATTRIBUTE.findall(tag.group(0))})
        for tag in _IMG_TAG.finditer(cleaned)
    ]


def _drop_tracking_images(cleaned: str) -> str:
    pieces = []
    position = 0
    for tag, attrs in image_tags(cleaned):
        if is_tracking_image(attrs):
            pieces.append(cleaned[position : tag.start()])
            position = tag.end()
    if not pieces:
        return cleaned
    pieces.append(cleaned[position:])
    return "".join(pieces)


def drop_elements(cleaned: str, drop: frozenset[str]) -> str:
    """Sanitised HTML without the elements in ``drop`` (and their content)."""
    return _dropping(frozenset(drop)).clean(cleaned)


@lru_cache(maxsize=16)
def _dropping(drop: frozenset[str]) -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS - drop),
        clean_content_tags=set(CLEAN_CONTENT_TAGS | (drop - VOID_TAGS)),
        attributes=ATTRIBUTES,
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
        url_relative="pass_through",
        set_tag_attribute_values={
            tag: values
            for tag, values in _POLICY["set_tag_attribute_values"].items()
            if tag not in drop
        },
    )


VOID_TAGS = frozenset({"br", "hr", "img", "wbr"})
