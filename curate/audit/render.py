"""Rendering the report's blocks as Markdown (charts as sibling PNG files) and as one
self-contained HTML file (charts inlined as base64 PNG, no external asset).

Every text reaching Markdown is escaped outside code spans: values from the data (languages,
group names, words, stage names) cannot inject HTML or Markdown links into ``audit.md``. In
HTML each section is a collapsible ``<details>`` element, listed in a table of contents at the
top; folded lines (``("fold", summary, text)`` blocks) are closed ``<details>`` elements.

>>> print(markdown([("h2", "Title"), ("table", ["a", "b"], [["<i>1</i>", "x|y"]])]))
## Title
<BLANKLINE>
| a | b |
| --- | --- |
| &lt;i&gt;1&lt;/i&gt; | x\\|y |
<BLANKLINE>
>>> print(md_text("`<kept>` and <b>*x*</b> [link](u)"))
`<kept>` and &lt;b&gt;\\*x\\*&lt;/b&gt; \\[link\\](u)
"""

from __future__ import annotations

import base64
import html
import re
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
summary h2 { display: inline; } details.fold summary { color: #555; cursor: pointer; }
ul.contents { columns: 2; font-size: .9em; list-style: none; padding-left: 0; }
"""


_CODE = re.compile(r"(`[^`\n]*`)")
_MD_SPECIAL = re.compile(r"([\\*_\[\]#!])")


def _escape_plain(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # Underscores inside words are left alone (they never start emphasis in CommonMark).
    return _MD_SPECIAL.sub(lambda m: "\\" + m.group(1), text).replace("\\_", "_")


def md_text(text: Any) -> str:
    """Markdown-escaped text; code spans (between backticks) are kept as they are, since
    Markdown shows their content literally."""
    parts = _CODE.split(str(text))
    return "".join(p if i % 2 else _escape_plain(p) for i, p in enumerate(parts))


def _md_cell(text: Any) -> str:
    return md_text(text).replace("|", "\\|").replace("\n", " ")


def markdown(blocks: list[Block]) -> str:
    """Markdown text of the blocks."""
    parts: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind in ("h1", "h2", "h3"):
            parts.append(f"{'#' * int(kind[1])} {md_text(block[1])}")
        elif kind == "p":
            parts.append(md_text(block[1]))
        elif kind == "fold":
            parts.append(f"{md_text(block[1])}: {md_text(block[2])}.")
        elif kind == "ul":
            parts.append("\n".join(f"- {md_text(item)}" for item in block[1]))
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
            parts.append(f"![{md_text(block[2])}]({block[1]})")
    return "\n\n".join(parts) + "\n"


def _anchor(text: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"
    name, i = base, 2
    while name in used:
        name, i = f"{base}-{i}", i + 1
    used.add(name)
    return name


def html_page(blocks: list[Block], charts: dict[str, tuple[str, bytes]], *, title: str) -> str:
    """One HTML document with every chart embedded; it loads nothing from anywhere."""
    body: list[str] = []
    contents: list[str] = []
    used: set[str] = set()
    esc = html.escape
    method_next = False
    in_section = False
    for block in blocks:
        kind = block[0]
        if kind == "h2":
            if in_section:
                body.append("</details>")
            anchor = _anchor(str(block[1]), used)
            contents.append(f'<li><a href="#{anchor}">{esc(str(block[1]))}</a></li>')
            body.append(
                f'<details open id="{anchor}"><summary><h2>{esc(str(block[1]))}</h2></summary>'
            )
            in_section, method_next = True, True
            continue
        if kind in ("h1", "h3"):
            body.append(f"<{kind}>{esc(str(block[1]))}</{kind}>")
            method_next = False
            if kind == "h1":
                body.append("<!--contents-->")
            continue
        if kind == "p":
            css = ' class="method"' if method_next else ""
            body.append(f"<p{css}>{esc(str(block[1]))}</p>")
        elif kind == "fold":
            body.append(
                f'<details class="fold"><summary>{esc(str(block[1]))}</summary>'
                f"<p>{esc(str(block[2]))}</p></details>"
            )
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
    if in_section:
        body.append("</details>")
    toc = f'<nav><ul class="contents">{"".join(contents)}</ul></nav>'
    text = "\n".join(body).replace("<!--contents-->", toc, 1)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{esc(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        + text
        + "\n</body>\n</html>\n"
    )
