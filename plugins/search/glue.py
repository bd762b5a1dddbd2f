"""Pelican glue: template helpers and the search page in each language."""

from __future__ import annotations

import os
import re
from functools import partial
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from multilang.languages import Alternate, page_lang
from search import settings as search_settings

_FILTER_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def searchable(filters: dict[str, Any]) -> Markup:
    """The attributes that make an element Pagefind's text of its page.

    ``data-pagefind-body`` marks the text (a site with any such mark indexes
    only marked pages); each filter's value is read from an attribute of the
    same element (``type[data-search-type]``), so values are never parsed:
    commas and colons in a category or a source's name are safe. Empty values
    are left out.
    """
    filters = {k: v for k, v in filters.items() if v not in (None, "")}
    for name in filters:
        if not _FILTER_NAME.match(name):
            raise ValueError(
                f"search filter {name!r}: use lowercase letters, digits and _ "
                "(it becomes an HTML attribute name)"
            )
    parts = [" data-pagefind-body"]
    if filters:
        spec = ", ".join(f"{name}[data-search-{name}]" for name in filters)
        parts.append(f' data-pagefind-filter="{spec}"')
        parts += [f' data-search-{name}="{escape(v)}"' for name, v in filters.items()]
    return Markup("".join(parts))


def install_template_helpers(generator: Any) -> None:
    """``search_url()``, ``search_attributes(**filters)`` and ``SEARCH_BUNDLE_URL``
    for every template."""
    settings = generator.settings
    config = search_settings.read(settings)
    urls = config["SEARCH_URLS"]
    default_lang = settings["DEFAULT_LANG"]

    @pass_context
    def search_url(ctx: Context) -> str:
        """The search page in the language of the page being rendered."""
        return urls.get(page_lang(ctx, default_lang), urls[default_lang])

    @pass_context
    def search_attributes(ctx: Context, **filters: Any) -> Markup:
        """Mark this element as the page's searchable text, with its filters
        (``type``, ``category``, ``year``, ``source``: shown to readers, so in
        the page's language). A draft is never searchable: it gets nothing."""
        for key in ("article", "page"):
            shown = ctx.get(key)
            if shown is not None and getattr(shown, "status", "") == "draft":
                return Markup("")
        return searchable(filters)

    generator.env.globals.update(
        search_url=search_url,
        search_attributes=search_attributes,
        SEARCH_BUNDLE_URL=config["SEARCH_BUNDLE_URL"],
    )


def write_search_pages(generator: Any, writer: Any) -> None:
    """Write the search page once per language, each linked to the others."""
    if generator.__class__.__name__ != "ArticlesGenerator":
        return
    settings = generator.settings
    urls = search_settings.read(settings)["SEARCH_URLS"]
    languages = list(settings.get("LANGUAGES") or [settings["DEFAULT_LANG"]])
    write = partial(writer.write_file, relative_urls=settings["RELATIVE_URLS"])
    template = generator.get_template("search")
    for lang in languages:
        url = urls[lang]
        write(
            f"{url}index.html",
            template,
            generator.context,
            lang=lang,
            url=url,
            page_name=f"{url}index",
            template_name="search",
            page_alternates=[
                Alternate(other, urls[other], other == lang) for other in languages
            ],
        )


# Set by piazza/pelican_run.py when a publish indexes while the build finishes.
PAGES_WRITTEN = "PIAZZA_PAGES_WRITTEN"


def say_pages_written(pelican_object: Any) -> None:
    """``finalized``: every page is written (what follows compresses files
    and checks caches), so the search index may start. Said in the file
    ``$PIAZZA_PAGES_WRITTEN`` names, made whole by a rename."""
    path = os.environ.get(PAGES_WRITTEN)
    if not path:
        return
    partial = f"{path}.partial"
    with open(partial, "w", encoding="utf-8") as file:
        file.write(str(pelican_object.settings["OUTPUT_PATH"]))
    os.replace(partial, path)
