"""Pelican glue: writes the public record in each language (thin)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ideaboard.snapshot import load
from pelican.generators import Generator

from accountability import settings as config
from accountability.chart import Chart, bar_chart
from accountability.figures import Decision, Figures, figures

logger = logging.getLogger(__name__)


def get_generators(pelican: Any) -> type[Generator]:
    return AccountabilityGenerator


@dataclass(frozen=True)
class ShownDecision:
    """A decision as one language's page shows it."""

    decision: Decision
    url: str  # site-relative
    answer: str


@dataclass
class PageVersion:
    """The page in one language, as the theme's language helpers (multilang)
    read a page: its language, its URL, its other versions. Not frozen:
    multilang keeps the computed alternates on it."""

    lang: str
    url: str
    translations: list[PageVersion] = field(default_factory=list)
    status: str = "published"


def versions(pages: dict[str, tuple[str, str]]) -> dict[str, PageVersion]:
    found = {lang: PageVersion(lang, url) for lang, (url, _save_as) in pages.items()}
    for version in found.values():
        version.translations = [v for v in found.values() if v is not version]
    return found


class AccountabilityGenerator(Generator):
    """Loads the snapshot once; writes one page per language."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.values = config.read(self.settings)
        self.figures: Figures | None = None
        self.stale = False

    def generate_context(self) -> None:
        cache = Path(self.values["IDEAS_SNAPSHOT_CACHE"])
        # A service that is down is a plain (non-fatal) warning of the
        # snapshot's own logger and the last known copy: the build goes on.
        snapshot = load(self.values["IDEAS_API_URL"], cache)
        self.stale = snapshot.stale
        self.figures = figures(snapshot.ideas, self.values["ACCOUNTABILITY_LATEST"])
        self.context["accountability_urls"] = {
            lang: url
            for lang, (url, _save_as) in self.values["ACCOUNTABILITY_PAGES"].items()
        }

    def _url(self, number: int, lang: str) -> str:
        """The idea's page as the board wrote it (plugins/ideaboard's
        ``ideas_pages``), or the board when the idea has no page."""
        pages = self.context.get("ideas_pages", {}).get(lang, {})
        return pages.get(number) or self.values["ACCOUNTABILITY_BOARD_URLS"][lang]

    def _decisions(self, lang: str) -> list[ShownDecision]:
        assert self.figures is not None
        return [
            ShownDecision(
                decision=d,
                url=self._url(d.idea.id, lang),
                answer=(d.change.answer_en if lang == "en" else d.change.answer_it)
                or d.change.answer_it
                or d.change.answer_en,
            )
            for d in self.figures.latest
        ]

    def _chart(self) -> Chart:
        assert self.figures is not None
        return bar_chart(
            [(q, n, str(n)) for q, n in self.figures.done_by_quarter[-8:]],
            width=480,
            height=180,
        )

    def generate_output(self, writer: Any) -> None:
        if self.figures is None:
            return
        template = self.get_template("accountability")
        pages = self.values["ACCOUNTABILITY_PAGES"]
        shown = versions(pages)
        for lang, (url, save_as) in pages.items():
            writer.write_file(
                save_as,
                template,
                self.context,
                relative_urls=self.settings["RELATIVE_URLS"],
                template_name="accountability",
                url=url,
                page_name=save_as.rsplit(".", 1)[0],
                lang=lang,
                # The language switcher and hreflang alternates read `page`.
                page=shown[lang],
                accountability=self.figures,
                accountability_decisions=self._decisions(lang),
                accountability_chart=self._chart(),
                accountability_board=self.values["ACCOUNTABILITY_BOARD_URLS"][lang],
                accountability_stale=self.stale,
            )
