"""Number formatting and the block type shared by the report's Markdown and HTML.

A block is a tuple: ``("h1"|"h2"|"h3"|"p", text)``, ``("ul", [items])``,
``("table", headers, rows)`` or ``("img", file_name, caption)``.

>>> fmt_pct(0.1234), fmt_pct(None), fmt_ratio(3.14159), fmt_ci([0.1, 0.2], pct=True)
('12.3%', '–', '3.14', '10.0% to 20.0%')
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Block = tuple[Any, ...]
#: Table rows beyond this are cut (the JSON has them all).
MAX_ROWS = 60
PAIR_CHARTS = 12


def fmt_pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def fmt_ratio(x: float | None) -> str:
    return "–" if x is None else f"{x:.3g}"


def fmt_ci(ci: list[float] | None, *, pct: bool = False) -> str:
    if not ci:
        return "–"
    f: Callable[[float | None], str] = fmt_pct if pct else fmt_ratio
    # An upper limit stored as null is infinite (audit.json is strict JSON).
    hi = "inf" if ci[1] is None and ci[0] is not None else f(ci[1])
    return f"{f(ci[0])} to {hi}"


def fmt_n(x: int | float | None) -> str:
    return "–" if x is None else f"{x:,}" if isinstance(x, int) else f"{x:,.2f}"
