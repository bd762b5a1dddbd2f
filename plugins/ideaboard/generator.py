"""Pelican glue: a generator that writes the ideas board in every language.

Reads the accepted ideas from ``content/ideas/`` (ideafiles.py), the
service's snapshot (snapshot.py: the last known one when the service is
down), merges them (board.py), orders and groups them (rank.py), and hands
each page its prepared lists: templates only loop. A malformed idea file is
left out with a warning naming the file and line; the rest of the board
builds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pelican.generators import Generator

from ideaboard import board, rank, snapshot
from ideaboard.feed import answer, render_atom
from ideaboard.ideafiles import IdeaFileError, parse
from ideaboard.jsonld import discussion_posting
from ideaboard.labels import STATUS_LABELS
from ideaboard.model import BoardIdea, Decision
from ideaboard.settings import STATUSES, BoardSettings
from multilang.catalogs import load_translations
from multilang.languages import Alternate
from wording import counted

logger = logging.getLogger(__name__)

# Pelican turns warnings into a stop under --fatal warnings. A malformed idea
# file or a service that is down must not stop the rest of the site (as for
# the comments): these warnings go through a plain logger, shown like any.
board_warning = logging.Logger(f"{__name__}.warning")
board_warning.parent = logging.getLogger()


def get_generators(pelican: Any) -> type[Generator]:
    return IdeaBoardGenerator


@dataclass(frozen=True)
class IdeaThread:
    """An idea page's comment thread (plugins/commentthreads lists it)."""

    comment_uri: str
    title: str


def _languages(settings: dict[str, Any]) -> list[str]:
    default = settings["DEFAULT_LANG"]
    languages = list(settings.get("LANGUAGES") or [default])
    return [default, *(lang for lang in languages if lang != default)]


def read_ideas(folder: Path, tz: ZoneInfo, languages: tuple[str, ...]) -> list[Any]:
    """Every idea file that parses; each one that doesn't is a warning."""
    texts = []
    for path in sorted(folder.glob("*.md")) if folder.is_dir() else ():
        try:
            texts.append(
                parse(path.read_text(encoding="utf-8"), str(path), tz, languages)
            )
        except IdeaFileError as exc:
            board_warning.warning("ideas board: %s; this idea is left out", exc)
        except (OSError, UnicodeDecodeError) as exc:
            board_warning.warning(
                "ideas board: %s: cannot read it (%s); this idea is left out", path, exc
            )
    return texts


