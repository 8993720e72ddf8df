"""What keeps ``curate serve`` safe: the path guard and the only places HTML is built by hand.

Every folder a page reads is named by a key ``ROOT/RELATIVE`` (the index of a served root, then
a path under it) and goes through :func:`resolve_key`, which refuses absolute paths, ``..`` and
symlinks that lead out of the root. Document text reaches HTML either through Jinja2's
autoescape or through the helpers here, which escape before they add any markup.

>>> str(diff_words("the cat sat", "the dog sat")[0])
'the <del>cat</del> sat'
>>> str(render_markdown("<script>x</script> **b**"))
'<p>&lt;script&gt;x&lt;/script&gt; <strong>b</strong></p>\\n'
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from markdown_it import MarkdownIt
from markupsafe import Markup, escape
from starlette.exceptions import HTTPException

_WORDS = re.compile(r"\S+|\s+")


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def run_key(roots: Sequence[Path], folder: Path) -> str:
    """The key naming ``folder`` in URLs: the index of its root, then its path under it.

    >>> run_key([Path("/srv/runs")], Path("/srv/runs/a/b"))
    '0/a/b'
    >>> run_key([Path("/srv/runs")], Path("/srv/runs"))
    '0'
    """
    for i, root in enumerate(roots):
        if folder == root or root in folder.parents:
            rel = folder.relative_to(root).as_posix()
            return str(i) if rel == "." else f"{i}/{rel}"
    raise ValueError(f"{folder} is not under a served root")


def resolve_key(roots: Sequence[Path], key: str) -> Path:
    """The folder a key names, or an HTTP error: 404 for an unknown root, 403 for a way out.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp()).resolve()
    >>> resolve_key([root], "0") == root
    True
    >>> resolve_key([root], "0/../etc")
    Traceback (most recent call last):
    ...
    starlette.exceptions.HTTPException: 403: refused: a path outside the served folders
    """
    head, _, rest = key.partition("/")
    if not head.isdigit() or int(head) >= len(roots):
        raise HTTPException(404, "no such served folder")
    root = roots[int(head)]
    rel = PurePosixPath(rest)
    if rest.startswith("/") or "\\" in rest or rel.is_absolute() or ".." in rel.parts:
        raise HTTPException(403, "refused: a path outside the served folders")
    folder = (root / rel).resolve()
    if folder != root and root not in folder.parents:
        raise HTTPException(403, "refused: a path outside the served folders")
    if not folder.is_dir():
        raise HTTPException(404, "no such folder")
    return folder


def diff_words(left: str, right: str) -> tuple[Markup, Markup]:
    """Both texts as HTML, words only in ``left`` in ``<del>``, only in ``right`` in ``<ins>``.

    Each word is escaped before it is wrapped, so document HTML stays text.

    >>> [str(m) for m in diff_words("a <b>", "a <i>")]
    ['a <del>&lt;b&gt;</del>', 'a <ins>&lt;i&gt;</ins>']
    """
    a, b = _WORDS.findall(left), _WORDS.findall(right)
    out_a: list[str] = []
    out_b: list[str] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        old, new = escape("".join(a[i1:i2])), escape("".join(b[j1:j2]))
        if op == "equal":
            out_a.append(old)
            out_b.append(new)
            continue
        if old:
            out_a.append(f"<del>{old}</del>")
        if new:
            out_b.append(f"<ins>{new}</ins>")
    return Markup("".join(out_a)), Markup("".join(out_b))


_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def render_markdown(text: str) -> Markup:
    """Markdown as HTML with raw HTML in the source shown as text (the card is data too)."""
    return Markup(_MARKDOWN.render(text))
