"""What people ask for: recurring themes per language.

For each language, YAKE (keyphrase extraction, with its own Italian and
English stop words) reads the period's asking comments as one text and
proposes up to :data:`CANDIDATES` phrases of one or two words. Each phrase
and each comment are reduced to lemmas with simplemma (``batterie`` and
``batteria`` are one word), stop words and request words dropped. A comment
*is about* a phrase when it holds its lemmas (a two-word phrase: next to each
other). A theme needs at least :data:`MIN_PEOPLE` distinct people (isso.py
says how people are told apart).

Near-duplicates within a language: phrases about mostly the same comments
(Jaccard index of their comments at least :data:`SAME`) are one theme, named
by the phrase with the most people. Across languages: a theme is linked to
the other language's theme that the bilingual glossary (content/glossary.toml)
pairs with one of its phrases.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import simplemma
import yake

from piazza.report import ReportError
from piazza.report.asking import REQUEST_PHRASES, plain
from piazza.report.model import Comment

CANDIDATES = 40
MIN_PEOPLE = 2
SAME = 0.5
QUOTES = 2
# Words of asking itself, and of politeness: never a theme.
ASKING_WORDS = {
    "it": {"potere", "volere", "aggiungere", "fare", "grazie", "ciao", "bello",
           "utile", "piacere", "chiedere", "sapere", "favore", "sarebbe", "essere",
           "avere", "quando", "arrivare", "servire", "mancare", "cosa", "modo"},
    "en": {"could", "would", "can", "will", "please", "add", "thanks", "thank",
           "like", "wish", "nice", "great", "plan", "chance", "request", "make",
           "get", "know", "thing", "way", "be", "have", "do", "want", "need",
           "should", "hi", "hello"},
}  # fmt: skip
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


@dataclass(frozen=True)
class Theme:
    """A recurring request in one language."""

    lang: str
    label: str  # the phrase as people wrote it
    phrases: tuple[str, ...]  # every phrase grouped in it (lemmas)
    people: int
    comments: tuple[Comment, ...]  # newest first
    previous_people: int
    quotes: tuple[Comment, ...]
    translation: tuple[str, int] | None = None  # the other language's label, people

    @property
    def trend(self) -> int:
        return self.people - self.previous_people


@dataclass(frozen=True)
class Glossary:
    """Pairs of words (lemmatised) that name one thing in it and en."""

    pairs: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = field(default=())


@cache
def _stopwords(lang: str) -> frozenset[str]:
    folder = Path(yake.__file__).parent / "core" / "StopwordsList"
    try:
        words = (folder / f"stopwords_{lang}.txt").read_text(encoding="utf-8").split()
    except OSError:
        words = []
    request_words = {w for p in REQUEST_PHRASES for w in p.split()}
    return frozenset(w.casefold() for w in words) | request_words


@cache
def _lemma(word: str, lang: str) -> str:
    return simplemma.lemmatize(word, lang=lang).casefold()


def lemmas(text: str, lang: str) -> tuple[str, ...]:
    """The text's content words as lemmas, in order (stop and asking words out)."""
    stop = _stopwords(lang)
    asking = ASKING_WORDS.get(lang, set())
    found = []
    for match in _WORD.finditer(text):
        word = match.group().casefold().replace("’", "'")
        if len(word) < 3 or word in stop:
            continue
        lemma = _lemma(word, lang)
        if lemma in stop or lemma in asking or word in asking:
            continue
        found.append(lemma)
    return tuple(found)


def read_glossary(path: Path) -> Glossary:
    """content/glossary.toml: ``[[term]]`` tables with ``it`` and ``en``."""
    if not path.is_file():
        return Glossary()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ReportError(f"{path}: not a glossary ({exc}); fix or remove it") from None
    pairs = []
    for index, term in enumerate(data.get("term") or ()):
        if not isinstance(term, Mapping) or not all(
            isinstance(term.get(k), str) and term[k].strip() for k in ("it", "en")
        ):
            raise ReportError(
                f"{path}: term {index + 1} needs both an 'it' and an 'en' word"
            )
        pairs.append((lemmas(term["it"], "it"), lemmas(term["en"], "en")))
    return Glossary(tuple((i, e) for i, e in pairs if i and e))


