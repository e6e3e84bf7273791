"""Geometry of the server-rendered SVG bar chart; the template only draws
what is computed here, so the picture needs no script and no library."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    label: str
    text: str
    y: float
    width: float
    highlight: bool = False


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    width: int
    height: int
    label_w: int
    bar_h: int
    row_h: int
    plot_w: int

    @property
    def text_x_offset(self) -> int:
        return 6


def bar_chart(items: list[tuple[str, float, str, bool]], width: int = 380,
              label_w: int = 96, text_w: int = 128, row_h: int = 24) -> BarChart:
    """``items``: (label, value, text shown beside the bar, highlighted)."""
    plot_w = width - label_w - text_w
    top = max((value for _, value, _, _ in items), default=0) or 1
    bars = [
        Bar(label=label, text=text, y=i * row_h,
            width=max(0.0, value / top * plot_w) if value else 0.0, highlight=highlight)
        for i, (label, value, text, highlight) in enumerate(items)
    ]
    return BarChart(bars=bars, width=width, height=len(items) * row_h, label_w=label_w,
                    bar_h=row_h - 8, row_h=row_h, plot_w=plot_w)
