"""`invoke new-post`: a new Markdown post, as a draft, that never overwrites."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pelican.utils import slugify

USAGE = (
    'usage: invoke new-post --title "Title" --category CATEGORY '
    "[--lang en --translation-of SLUG]\n"
    "(invoke new-post --help tells more)"
)


class NewPostError(Exception):
    """The post can't be written; the message says why and what to do."""


class UsageError(NewPostError):
    """The command line itself is wrong: the message comes with the usage."""


def check_title(title: str | None) -> str:
    """The title, stripped; refuse none, an empty one, or one that is an option."""
    title = (title or "").strip()
    if not title:
        raise UsageError("--title is empty (or missing); give the post a title")
    if title.startswith("-"):
        raise UsageError(
            f"--title {title!r} starts with '-', so it looks like an option, not a "
            "title; nothing was written"
        )
    return title


def choose_category(given: str, categories: Mapping[str, str]) -> str:
    """The site's name for the category ``given`` (by name or slug, any case).

    ``categories`` maps slugs to names (CATEGORY_LABELS); an empty mapping
    means the site keeps no list, and any non-empty name is taken as written.
    """
    given = given.strip()
    choices = ", ".join(sorted(categories.values()))
    if not given:
        raise UsageError(
            f"--category is required: one of {choices} (CATEGORY_LABELS in "
            "pelicanconf.py)"
            if categories
            else "--category is required"
        )
    if not categories:
        return given
    wanted = slugify(given)
    for slug, name in categories.items():
        if wanted in (slug, slugify(name)):
            return name
    raise UsageError(
        f"--category {given!r} is not a category of this site; use one of "
        f"{choices}, or add it to CATEGORY_LABELS in pelicanconf.py"
    )


@dataclass(frozen=True)
class PostHeader:
    """Metadata of an existing post, as far as new-post needs it."""

    path: Path
    slug: str
    lang: str
    date: str
    category: str
    tags: str


_META = re.compile(r"^(?P<key>[A-Za-z_]+):\s*(?P<value>.*)$")


def read_header(path: Path) -> dict[str, str]:
    """The metadata block at the top of a Markdown file (keys lower-cased)."""
    meta: dict[str, str] = {}
    with path.open(encoding="utf-8") as fp:
        for line in fp:
            match = _META.match(line.rstrip("\n"))
            if not match:
                break
            meta[match["key"].lower()] = match["value"].strip()
    return meta


def existing_posts(posts_dir: Path) -> Iterable[PostHeader]:
    for path in sorted(posts_dir.rglob("*.md")):
        meta = read_header(path)
        yield PostHeader(
            path=path,
            slug=meta.get("slug") or slugify(meta.get("title", path.stem)),
            lang=meta.get("lang", ""),
            date=meta.get("date", ""),
            category=meta.get("category", ""),
            tags=meta.get("tags", ""),
        )


def render(
    *,
    title: str,
    slug: str,
    lang: str,
    author: str,
    date: datetime,
    category: str = "",
    tags: str = "",
    translation: bool = False,
) -> str:
    lines = [
        f"Title: {title}",
        f"Date: {date:%Y-%m-%d %H:%M}",
        f"Category: {category}" if category else "",
        f"Tags: {tags}" if tags else "",
        f"Slug: {slug}",
        f"Lang: {lang}",
        "Translation: true" if translation else "",
        f"Author: {author}",
        "Status: draft",
        "Summary: ",
    ]
    body = (
        "Scrivi qui il testo. Cambia `Status: draft` in `Status: published` "
        "quando è pronto."
        if lang == "it"
        else "Write here. Change `Status: draft` to `Status: published` when ready."
    )
    return "\n".join(line for line in lines if line) + "\n\n" + body + "\n"


def new_post(
    posts_dir: Path,
    *,
    title: str,
    lang: str,
    languages: Iterable[str],
    default_lang: str,
    author: str,
    now: datetime,
    translation_of: str | None = None,
    category: str = "",
    categories: Mapping[str, str] | None = None,
) -> Path:
    """Write a draft post and return its path; refuse anything ambiguous.

    ``categories`` (slug -> name, from CATEGORY_LABELS) are the ones a new
    post may take; a translation takes its original's.
    """
    title = check_title(title)
    languages = list(languages)
    if lang not in languages:
        raise NewPostError(
            f"--lang {lang!r} is not a language of this site ({', '.join(languages)})"
        )
    posts = list(existing_posts(posts_dir))
    tags = ""
    date = now
    if translation_of:
        originals = [p for p in posts if p.slug == translation_of]
        if not originals:
            raise NewPostError(
                f"--translation-of {translation_of!r}: no post in {posts_dir} has "
                "that slug"
            )
        if any(p.lang == lang for p in originals):
            taken = next(p.path for p in originals if p.lang == lang)
            raise NewPostError(
                f"{taken} already is the {lang!r} version of {translation_of!r}"
            )
        original = next((p for p in originals if p.lang == default_lang), originals[0])
        slug = translation_of
        category = choose_category(category or original.category, categories or {})
        tags = original.tags
        if original.date:
            date = datetime.strptime(original.date[:16], "%Y-%m-%d %H:%M")
    else:
        category = choose_category(category, categories or {})
        slug = slugify(
            title,
            regex_subs=[
                (r"[^\w\s-]", ""),
                (r"(?u)\A\s*", ""),
                (r"(?u)\s*\Z", ""),
                (r"[-\s]+", "-"),
            ],
        )
        if not slug:
            raise NewPostError(f"--title {title!r} gives an empty slug")
        clash = next((p for p in posts if p.slug == slug and p.lang == lang), None)
        if clash:
            raise NewPostError(
                f"{clash.path} already uses slug {slug!r}; choose another title"
            )
    path = posts_dir / f"{date:%Y-%m}-{slug}.{lang}.md"
    if path.exists():
        raise NewPostError(f"{path} exists; not overwriting it")
    text = render(
        title=title,
        slug=slug,
        lang=lang,
        author=author,
        date=date,
        category=category,
        tags=tags,
        translation=bool(translation_of),
    )
    posts_dir.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as fp:  # "x": never overwrite
        fp.write(text)
    return path
