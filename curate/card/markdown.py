"""Small Markdown builders so the card's sections read as data, not string soup.

Values that come from the input or the author (languages, identity groups, stage labels, card
fields) go through :func:`text` or :func:`code_span`, so none reaches the card as raw HTML.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

_BACKTICKS = re.compile(r"`+")


def text(value: object) -> str:
    """Plain text for Markdown: ``&``, ``<`` and ``>`` become entities, so HTML in a value is
    shown, never run.

    >>> text("<script>alert(1)</script> & co")
    '&lt;script&gt;alert(1)&lt;/script&gt; &amp; co'
    """
    return html.escape(str(value), quote=False)


def code_span(value: object) -> str:
    """Inline code that shows ``value`` literally: the fence is longer than any backtick run in
    it, and newlines are folded (a code span cannot hold HTML, so nothing else is escaped).

    >>> code_span("en"), code_span("a`b"), code_span("`x")
    ('`en`', '``a`b``', '`` `x ``')
    """
    body = " ".join(str(value).splitlines())
    longest = max((len(m) for m in _BACKTICKS.findall(body)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def cell(value: object) -> str:
    """A table cell: pipes escaped, newlines folded, floats shortened.

    >>> cell("a|b"), cell(0.123456), cell(None), cell(1234567)
    ('a\\\\|b', '0.1235', '', '1,234,567')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A GitHub-flavoured Markdown table.

    >>> print(table(["a", "b"], [[1, "x"]]))
    | a | b |
    | --- | --- |
    | 1 | x |
    """
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def code(text: str, lang: str = "") -> str:
    """A fenced code block whose fence is longer than any backtick run inside it."""
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}{lang}\n{text.rstrip()}\n{fence}"


def human_bytes(n: int) -> str:
    """
    >>> human_bytes(512), human_bytes(2048), human_bytes(5 * 1024**3)
    ('512 B', '2.0 KiB', '5.0 GiB')
    """
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def percent(part: float, whole: float) -> str:
    """
    >>> percent(1, 3), percent(0, 0)
    ('33.3%', '0.0%')
    """
    return f"{100.0 * part / whole:.1f}%" if whole else "0.0%"
