"""Bar charts as plain geometry for an inline SVG (pure: no markup here).

The templates draw the bars (``<rect>`` with presentation attributes, no
style attribute, no script), so a chart reads offline, prints, and passes a
strict Content-Security-Policy. Used by the public page and the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # under the bar
    value: str  # above the bar


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    baseline: float


def bar_chart(
    values: Sequence[tuple[str, float | None, str]],
    *,
    width: int = 640,
    height: int = 200,
    top: float | None = None,
) -> Chart:
    """Bars for (label, value or None, text above); None or 0 draws no bar.
    ``top`` is the value of a full-height bar (default: the largest)."""
    peak = top or max((v for _label, v, _text in values if v), default=0) or 1
    inner = height - 40
    step = width / max(1, len(values))
    bars = []
    for index, (label, value, text) in enumerate(values):
        size = inner * (value or 0) / peak
        bars.append(
            Bar(index * step + step * 0.15, 20 + inner - size, step * 0.7, size,
                label, text)
        )  # fmt: skip
    return Chart(width, height, tuple(bars), 20 + inner)
