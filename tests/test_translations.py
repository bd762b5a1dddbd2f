"""Every UI string in the templates has an Italian translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from conftest import ROOT

THEME = ROOT / "theme"


def _template_msgids() -> set[str]:
    """The theme's, the moderation pages' (piazza/templates) and the ideas
    service's pages and e-mails (services/ideas/templates)."""
    method_map = [("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    return {
        message if isinstance(message, str) else message[0]
        for folder, mapping in (
            (THEME, method_map),
            (ROOT / "piazza" / "templates", [("**.html", "jinja2")]),
            (ROOT / "services" / "ideas" / "templates", [("**.html", "jinja2")]),
            (ROOT / "services" / "ideas" / "templates", [("**.txt", "jinja2")]),
        )
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(folder), mapping, {mapping[0][0]: options["templates/**.html"]}
        )
    }


def _translated(lang: str) -> dict[str, str]:
    translated: dict[str, str] = {}
    for po in sorted((THEME / "translations" / lang / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fp:
            for message in read_po(fp, locale=lang):
                if message.id and message.string:
                    translated[
                        message.id if isinstance(message.id, str) else message.id[0]
                    ] = (
                        message.string
                        if isinstance(message.string, str)
                        else message.string[0]
                    )
    return translated


def test_templates_have_ui_strings():
    assert len(_template_msgids()) > 30


def test_every_ui_string_has_an_italian_translation():
    missing = sorted(_template_msgids() - set(_translated("it")))
    assert not missing, (
        f"add these to theme/translations/it/LC_MESSAGES/*.po: {missing}"
    )


def test_italian_translations_keep_their_placeholders():
    import re

    placeholder = re.compile(r"%\((\w+)\)s")
    for msgid, msgstr in _translated("it").items():
        assert set(placeholder.findall(msgid)) == set(placeholder.findall(msgstr)), (
            msgid
        )


def test_catalog_files_parse():
    for po in Path(THEME / "translations").rglob("*.po"):
        with po.open("rb") as fp:
            read_po(fp, abort_invalid=True)
