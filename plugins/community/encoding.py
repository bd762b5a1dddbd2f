"""A feed's bytes as text: which character encoding they are really in.

feedparser follows RFC 3023 (the HTTP charset, then the XML declaration,
then UTF-8) and asks chardet only when every declared encoding fails to
decode. That leaves two cases wrong, and fan blogs on old platforms have
both: a feed in a legacy encoding declared as Latin-1 or windows-1252 (a
server default; a single-byte encoding decodes any bytes, so nothing fails
and Japanese comes out as "‚É‹LŽ–"), and a feed declaring an encoding by a
label whose codec is narrower than what browsers use for it (GB2312 text
with a GBK character). Here the bytes are decoded first, as a browser would:

- a byte order mark wins;
- a declared encoding (HTTP charset, then XML declaration) is tried by its
  WHATWG meaning (``iso-8859-1`` is windows-1252, ``gb2312`` is GB18030,
  ``shift_jis`` is windows-31j...), strictly;
- a declaration that decodes but is a single-byte Western one is doubted
  when the text it gives does not look Western (most of its non-ASCII
  characters are symbols, or make up whole words, as mojibake does): then
  chardet's guess wins, if it is another encoding that decodes the bytes;
- no usable declaration: UTF-8 if the bytes are UTF-8, else chardet, else
  windows-1252 with replacement characters (never an exception).

feedparser then gets UTF-8 and a charset saying so. Pure logic: bytes in,
bytes out.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import chardet

# WHATWG Encoding Standard labels whose browser meaning is a superset of
# Python's codec of the same name. Decoding by the superset never loses text
# the narrower codec would have read.
SUPERSETS = {
    "ascii": "cp1252",
    "latin_1": "cp1252",
    "iso8859_1": "cp1252",
    "iso8859_9": "cp1254",
    "iso8859_11": "cp874",
    "tis_620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    "big5": "big5hkscs",
}
# Encodings that decode (almost) any bytes, for Western text: a declaration
# of one of them is no evidence the bytes are in it.
PERMISSIVE = frozenset({"cp1252", "cp1250", "iso8859_15", "iso8859_2", "mac_roman"})
# Above this share of implausible non-ASCII characters, Western text is
# taken for mojibake.
IMPLAUSIBLE = 0.5
# Non-ASCII punctuation Western text does use.
TYPOGRAPHY = frozenset("’‘“”„–—…«»°€·•×©®™§¡¿ ")
# Bytes chardet looks at: enough for any feed's vocabulary, bounded in time.
SAMPLE = 64 * 1024

_XML_ENCODING = re.compile(
    rb"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']"""
)
_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]{1,40})""", re.IGNORECASE)
_BOMS = (
    (codecs.BOM_UTF8, "utf_8"),
    (codecs.BOM_UTF32_LE, "utf_32_le"),
    (codecs.BOM_UTF32_BE, "utf_32_be"),
    (codecs.BOM_UTF16_LE, "utf_16_le"),
    (codecs.BOM_UTF16_BE, "utf_16_be"),
)


@dataclass(frozen=True)
class Decoded:
    """A feed's bytes re-encoded as UTF-8, and how they were read."""

    body: bytes  # UTF-8, the XML declaration's encoding removed
    encoding: str  # Python codec name the text was read with
    declared: str | None  # what the server or the document said, if anything
    note: str | None = None  # why the declaration was not followed


def codec(label: str | None) -> str | None:
    """The Python codec a browser would use for an encoding label, or None."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    name = name.replace("-", "_")
    return SUPERSETS.get(name, name)


def declared_encodings(body: bytes, content_type: str | None) -> list[str]:
    """The labels the HTTP header and the XML declaration give, in that order."""
    labels = []
    match = _CHARSET.search(content_type or "")
    if match:
        labels.append(match.group(1))
    match = _XML_ENCODING.match(body[:512])
    if match:
        labels.append(match.group(1).decode("ascii"))
    return labels


def _strict(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def detect(body: bytes) -> str | None:
    """chardet's guess, as a browser codec. The XML declaration is left out:
    chardet believes a declared encoding, and it is the one in doubt."""
    sample = _XML_DECLARATION.sub(b"", body[:SAMPLE], count=1)
    return codec(chardet.detect(sample).get("encoding"))


_XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*>")
_WORD = re.compile(r"[^\s<>&;\"'=/.,:!?()\[\]]+")


def implausible_share(text: str) -> float:
    """Of the non-ASCII characters of text read as a Western encoding, the
    share Western text would not have: symbols, and letters in words that are
    more non-ASCII than ASCII (a Western word has an accent or two; mojibake
    of Cyrillic or Thai is all "accents")."""
    total = odd = 0
    for match in _WORD.finditer(text):
        word = match.group(0)
        foreign = [c for c in word if not c.isascii()]
        if not foreign:
            continue
        total += len(foreign)
        whole = len(foreign) > 1 and len(foreign) > len(word) - len(foreign)
        odd += sum(1 for c in foreign if whole or not (c.isalpha() or c in TYPOGRAPHY))
    return odd / total if total else 0.0


def decode_feed(body: bytes, content_type: str | None = None) -> Decoded:
    """Read ``body`` in the encoding it is really in (see the module's notes)."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            text = body[len(bom) :].decode(name, errors="replace")
            return _decoded(text, name, name)
    labels = list(dict.fromkeys(declared_encodings(body, content_type)))
    declared = labels[0] if labels else None
    if body.isascii():
        return _decoded(body.decode("ascii"), "ascii", declared)
    refused = []
    for label in labels:
        name = codec(label)
        text = _strict(body, name) if name else None
        if text is None:
            refused.append(label)
            continue
        if name in PERMISSIVE and implausible_share(text) > IMPLAUSIBLE:
            guess = detect(body)
            if guess and guess not in PERMISSIVE:
                better = _strict(body, guess)
                if better is not None:
                    note = f"declared {label}, but the text is {guess}"
                    return _decoded(better, guess, declared, note)
        return _decoded(text, name, declared)
    why = f"declared {', '.join(refused)}, which does not decode" if refused else None
    text = _strict(body, "utf_8")
    if text is not None:
        return _decoded(text, "utf_8", declared, why)
    guess = detect(body)
    text = _strict(body, guess) if guess else None
    if text is not None:
        return _decoded(text, guess, declared, why and f"{why}; read as {guess}")
    text = body.decode("cp1252", errors="replace")
    note = "no encoding decodes it; unreadable characters replaced"
    return _decoded(text, "cp1252", declared, note)


def _decoded(text: str, encoding: str, declared: str | None, note: str | None = None):
    text = _without_declared_encoding(text)
    return Decoded(text.encode("utf-8", errors="replace"), encoding, declared, note)


_DECLARATION = re.compile(r"""^(\s*<\?xml[^>]*?)\s+encoding\s*=\s*["'][^"']*["']""")


def _without_declared_encoding(text: str) -> str:
    """The XML declaration without its (now wrong) encoding: UTF-8 is XML's
    default, so the parser reads the re-encoded bytes as they are."""
    return _DECLARATION.sub(r"\1", text, count=1)
