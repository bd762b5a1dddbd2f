"""Pelican glue: the memoised ``fragment()`` template global."""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup


def install_fragment_cache(generator: Any) -> None:
    """Give this generator's templates a fresh fragment cache for this build."""
    env = generator.env
    cache: dict[tuple[str, int, str], Markup] = {}
    # Items are kept alive alongside their HTML, so an id() is never reused.
    keep: list[Any] = []

    @pass_context
    def fragment(ctx: Context, name: str, item: Any, lang: str) -> Markup:
        key = (name, id(item), lang)
        html = cache.get(key)
        if html is None:
            template = env.get_template(f"partials/{name}.html")
            html = Markup(
                template.render({**ctx.get_all(), "item": item, "lang": lang})
            )
            cache[key] = html
            keep.append(item)
        return html

    env.globals["fragment"] = fragment
