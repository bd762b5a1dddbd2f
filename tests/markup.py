"""What "no executable markup" means, checked on parsed HTML."""

from __future__ import annotations

import re

from lxml import html

URL_ATTRIBUTES = ("href", "src", "action", "formaction", "xlink:href", "srcset", "data")
OUR_SCRIPTS = ("/theme/js/comments.js",)
BAD_SCHEME = re.compile(r"^\s*(javascript|vbscript|data):", re.IGNORECASE)


def assert_no_executable_markup(root: html.HtmlElement, where: str) -> None:
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        tag = element.tag.lower()
        if tag == "script":
            # Data, or the theme's own external script: nothing else runs.
            ours = element.get("src", "").split("?")[0].endswith(OUR_SCRIPTS)
            data = element.get("type") == "application/ld+json"
            assert data or (ours and not (element.text or "").strip()), where
        assert tag not in ("iframe", "object", "embed", "form", "base", "style"), (
            where,
            tag,
        )
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (where, tag, name, value)
            if name.lower() in URL_ATTRIBUTES:
                assert not BAD_SCHEME.match(value), (where, tag, name, value)
        if tag == "meta":
            assert element.get("http-equiv", "").lower() != "refresh", where
