"""The rule: does a comment ask or request something?

A comment asks when, after dropping quoted lines (``> ...``) and links, it
has a question mark, or one of the request phrases below as whole words,
case and accents ignored (Italian and English are both checked: readers mix
them). The list is short on purpose: a false "asks" costs the leader a
glance, a missed one costs a reader an answer, and the README shows it.
"""

from __future__ import annotations

import re
import unicodedata

REQUEST_PHRASES = (
    # Italian
    "potreste", "potresti", "potete", "puoi", "vorrei", "vorremmo",
    "sarebbe bello", "sarebbe utile", "mi piacerebbe", "ci piacerebbe",
    "per favore", "per piacere", "chiedo", "chiediamo", "richiesta",
    "avete intenzione", "quando arriva", "quando uscira", "aggiungete",
    "fate", "servirebbe", "manca",
    # English
    "would you", "could you", "can you", "will you", "please", "i wish",
    "i would like", "i'd like", "we would like", "it would be great",
    "it would be nice", "any plans", "any chance", "do you plan",
    "when will", "request", "please add", "you should",
)  # fmt: skip


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in text if not unicodedata.combining(c)).replace("’", "'")


_PHRASES = re.compile(
    r"(?<![\w'])(?:"
    + "|".join(re.escape(_fold(p)) for p in REQUEST_PHRASES)
    + r")(?![\w'])"
)
_QUOTE = re.compile(r"^\s*>.*$", re.MULTILINE)
_LINK = re.compile(r"https?://\S+")


def plain(text: str) -> str:
    """The comment's own words: quoted lines and links dropped."""
    return _LINK.sub(" ", _QUOTE.sub(" ", text))


def asks(text: str) -> bool:
    """Whether the comment asks a question or makes a request (the rule above)."""
    own = plain(text)
    return "?" in own or _PHRASES.search(_fold(own)) is not None
