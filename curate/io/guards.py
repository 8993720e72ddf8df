"""Bounds checked on raw input before a parser sees it: nesting depth, Unicode, text length.

A JSON line nested thousands of levels deep makes pyarrow's parser use gigabytes and Parquet
refuse the output, so depth is measured on the bytes first (vectorised, with an exact check only
for lines that could be too deep). A lone surrogate escape (``"\\ud800"``) decodes in Python but
cannot be written as UTF-8. Documents longer than ``input.max_chars`` go to the ledger.

>>> line_depths(b'{"a": [1, [2]]}\\n{"b": "' + b"[" * 30 + b'"}\\n')
[3, 1]
>>> has_lone_surrogate({"text": "ok", "x": ["\\ud800"]}), has_lone_surrogate({"text": "é"})
(True, False)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.io.arrays import int64_scalar

#: Deepest accepted nesting of brackets in a JSON line, the record's own braces included
#: (Parquet refuses schemas deeper than 100 levels; a list takes up to three).
MAX_DEPTH = 20
#: Default of ``input.max_chars``: longer documents go to the ledger with reason ``too-long``.
DEFAULT_MAX_CHARS = 10_000_000

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def _exact_depth(line: bytes) -> int:
    """Bracket depth of one line with its JSON strings blanked out."""
    bare = np.frombuffer(_STRING.sub(b'""', line), np.uint8)
    step = ((bare == 91) | (bare == 123)).astype(np.int32) - ((bare == 93) | (bare == 125))
    return int(np.cumsum(step).max(initial=0))


def line_depths(data: bytes) -> list[int]:
    """The nesting depth of each newline-terminated line of ``data``.

    A line's count of opening brackets bounds its depth; only lines above :data:`MAX_DEPTH`
    by that bound are measured exactly (strings removed), the others report the bound.
    """
    arr = np.frombuffer(data, np.uint8)
    ends = np.flatnonzero(arr == 10)
    if not len(ends):
        return []
    starts = np.concatenate([[0], ends[:-1] + 1])
    opens = ((arr == 91) | (arr == 123)).astype(np.int32)
    # Each segment runs from a line's start to the next one's, its newline included.
    bound = np.add.reduceat(opens, starts)
    out = bound.tolist()
    for i in np.flatnonzero(bound > MAX_DEPTH).tolist():
        out[i] = _exact_depth(data[starts[i] : ends[i]])
    return [int(d) for d in out]


_NOT_OPENING = bytes(b for b in range(256) if b not in b"[{\n")
_MANY_OPENINGS = re.compile(rb"[^\n]{%d}" % (MAX_DEPTH + 1))


def too_deep(data: bytes) -> bool:
    """Whether any line of ``data`` nests deeper than :data:`MAX_DEPTH`.

    Most blocks have no line with that many opening brackets at all, which one ``translate``
    (keeping brackets and newlines) and a search of what is left tell quickly.
    """
    if _MANY_OPENINGS.search(data.translate(None, _NOT_OPENING)) is None:
        return False
    return any(d > MAX_DEPTH for d in line_depths(data))


def has_lone_surrogate(value: object) -> bool:
    """Whether a decoded JSON value holds a string that is not valid Unicode (no recursion)."""
    todo = [value]
    while todo:
        cur = todo.pop()
        if isinstance(cur, str):
            try:
                cur.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(cur, dict):
            todo.extend(cur.keys())
            todo.extend(cur.values())
        elif isinstance(cur, list):
            todo.extend(cur)
    return False


def first_failing(count: int, works: Callable[[int], bool]) -> int:
    """The smallest ``n`` in 1..count with ``works(n)`` false, when ``works(count)`` is false.

    ``works(n)`` says whether the first ``n`` records convert; found by halving, so a bad record
    in a chunk is located with about log2(count) conversions.
    """
    lo, hi = 0, count
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if works(mid):
            lo = mid
        else:
            hi = mid
    return hi


def long_rows(text: pa.Array | pa.ChunkedArray, max_chars: int | None) -> Sequence[int]:
    """Positions of texts longer than ``max_chars`` characters."""
    if max_chars is None or len(text) == 0:
        return []
    # A null text's length is null, which indices_nonzero skips. The bound is a buffer-built
    # scalar: a Python int here would make pyarrow import pandas (see curate.io.arrays).
    longer = pc.greater(pc.utf8_length(text), int64_scalar(max_chars))
    return [int(i) for i in pc.indices_nonzero(longer).to_pylist()]
