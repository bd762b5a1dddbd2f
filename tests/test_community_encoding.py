"""Feeds in legacy encodings, declared, undeclared and wrongly declared,
served by a real HTTP server on loopback: every title and excerpt comes out
as its author wrote it (the fixtures and their texts:
tests/fixtures/community/encodings/make_encodings.py)."""

from __future__ import annotations

import sys

import pytest
from conftest import FIXTURES

from community.encoding import codec, decode_feed, implausible_share

sys.path.insert(0, str(FIXTURES / "community" / "encodings"))
import make_encodings

ENCODINGS = make_encodings.HERE


def content_type(encoding: str, variant: str) -> str:
    """How the server labels each variant: the real charset, none, or the
    wrong one the document declares too."""
    charset = {"declared": encoding, "wrong": make_encodings.WRONG[encoding]}
    label = charset.get(variant)
    return "application/rss+xml" + (f"; charset={label}" if label else "")


CASES = [(e, v) for e in make_encodings.TEXTS for v in make_encodings.VARIANTS]


def test_the_fixtures_are_what_the_generator_writes():
    for encoding, variant in CASES:
        path = ENCODINGS / f"{encoding}.{variant}.xml"
        assert path.read_bytes() == make_encodings.feed(encoding, variant), path


@pytest.mark.parametrize(("encoding", "variant"), CASES)
def test_each_legacy_encoding_is_read_as_written(encoding, variant):
    body = (ENCODINGS / f"{encoding}.{variant}.xml").read_bytes()
    decoded = decode_feed(body, content_type(encoding, variant))
    _lang, title, entries = make_encodings.TEXTS[encoding]
    text = decoded.body.decode("utf-8")
    assert title in text
    for entry_title, entry_text in entries:
        assert entry_title in text and entry_text in text
    assert decoded.encoding == codec(encoding)
    assert (decoded.note is not None) == (variant == "wrong")


@pytest.mark.parametrize(
    "text",
    [
        "Perché la città è bella in moto. Caffè e curve. È così.",
        "Größe und Übung: schöne Straßen im Süden, über die Alpen.",
        "Él está aquí, mañana vamos a la montaña con los niños. ¿Qué tal?",
        "Déjà vu: l'été à Besançon, forêt et châteaux, où est la gare ?",
        "São Paulo não é só trânsito: ação, coração e pão – “sempre”…",
    ],
)
def test_western_text_in_latin1_keeps_its_declaration(text):
    head = "<?xml version='1.0' encoding='iso-8859-1'?>"
    body = f"{head}<rss><title>{text}</title></rss>"
    decoded = decode_feed(body.encode("latin-1" if "“" not in text else "cp1252"))
    assert implausible_share(text) < 0.5
    assert decoded.encoding == "cp1252" and decoded.note is None
    assert text in decoded.body.decode("utf-8")


def test_a_byte_order_mark_wins_and_nothing_ever_raises():
    head = "\ufeff<?xml version='1.0' encoding='latin-1'?>"
    utf16 = f"{head}<rss><title>Città</title></rss>"
    assert "Città" in decode_feed(utf16.encode("utf-16-le")).body.decode()
    junk = bytes(range(256)) * 4
    decoded = decode_feed(junk, "text/xml; charset=nonsense")
    assert decoded.body.decode("utf-8")
