"""The one policy for untrusted HTML (feed entries, comments): whatever goes
in, nothing executable comes out."""

from __future__ import annotations

import html as htmllib
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import html
from markup import assert_no_executable_markup

from sanitize import (
    clean_text,
    excerpt_html,
    plain_text,
    sanitize_html,
    truncate_html,
)

TAGS = [
    "script", "style", "iframe", "object", "embed", "form", "input", "button",
    "svg", "math", "img", "a", "base", "meta", "link", "p", "b", "div", "span",
    "table", "td", "noscript", "template", "textarea", "video", "audio", "source",
]  # fmt: skip
ATTRIBUTES = [
    "onerror", "onclick", "ONLOAD", "onmouseover", "style", "href", "src", "srcset",
    "formaction", "action", "xlink:href", "data", "background", "poster", "title",
]  # fmt: skip
URLS = [
    "javascript:alert(1)", " JaVaScRiPt:alert(1)", "java&#x09;script:alert(1)",
    "&#106;avascript:alert(1)", "java\nscript:alert(1)", "data:text/html,<script>",
    "vbscript:msgbox(1)", "https://ok.example/", "/relative", "//evil.example/x",
    "expression(alert(1))", "&#x6A;&#x61;&#x76;&#x61;script:alert(1)",
]  # fmt: skip

attribute = st.builds(
    lambda name, value, quote: f" {name}={quote}{value}{quote}",
    st.sampled_from(ATTRIBUTES),
    st.one_of(st.sampled_from(URLS), st.text(max_size=20)),
    st.sampled_from(['"', "'", ""]),
)
fragment = st.recursive(
    st.one_of(st.text(max_size=30), st.sampled_from(["<", ">", "&", "</", "<!--"])),
    lambda inner: st.builds(
        lambda tag, attrs, body, close: (
            f"<{tag}{''.join(attrs)}>{body}" + (f"</{tag}>" if close else "")
        ),
        st.sampled_from(TAGS),
        st.lists(attribute, max_size=3),
        st.lists(inner, max_size=3).map("".join),
        st.booleans(),
    ),
    max_leaves=12,
)
hostile = st.one_of(fragment, st.text(max_size=200))

BAD_SCHEME = re.compile(r"^(javascript|vbscript|data):", re.IGNORECASE)
URL_ATTRIBUTES = {
    "href", "src", "srcset", "action", "formaction", "xlink:href", "data",
    "background", "poster", "cite", "longdesc", "ping",
}  # fmt: skip
CONTROL = re.compile(r"[\x00-\x20]")


def assert_safe(output: str) -> None:
    # As a browser would parse it...
    root = html.fragment_fromstring(output or "<p></p>", create_parent="div")
    assert_no_executable_markup(root, output)
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        assert "style" not in element.attrib, output
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), output
            if name.lower() in URL_ATTRIBUTES:  # a title may say "javascript:"
                cleaned = CONTROL.sub("", htmllib.unescape(value))
                assert not BAD_SCHEME.match(cleaned), output
    # ...and as raw text, whatever a parser makes of it.
    lowered = output.lower()
    assert "<script" not in lowered and "<iframe" not in lowered, output
    assert not re.search(r"<[^>]*\son\w+\s*=", lowered), output


@settings(max_examples=400, deadline=None)
@given(hostile, st.sampled_from([None, "https://blog.example/post/"]))
def test_nothing_executable_comes_out(markup, base):
    assert_safe(sanitize_html(markup, base))


@settings(max_examples=200, deadline=None)
@given(hostile, st.integers(min_value=0, max_value=80))
def test_excerpts_stay_safe_and_whole(markup, length):
    cleaned = sanitize_html(markup)
    for output in (
        truncate_html(cleaned, length),
        excerpt_html(cleaned, length, frozenset({"img", "table"})),
    ):
        assert_safe(output)
        # Well-formed: re-serialising the parse gives the same elements back.
        root = html.fragment_fromstring(output or "<p></p>", create_parent="div")
        assert len(root.text_content()) <= max(length, 0) + 1 or length == 0


@settings(max_examples=200, deadline=None)
@given(hostile)
def test_sanitising_twice_changes_nothing(markup):
    once = sanitize_html(markup)
    assert sanitize_html(once) == once


@settings(max_examples=200, deadline=None)
@given(hostile)
def test_plain_text_is_text(markup):
    text = plain_text(markup)
    # Escaped into a page, it is one text node: no element comes back.
    root = html.fragment_fromstring(f"<p>{htmllib.escape(text)}</p>")
    assert len(root) == 0


def test_links_images_and_relative_urls():
    out = sanitize_html(
        '<p>Vedi <a href="/route">il giro</a> <img src="pics/a.jpg" alt="lago">'
        '<a href="mailto:club@example.org">scrivici</a></p>',
        "https://club.example/blog/post/",
    )
    root = html.fragment_fromstring(out, create_parent="div")
    link = root.cssselect("a")[0]
    assert link.get("href") == "https://club.example/route"
    assert link.get("rel") == "nofollow noopener ugc"
    image = root.cssselect("img")[0]
    assert image.get("src") == "https://club.example/blog/post/pics/a.jpg"
    assert image.get("loading") == "lazy" and image.get("alt") == "lago"
    assert root.cssselect("a")[1].get("href") == "mailto:club@example.org"


def test_without_a_base_relative_urls_are_dropped():
    out = sanitize_html('<a href="/x">x</a><img src="y.png" alt="y">')
    assert "href" not in out and "<img" not in out