class IdeaBoardGenerator(Generator):
    """Writes the board's pages, idea pages, roadmap, proposal page and the
    feeds of decisions, in each language; gives every template
    ``ideas_urls`` and ``ideas_latest_decisions``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.languages = _languages(self.settings)
        self.board = BoardSettings.from_pelican(self.settings, self.languages)
        self.ideas: list[BoardIdea] = []
        self.comment_threads: list[IdeaThread] = []

    # -- addresses ---------------------------------------------------------

    def idea_url(self, idea: BoardIdea, lang: str) -> str:
        slug = f"{idea.number}-{idea.text(lang).slug}"
        return self.board.urls[lang]["idea"].format(slug=slug)

    def status_url(self, status: str, lang: str) -> str:
        slug = self.board.status_slugs[lang][status]
        return self.board.urls[lang]["status"].format(status=slug)

    def category_url(self, category: str, lang: str) -> str:
        return self.board.urls[lang]["category"].format(slug=category)

    def alternates(self, url_of: Any, lang: str) -> list[Alternate]:
        return [
            Alternate(lang=other, url=url_of(other), current=other == lang)
            for other in sorted(self.languages)
        ]

    # -- context -----------------------------------------------------------

    def generate_context(self) -> None:
        settings = self.settings
        tz = ZoneInfo(settings.get("TIMEZONE") or "UTC")
        texts = read_ideas(self.board.content_dir, tz, tuple(self.languages))
        grouped, problems = board.group_texts(texts, settings["DEFAULT_LANG"])
        for problem in problems:
            board_warning.warning("ideas board: %s", problem)
        found = snapshot.load(
            self.board.api_url, self.board.cache, timeout=self.board.timeout
        )
        self.ideas = board.merge(grouped, found, tz)
        logger.info(
            "ideas board: %s from %s, numbers from %s",
            counted(len(self.ideas), "idea"),
            self.board.content_dir,
            "the last known snapshot" if found.stale else self.board.api_url,
        )
        decisions = [
            d for d in rank.decisions(self.ideas) if d.change.status != "proposed"
        ]
        self.context["ideas_urls"] = self.board.urls
        # Each idea's page per language, for other plugins (accountability).
        self.context["ideas_pages"] = {
            lang: {idea.number: self.idea_url(idea, lang) for idea in self.ideas}
            for lang in self.languages
        }
        self.context["ideas_status_labels"] = STATUS_LABELS
        self.context["ideas_latest_decisions"] = {
            lang: [
                self._decision_view(d, lang)
                for d in decisions[: self.board.home_decisions]
            ]
            for lang in self.languages
        }
        if settings.get("ISSO_URL"):
            self.comment_threads = [
                IdeaThread("/" + self.idea_url(idea, lang), idea.text(lang).title)
                for idea in self.ideas
                for lang in self.languages
            ]

    def _decision_view(self, decision: Decision, lang: str) -> dict[str, Any]:
        """What the home page's block shows of one decision, in ``lang``."""
        idea = decision.idea
        text, text_lang = answer(decision.change, lang)
        return {
            "idea": idea,
            "title": idea.text(lang).title,
            "title_lang": idea.text(lang).lang,
            "url": self.idea_url(idea, lang) + f"#change-{decision.index + 1}",
            "status": decision.change.status,
            "date": decision.change.date,
            "answer": text,
            "answer_lang": text_lang,
        }

    # -- output ------------------------------------------------------------

    def _common(self, lang: str) -> dict[str, Any]:
        board_settings = self.board
        labels = {
            key: names.get(lang) or names.get(self.settings["DEFAULT_LANG"]) or key
            for key, names in board_settings.categories.items()
        }
        for idea in self.ideas:
            labels.setdefault(idea.category, idea.category)
        return {
            "relative_urls": self.settings["RELATIVE_URLS"],
            "lang": lang,
            "ideas_api": board_settings.public_url,
            "ideas_nav": board_settings.urls[lang],
            "ideas_rule": board_settings.rule[lang],
            "ideas_category_labels": labels,
            "ideas_categories": list(board_settings.categories),
            "ideas_links": {i.number: self.idea_url(i, lang) for i in self.ideas},
            "ideas_status_urls": {s: self.status_url(s, lang) for s in STATUSES},
            "ideas_category_urls": {c: self.category_url(c, lang) for c in labels},
            "ideas_feed_url": board_settings.urls[lang]["feed"],
            "ideas_closed": ("done", "declined", "duplicate"),
        }

    def _write(self, writer: Any, url: str, template: str, **context: Any) -> None:
        save_as = url + "index.html" if url.endswith("/") else url
        writer.write_file(
            save_as,
            self.get_template(template),
            self.context,
            url=url,
            page_name=save_as.rsplit(".", 1)[0],
            template_name=template,
            **context,
        )

    def generate_output(self, writer: Any) -> None:
        board_settings = self.board
        shown = [i for i in self.ideas if i.status in board_settings.board_statuses]
        by_status = rank.group_by(self.ideas, "status", STATUSES)
        by_category = rank.group_by(
            self.ideas, "category", list(board_settings.categories)
        )
        orders = {
            "board": rank.by_support(shown),
            "trending": rank.trending(shown),
            "newest": rank.newest(shown),
        }
        for lang in self.languages:
            common = self._common(lang)
            urls = board_settings.urls[lang]
            for order, ideas in orders.items():
                self._write(
                    writer,
                    urls[order],
                    "ideas/board",
                    ideas_list=ideas,
                    ideas_order=order,
                    ideas_heading=None,
                    page_alternates=self.alternates(
                        lambda other, o=order: board_settings.urls[other][o], lang
                    ),
                    **common,
                )
            for status, ideas in by_status.items():
                self._write(
                    writer,
                    self.status_url(status, lang),
                    "ideas/board",
                    ideas_list=ideas,
                    ideas_order="status",
                    ideas_heading=("status", status),
                    page_alternates=self.alternates(
                        lambda other, s=status: self.status_url(s, other), lang
                    ),
                    **common,
                )
            for category, ideas in by_category.items():
                self._write(
                    writer,
                    self.category_url(category, lang),
                    "ideas/board",
                    ideas_list=ideas,
                    ideas_order="category",
                    ideas_heading=("category", category),
                    page_alternates=self.alternates(
                        lambda other, c=category: self.category_url(c, other), lang
                    ),
                    **common,
                )
            self._write(
                writer,
                urls["roadmap"],
                "ideas/roadmap",
                ideas_columns={s: by_status.get(s, []) for s in board_settings.roadmap},
                page_alternates=self.alternates(
                    lambda other: board_settings.urls[other]["roadmap"], lang
                ),
                **common,
            )
            self._write(
                writer,
                urls["propose"],
                "ideas/propose",
                page_alternates=self.alternates(
                    lambda other: board_settings.urls[other]["propose"], lang
                ),
                **common,
            )
            for idea in self.ideas:
                self._write_idea(writer, idea, lang, common)
        self._write_feeds(Path(self.output_path))

    def _write_idea(
        self, writer: Any, idea: BoardIdea, lang: str, common: dict[str, Any]
    ) -> None:
        url = self.idea_url(idea, lang)
        siteurl = self.settings.get("SITEURL", "")
        text = idea.text(lang)
        history = [
            {"change": change, "index": index, "answer": answer(change, lang)}
            for index, change in enumerate(idea.history)
        ]
        original = None
        if idea.duplicate_of is not None:
            original = next(
                (i for i in self.ideas if i.number == idea.duplicate_of), None
            )
        self._write(
            writer,
            url,
            "ideas/idea",
            idea=idea,
            idea_text=text,
            idea_history=history,
            idea_original=original,
            idea_thread=IdeaThread("/" + url, text.title)
            if self.settings.get("ISSO_URL")
            else None,
            idea_jsonld=discussion_posting(
                idea,
                lang,
                f"{siteurl}/{url}",
                siteurl,
                self.settings.get("SITENAME", ""),
            ),
            page_alternates=self.alternates(
                lambda other: self.idea_url(idea, other), lang
            ),
            **common,
        )

    def _write_feeds(self, output: Path) -> None:
        settings = self.settings
        siteurl = settings.get("SITEURL", "")
        feed_domain = settings.get("FEED_DOMAIN") or siteurl
        theme = Path(settings["THEME"]) / "translations"
        decisions = rank.decisions(self.ideas)[: self.board.feed_max_items]
        for lang in self.languages:
            catalog = load_translations(str(theme), lang)
            urls = self.board.urls[lang]

            def entry_title(
                d: Decision, lang: str = lang, catalog: Any = catalog
            ) -> str:
                status = catalog.gettext(STATUS_LABELS[d.change.status])
                return f"{d.idea.text(lang).title} — {status}"

            xml = render_atom(
                decisions,
                lang=lang,
                title=f"{settings.get('SITENAME', '')} — "
                + catalog.gettext("What we did with your ideas"),
                home=f"{siteurl}/{urls['board']}",
                feed_url=f"{feed_domain}/{urls['feed']}",
                idea_url=lambda d, lang=lang: (
                    f"{siteurl}/{self.idea_url(d.idea, lang)}"
                ),
                entry_title=entry_title,
            )
            path = output / urls["feed"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(xml, encoding="utf-8")
            logger.info('Writing "%s"', path)
