"""Pure logic: git's ideas merged with the service's numbers.

What wins: git has the text (title, description, as the editors edited them)
and the decision (Status, Status-Date, Answer-It/En, Duplicate-Of,
Company-Pick): a decision is public once it is committed. The snapshot has
the numbers (supporters, confirmed, recent support) and the history of
changes. The history shown is the service's up to git's status (a change the
service made after it, not yet committed, waits for its commit); when the
service's history does not reach git's status (the service has not seen the
decision, or is unknown), git's decision ends it. An idea in git the snapshot
does not know shows 0 supporters and its git status; an idea only in the
snapshot is not on the board (it is not in git).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import tzinfo

from ideaboard.model import BoardIdea, Change, IdeaNumbers, IdeaText, Snapshot


def group_texts(
    texts: Iterable[IdeaText], default_lang: str
) -> tuple[dict[int, dict[str, IdeaText]], list[str]]:
    """Each idea's language versions; a second file for the same idea and
    language is left out, with a problem naming both files."""
    grouped: dict[int, dict[str, IdeaText]] = {}
    problems = []
    for text in sorted(texts, key=lambda t: t.source):
        versions = grouped.setdefault(text.number, {})
        if text.lang in versions:
            problems.append(
                f"{text.source}: Idea-Id {text.number} in {text.lang} is already "
                f"{versions[text.lang].source}; this file is left out (give it "
                "another Lang, or remove one)"
            )
            continue
        versions[text.lang] = text
    return grouped, problems


def _original(versions: dict[str, IdeaText], numbers: IdeaNumbers | None) -> str:
    if numbers is not None and numbers.lang in versions:
        return numbers.lang
    return min(versions.values(), key=lambda t: (t.date, t.source)).lang


def history(decision: IdeaText, numbers: IdeaNumbers | None) -> tuple[Change, ...]:
    """The service's changes up to git's status, git's answer on the last."""
    known = list(numbers.history) if numbers else []
    last = max(
        (i for i, change in enumerate(known) if change.status == decision.status),
        default=None,
    )
    date = decision.status_date or decision.date
    if last is None:
        return (
            *known,
            Change(decision.status, decision.answer_it, decision.answer_en, date),
        )
    shown = known[: last + 1]
    final = shown[-1]
    if decision.answer_it or decision.answer_en:
        final = Change(
            final.status,
            decision.answer_it or final.answer_it,
            decision.answer_en or final.answer_en,
            final.date,
        )
    return (*shown[:-1], final)


def _local(changes: tuple[Change, ...], tz: tzinfo | None) -> tuple[Change, ...]:
    if tz is None:
        return changes
    return tuple(
        Change(c.status, c.answer_it, c.answer_en, c.date.astimezone(tz))
        for c in changes
    )


def merge(
    texts: dict[int, dict[str, IdeaText]],
    snapshot: Snapshot,
    tz: tzinfo | None = None,
) -> list[BoardIdea]:
    """The board's ideas, by number; the service's dates (UTC) in ``tz``, the
    site's time zone, so a change is dated by the site's calendar."""
    numbers_by_id = snapshot.by_id()
    ideas = []
    for number, versions in sorted(texts.items()):
        numbers = numbers_by_id.get(number)
        original = _original(versions, numbers)
        decision = versions[original]
        ideas.append(
            BoardIdea(
                number=number,
                texts=dict(sorted(versions.items())),
                original_lang=original,
                category=decision.category or (numbers.category if numbers else ""),
                status=decision.status,
                date=decision.date,
                status_date=decision.status_date,
                supporters=numbers.supporters if numbers else 0,
                confirmed=numbers.confirmed if numbers else 0,
                recent=numbers.recent if numbers else 0,
                history=_local(history(decision, numbers), tz),
                duplicate_of=decision.duplicate_of,
                company_pick=any(v.company_pick for v in versions.values()),
                proposed_by=decision.proposed_by,
            )
        )
    return ideas
