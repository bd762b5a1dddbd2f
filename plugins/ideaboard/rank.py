"""Pure logic: the board's orders and groups, and the decisions made.

Every order is total (ties broken by the idea's number, older first), so a
board built twice from the same data is the same page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ideaboard.model import BoardIdea, Decision


def by_support(ideas: Iterable[BoardIdea]) -> list[BoardIdea]:
    """Most supported first; then most confirmed; then the older idea."""
    return sorted(ideas, key=lambda i: (-i.supporters, -i.confirmed, i.number))


def trending(ideas: Iterable[BoardIdea]) -> list[BoardIdea]:
    """Most support received lately first (the snapshot's ``recent``: the
    last ``recent_days`` days); ideas with none left out; ties by support."""
    return sorted(
        (i for i in ideas if i.recent > 0),
        key=lambda i: (-i.recent, -i.supporters, i.number),
    )


def newest(ideas: Iterable[BoardIdea]) -> list[BoardIdea]:
    """Newest first (the date the idea was proposed, as git has it)."""
    return sorted(ideas, key=lambda i: (i.date, i.number), reverse=True)


def group_by(
    ideas: Iterable[BoardIdea], key: str, order: Sequence[str] = ()
) -> dict[str, list[BoardIdea]]:
    """Ideas by ``category`` or ``status``, each group by support; groups in
    ``order`` first (empty ones kept, so a roadmap shows every column), then
    the others by name."""
    groups: dict[str, list[BoardIdea]] = {name: [] for name in order}
    for idea in ideas:
        groups.setdefault(getattr(idea, key), []).append(idea)
    named = [*order, *sorted(set(groups) - set(order))]
    return {name: by_support(groups[name]) for name in named}


def decisions(ideas: Iterable[BoardIdea]) -> list[Decision]:
    """Every status change of every idea, newest first (the feed, the home
    page's block)."""
    found = [
        Decision(idea=idea, change=change, index=index)
        for idea in ideas
        for index, change in enumerate(idea.history)
    ]
    return sorted(
        found, key=lambda d: (d.change.date, d.idea.number, d.index), reverse=True
    )