def _about(words: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    if len(phrase) == 1:
        return phrase[0] in words
    size = len(phrase)
    return any(words[i : i + size] == phrase for i in range(len(words) - size + 1))


def _people(comments: Iterable[Comment]) -> int:
    return len({c.person for c in comments})


def candidates(texts: Sequence[str], lang: str) -> list[tuple[str, tuple[str, ...]]]:
    """YAKE's phrases for these texts read as one: (as written, lemmas)."""
    if not texts:
        return []
    extractor = yake.KeywordExtractor(lan=lang, n=2, top=CANDIDATES, dedup_lim=0.95)
    document = "\n".join(t.rstrip(" .!?") + "." for t in texts)
    found, seen = [], set()
    for phrase, _score in extractor.extract_keywords(document):
        key = lemmas(phrase, lang)
        if key and len(key) == len(phrase.split()) and key not in seen:
            seen.add(key)
            found.append((phrase.casefold(), key))
    return found


def themes(
    current: Sequence[Comment],
    previous: Sequence[Comment],
    lang: str,
    *,
    extract: Callable[[Sequence[str], str], list] = candidates,
) -> list[Theme]:
    """The language's themes in the period's asking comments, most people first."""
    current = [c for c in current if c.lang == lang]
    words = {c.id: lemmas(plain(c.text), lang) for c in current}
    before = [c for c in previous if c.lang == lang]
    before_words = {c.id: lemmas(plain(c.text), lang) for c in before}
    scored = []
    for label, key in extract([plain(c.text) for c in current], lang):
        about = [c for c in current if _about(words[c.id], key)]
        if _people(about) >= MIN_PEOPLE:
            scored.append((label, key, about))
    scored.sort(key=lambda item: (-_people(item[2]), -len(item[1]), item[0]))
    groups: list[tuple[str, list[tuple[str, ...]], dict[int, Comment]]] = []
    for label, key, about in scored:
        ids = {c.id for c in about}
        for _label, keys, members in groups:
            if len(ids & members.keys()) / len(ids | members.keys()) >= SAME:
                keys.append(key)
                members.update((c.id, c) for c in about)
                break
        else:
            groups.append((label, [key], {c.id: c for c in about}))
    result = []
    for label, keys, members in groups:
        comments = sorted(members.values(), key=lambda c: c.created, reverse=True)
        earlier = [
            c for c in before if any(_about(before_words[c.id], k) for k in keys)
        ]
        quotes = sorted(comments, key=lambda c: (-c.likes, -c.created.timestamp()))
        result.append(
            Theme(
                lang=lang,
                label=label,
                phrases=tuple(" ".join(k) for k in keys),
                people=_people(comments),
                comments=tuple(comments),
                previous_people=_people(earlier),
                quotes=tuple(quotes[:QUOTES]),
            )
        )
    result.sort(key=lambda t: (-t.people, t.label))
    return result


def link_languages(
    by_lang: Mapping[str, list[Theme]], glossary: Glossary
) -> dict[str, list[Theme]]:
    """Each it/en theme with the other language's theme the glossary pairs it with."""
    from dataclasses import replace  # noqa: PLC0415

    italian, english = by_lang.get("it", []), by_lang.get("en", [])

    def find(themes_: list[Theme], words: tuple[str, ...]) -> Theme | None:
        phrase = " ".join(words)
        return next((t for t in themes_ if phrase in t.phrases), None)

    links: dict[int, Theme] = {}
    for it_words, en_words in glossary.pairs:
        it_theme, en_theme = find(italian, it_words), find(english, en_words)
        if it_theme and en_theme:
            links[id(it_theme)] = en_theme
            links[id(en_theme)] = it_theme
    return {
        lang: [
            replace(t, translation=(links[id(t)].label, links[id(t)].people))
            if id(t) in links
            else t
            for t in found
        ]
        for lang, found in by_lang.items()
    }