def test_tracking_pixels_are_dropped_real_images_kept():
    out = sanitize_html(
        '<img src="https://feeds.feedburner.com/~r/x/~4/abc" alt="">'
        '<img src="https://pixel.wp.com/g.gif" alt="">'
        '<img src="https://a.example/1.gif" width="1" height="1" alt="">'
        '<img src="https://a.example/photo.jpg" width="800" alt="foto">'
    )
    root = html.fragment_fromstring(out, create_parent="div")
    assert [i.get("src") for i in root.cssselect("img")] == [
        "https://a.example/photo.jpg"
    ]


def test_document_markup_survives():
    source = (
        "<p><strong>Forte</strong>, <em>corsivo</em>, <code>x = 1</code></p>"
        "<blockquote><p>Citazione</p></blockquote><ul><li>uno</li></ul>"
        "<pre><code>ciao</code></pre>"
    )
    assert sanitize_html(source) == source


def test_truncation_closes_what_it_opens():
    out = truncate_html(
        "<p>Uno <strong>due tre quattro</strong> cinque</p><p>sei</p>", 9
    )
    assert out.startswith("<p>Uno <strong>due")
    assert out.endswith("</strong></p>") and "…" in out
    assert "sei" not in out


# --- Text hygiene and valid structure -------------------------------------------------

FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff\ud800-\udfff]"
)


@pytest.mark.parametrize(
    "junk",
    ["\x00", "\x07", "\x1b", "\x7f", "\x81", "\x8d", "\x9f", "\ufdd0", "\ufdef",
     "\ufffe", "\uffff", "\U0001fffe", "\U0010ffff", "\ud800", "\udfff"],
)  # fmt: skip
def test_controls_noncharacters_and_lone_surrogates_never_come_out(junk):
    text = f"Drecom{junk}RSS e\tpoi\n"
    assert plain_text(text) == "DrecomRSS e poi"
    assert clean_text(text) == "DrecomRSS e\tpoi\n"
    assert sanitize_html(f"<p title='a{junk}b'>x{junk}y</p>") == '<p title="ab">xy</p>'


@settings(max_examples=200, deadline=None)
@given(hostile, st.text(alphabet=st.characters(max_codepoint=0x10FFFF), max_size=40))
def test_no_forbidden_character_survives(markup, text):
    for out in (sanitize_html(markup + text), plain_text(text + markup)):
        assert not FORBIDDEN.search(out), repr(out)


def structure(fragment: str, under: int = 2) -> str:
    return sanitize_html(fragment, under=under)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        # Headings: under the card's h2, in order, none skipped, none empty.
        ("<h1>A</h1><p>t</p><h2>B</h2>", "<h3>A</h3><p>t</p><h4>B</h4>"),
        ("<h2>A</h2><h5>B</h5><h3>C</h3>", "<h3>A</h3><h4>B</h4><h4>C</h4>"),
        ("<h1></h1><h4>B</h4>", "<h3>B</h3>"),
        # Empty elements go, bottom up; text between stays.
        ("<p></p><p> </p><span></span><strong><em></em></strong>x", "x"),
        ("<p><img src='https://a.example/p.jpg'></p>",
         '<p><img src="https://a.example/p.jpg" loading="lazy" alt=""></p>'),
        # Orphans get their container.
        ("<li>a</li><li>b</li>", "<ul><li>a</li><li>b</li></ul>"),
        ("<dt>t</dt><dd>d</dd>", "<dl><dt>t</dt><dd>d</dd></dl>"),
        ("<dd>solo</dd>", "<div><div>solo</div></div>"),
        ("<ul><p>p</p><li>v</li></ul>", "<ul><li><p>p</p></li><li>v</li></ul>"),
        # Attributes: empty or meaningless ones removed.
        ('<p dir="" lang="" title="">x</p>', "<p>x</p>"),
        ('<p dir="sideways" lang="it_IT">x</p>', "<p>x</p>"),
        ('<p dir="RTL" lang="he">x</p>', '<p dir="rtl" lang="he">x</p>'),
        ('<ol start="one"><li value="2">x</li></ol>', '<ol><li value="2">x</li></ol>'),
        # Links without a target are text; times without a date too.
        ("<a>senza</a> <a name='n'></a>", "senza"),
        ("<time></time><time datetime=''>ieri</time>", "ieri"),
        ('<time datetime="2026-11">1</time>', '<time datetime="2026-11">1</time>'),
        ('<time datetime="2026-13-40">x</time>', "x"),
        # Blocks inside phrasing elements are unwrapped, words kept apart.
        ("<span><div>a</div><div>b</div></span>", "<span>a b</span>"),
        ("<h1><div>a</div></h1>", "<h3>a</h3>"),
        ("<h2><ul><li>x</li></ul></h2>", "<h3>x</h3>"),
        ("<dt><h1>t</h1></dt><dd>d</dd>", "<dl><dt>t</dt><dd>d</dd></dl>"),
    ],
)  # fmt: skip
def test_output_is_valid_in_its_place(given, expected):
    assert " ".join(structure(given).split()) == expected


def test_headings_past_h6_become_paragraphs():
    assert structure("<h1>a</h1><h2>b</h2>", under=5) == "<h6>a</h6><p>b</p>"


def test_threads_cleaning_at_once_each_resolve_against_their_own_base():
    """The cleaners are shared; each call's base URL is its own, whatever
    other threads are cleaning meanwhile (the services clean in threads)."""

    def links(n: int) -> set[str]:
        base = f"https://blog{n}.example/posts/"
        found = set()
        fragment = '<p><a href="one">x</a><img src="two.png"></p>'
        for _ in range(200):
            cleaned = sanitize_html(fragment, base)
            found |= set(re.findall(r'(?:href|src)="([^"]+)"', cleaned))
        return found

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(links, range(16)))
    for n, found in enumerate(results):
        assert found == {
            f"https://blog{n}.example/posts/one",
            f"https://blog{n}.example/posts/two.png",
        }
