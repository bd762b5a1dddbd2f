"""What "no executable markup" means, checked on parsed HTML."""

from __future__ import annotations

import re

from lxml import html

URL_ATTRIBUTES = ("href", "src", "action", "formaction", "xlink:href", "srcset", "data")
OUR_SCRIPTS = (
    "/theme/js/comments.js",
    "/theme/js/ideas-pow.js",
    "/theme/js/ideas.js",
)
# The theme's own forms: the search field in the header and on the search
# page (plain GET forms to the search page), never inside reader content.
OUR_FORMS = ("site-search", "search-form")
BAD_SCHEME = re.compile(r"^\s*(javascript|vbscript|data):", re.IGNORECASE)


def assert_no_executable_markup(
    root: html.HtmlElement, where: str, *, forms_to: str | None = None
) -> None:
    """Nothing in ``root`` runs; ``forms_to``: the site's own forms, those
    posting to that address (the ideas service), are allowed."""
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        tag = element.tag.lower()
        if tag == "script":
            # Data, or the theme's own external script: nothing else runs.
            ours = element.get("src", "").split("?")[0].endswith(OUR_SCRIPTS)
            data = element.get("type") == "application/ld+json"
            assert data or (ours and not (element.text or "").strip()), where
        if tag == "form":
            action = element.get("action", "")
            to_service = bool(forms_to) and action.startswith(f"{forms_to}/")
            search = (
                element.get("class") in OUR_FORMS
                and element.get("method") == "get"
                and not any(
                    a.get("data-reader-content") is not None
                    for a in element.iterancestors()
                )
            )
            assert to_service or search, (where, tag, element.attrib)
        assert tag not in ("iframe", "object", "embed", "base", "style"), (where, tag)
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (where, tag, name, value)
            if name.lower() in URL_ATTRIBUTES:
                assert not BAD_SCHEME.match(value), (where, tag, name, value)
        if tag == "meta":
            assert element.get("http-equiv", "").lower() != "refresh", where
