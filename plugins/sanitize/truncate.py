"""Shorten an HTML fragment to a number of characters of text, keeping it whole.

Cutting the string would split a tag or leave elements open; here the fragment
is parsed, text is counted (runs of whitespace as one), the cut falls on a word
boundary with an ellipsis, and every element still open is closed. Elements
that make no sense in an excerpt (images, tables...) can be dropped whole.
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection
from html.parser import HTMLParser

VOID_ELEMENTS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
     "source", "track", "wbr"}
)  # fmt: skip
ELLIPSIS = "…"
_SPACES = re.compile(r"\s+")
# How far back from the cut to look for a space before giving up on words.
_WORD_SLACK = 30


class _Truncator(HTMLParser):
    def __init__(self, max_chars: int, drop: Collection[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.budget = max_chars
        self.drop = frozenset(drop)
        self.out: list[str] = []
        # Open elements: (tag, start tag text, emitted yet). A start tag is
        # emitted only once text follows it, so a cut leaves no empty shells.
        self.stack: list[tuple[str, str, bool]] = []
        self.dropping = 0  # depth inside a dropped element
        self.last_text: int | None = None  # index in out of the last text
        self.truncated = False
        self.done = False

    def _flush_pending(self) -> None:
        for index, (tag, text, emitted) in enumerate(self.stack):
            if not emitted:
                self.out.append(text)
                self.stack[index] = (tag, text, True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:
            return
        if self.dropping:
            if tag not in VOID_ELEMENTS:
                self.dropping += 1
            return
        if tag in self.drop:
            if tag not in VOID_ELEMENTS:
                self.dropping = 1
            return
        rendered = "".join(
            f" {name}" if value is None else f' {name}="{html.escape(value)}"'
            for name, value in attrs
        )
        text = f"<{tag}{rendered}>"
        if tag in VOID_ELEMENTS:
            self._flush_pending()
            self.out.append(text)
        else:
            self.stack.append((tag, text, False))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID_ELEMENTS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.done or tag in VOID_ELEMENTS:
            return
        if self.dropping:
            self.dropping -= 1
            return
        # Close up to the matching open element; ignore stray end tags.
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth][0] == tag:
                while len(self.stack) > depth:
                    open_tag, _text, emitted = self.stack.pop()
                    if emitted:
                        self.out.append(f"</{open_tag}>")
                return

    def handle_data(self, data: str) -> None:
        if self.done or self.dropping:
            return
        text = _SPACES.sub(" ", data)
        if not text.strip():
            if text and self.out:
                self.out.append(" ")
            return
        if self.budget <= 0:
            # The text so far filled the budget exactly: mark the cut there,
            # rather than opening the next element just to hold an ellipsis.
            if self.last_text is not None:
                self.out[self.last_text] = self.out[self.last_text].rstrip() + ELLIPSIS
                self.truncated = self.done = True
            else:
                self._cut("")
            return
        if len(text) <= self.budget:
            self._flush_pending()
            self.last_text = len(self.out)
            self.out.append(html.escape(text, quote=False))
            self.budget -= len(text)
            return
        head = text[: self.budget]
        if not text[self.budget].isspace():
            space = head.rfind(" ")
            if space >= max(0, len(head) - _WORD_SLACK):
                head = head[:space]
        self._cut(head)

    def _cut(self, head: str) -> None:
        head = head.rstrip(" ,;:.-–—")
        self._flush_pending()
        self.out.append(html.escape(head, quote=False) + ELLIPSIS)
        self.truncated = True
        self.done = True

    def result(self) -> str:
        closing = [
            f"</{tag}>" for tag, _text, emitted in reversed(self.stack) if emitted
        ]
        return ("".join(self.out) + "".join(closing)).strip()


def truncate_html(
    fragment: str | None, max_chars: int, *, drop: Collection[str] = ()
) -> str:
    """At most ``max_chars`` characters of the fragment's text, as whole HTML.

    Markup is re-serialised from the parse (attributes escaped, comments
    dropped), and elements named in ``drop`` are left out with their content.
    Pass sanitised HTML: this keeps whatever tags it is given.
    """
    if not fragment:
        return ""
    truncator = _Truncator(max(0, max_chars), drop)
    truncator.feed(fragment)
    truncator.close()
    return truncator.result()


_TAG = re.compile(r"<[^>]*>")


def text_length(cleaned: str) -> int:
    """Characters of text in sanitised HTML (runs of whitespace count as one).

    Stripping ``<...>`` can only over-count (an attribute holding ">" leaves
    some of itself behind), never under-count: safe for "is it short enough?".
    """
    return len(_SPACES.sub(" ", html.unescape(_TAG.sub("", cleaned))).strip())
