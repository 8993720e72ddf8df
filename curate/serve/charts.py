"""Charts as inline SVG drawn on the server: no JavaScript, no chart library, labels escaped.

>>> svg = str(bars([("<b>", 3.0), ("b", 1.0)], title="t"))
>>> "&lt;b&gt;" in svg and "<b>" not in svg, svg.count("<rect")
(True, 2)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from markupsafe import Markup, escape

Unit = Literal["count", "share", "seconds", "ratio"]

_WIDTH = 720
_LABEL = 230
_ROW = 22


def fmt(value: float, unit: Unit) -> str:
    """A value as the chart labels it.

    >>> fmt(0.1234, "share"), fmt(1234, "count"), fmt(2.5, "seconds"), fmt(1.234, "ratio")
    ('12.3%', '1,234', '2.50 s', '1.23')
    """
    if unit == "share":
        return f"{value:.1%}"
    if unit == "seconds":
        return f"{value:.2f} s"
    if unit == "ratio":
        return f"{value:.2f}"
    return f"{value:,.0f}"


def bars(
    rows: Sequence[tuple[str, float]],
    *,
    title: str,
    unit: Unit = "count",
    reference: float | None = None,
) -> Markup:
    """A horizontal bar chart of ``(label, value)`` rows; ``reference`` draws a dashed line."""
    if not rows:
        return Markup("")
    top = max([v for _, v in rows] + ([reference] if reference is not None else []))
    scale = (_WIDTH - _LABEL - 90) / top if top > 0 else 0.0
    height = _ROW * len(rows) + 26
    parts = [
        f'<figure class="chart"><figcaption>{escape(title)}</figcaption>',
        f'<svg class="chart" role="img" viewBox="0 0 {_WIDTH} {height}" width="{_WIDTH}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value) in enumerate(rows):
        y = 4 + i * _ROW
        width = max(value * scale, 0.0)
        short = label if len(label) <= 34 else label[:33] + "…"
        parts.append(
            f'<text x="{_LABEL - 6}" y="{y + 14}" text-anchor="end">{escape(short)}</text>'
            f'<rect x="{_LABEL}" y="{y + 3}" width="{width:.1f}" height="{_ROW - 6}">'
            f"<title>{escape(label)}: {escape(fmt(value, unit))}</title></rect>"
            f'<text x="{_LABEL + width + 4:.1f}" y="{y + 14}">{escape(fmt(value, unit))}</text>'
        )
    if reference is not None:
        x = _LABEL + reference * scale
        parts.append(
            f'<line class="reference" x1="{x:.1f}" x2="{x:.1f}" y1="2" y2="{height - 20}">'
            f"<title>overall: {escape(fmt(reference, unit))}</title></line>"
        )
    parts.append("</svg></figure>")
    return Markup("".join(parts))
