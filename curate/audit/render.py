"""Rendering the report's blocks as Markdown (charts as sibling PNG files) and as one
self-contained HTML file (charts inlined as base64 PNG, no external asset).

>>> print(markdown([("h2", "Title"), ("table", ["a", "b"], [["1", "x|y"]])]))
## Title
<BLANKLINE>
| a | b |
| --- | --- |
| 1 | x\\|y |
<BLANKLINE>
"""

from __future__ import annotations

import base64
import html
from typing import Any

from curate.audit.formatting import Block

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1100px; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; }
table { border-collapse: collapse; margin: 1em 0; font-size: .9em; }
th, td { border: 1px solid #ddd; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #f4f6f8; } tr:nth-child(even) td { background: #fafbfc; }
p.method { color: #555; font-size: .9em; }
figure { margin: 1em 0; } figcaption { color: #555; font-size: .85em; }
img { max-width: 100%; }
"""


def _md_cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(blocks: list[Block]) -> str:
    """Markdown text of the blocks."""
    parts: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind in ("h1", "h2", "h3"):
            parts.append(f"{'#' * int(kind[1])} {block[1]}")
        elif kind == "p":
            parts.append(str(block[1]))
        elif kind == "ul":
            parts.append("\n".join(f"- {item}" for item in block[1]))
        elif kind == "table":
            headers, rows = block[1], block[2]
            if not rows:
                continue
            lines = [
                "| " + " | ".join(_md_cell(h) for h in headers) + " |",
                "| " + " | ".join("---" for _ in headers) + " |",
            ]
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
            parts.append("\n".join(lines))
        elif kind == "img":
            parts.append(f"![{block[2]}]({block[1]})")
    return "\n\n".join(parts) + "\n"


def html_page(blocks: list[Block], charts: dict[str, tuple[str, bytes]], *, title: str) -> str:
    """One HTML document with every chart embedded; it loads nothing from anywhere."""
    body: list[str] = []
    esc = html.escape
    method_next = False
    for block in blocks:
        kind = block[0]
        if kind in ("h1", "h2", "h3"):
            body.append(f"<{kind}>{esc(str(block[1]))}</{kind}>")
            method_next = kind == "h2"
            continue
        if kind == "p":
            css = ' class="method"' if method_next else ""
            body.append(f"<p{css}>{esc(str(block[1]))}</p>")
        elif kind == "ul":
            items = "".join(f"<li>{esc(str(i))}</li>" for i in block[1])
            body.append(f"<ul>{items}</ul>")
        elif kind == "table" and block[2]:
            head = "".join(f"<th>{esc(str(h))}</th>" for h in block[1])
            rows = "".join(
                "<tr>" + "".join(f"<td>{esc(str(c))}</td>" for c in row) + "</tr>"
                for row in block[2]
            )
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif kind == "img" and block[1] in charts:
            caption, png = charts[block[1]]
            data = base64.b64encode(png).decode("ascii")
            body.append(
                f'<figure><img alt="{esc(caption)}" src="data:image/png;base64,{data}">'
                f"<figcaption>{esc(caption)}</figcaption></figure>"
            )
        method_next = False
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{esc(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
