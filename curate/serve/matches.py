"""A page of filtered rows and the number of matches, from one scan, the count kept per filter.

A browser page shows both the rows of its page and how many rows match. Asked as two queries,
a filter over the text column reads the whole column twice. Here, the first page of a filter
collects both from one scan (:func:`polars.collect_all` shares the scan and the filter between
the two), and the count is kept, so the next pages of the same filter only read up to their
slice. Without a filter the two queries stay apart: the count then comes from the Parquet
metadata and the slice stops early, which one shared scan would not allow (it read all 1M texts
of the benchmark's output: 1.5 s instead of 0.02 s).

>>> rows = pl.LazyFrame({"x": list(range(10))})
>>> page, total, cached = page_and_total(rows.filter(pl.col("x") > 2), [pl.col("x")],
...     key=("doc", 1), offset=2, size=3, filtered=True)
>>> page["x"].to_list(), total, cached
([5, 6, 7], 7, False)
>>> page_and_total(rows, [pl.col("x")], key=("doc", 1), offset=6, size=3, filtered=True)[1:]
(7, True)
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Sequence
from pathlib import Path
from threading import Lock

import polars as pl

#: Filters whose counts are kept; a browsing session uses a few, so this bounds memory only.
MAX_COUNTS = 512

_counts: OrderedDict[Hashable, int] = OrderedDict()
_lock = Lock()


def files_key(files: Sequence[Path]) -> tuple[tuple[str, int, int], ...]:
    """Path, size and modification time of each file: a rewritten output gets new counts."""
    out = []
    for f in files:
        st = f.stat()
        out.append((str(f), st.st_size, st.st_mtime_ns))
    return tuple(out)


def _cached(key: Hashable) -> int | None:
    with _lock:
        if key in _counts:
            _counts.move_to_end(key)
            return _counts[key]
    return None


def _keep(key: Hashable, total: int) -> None:
    with _lock:
        _counts[key] = total
        _counts.move_to_end(key)
        while len(_counts) > MAX_COUNTS:
            _counts.popitem(last=False)


def page_and_total(
    matching: pl.LazyFrame,
    columns: Sequence[pl.Expr | str],
    *,
    key: Hashable,
    offset: int,
    size: int,
    filtered: bool,
) -> tuple[pl.DataFrame, int, bool]:
    """Rows ``offset`` to ``offset + size`` of ``matching`` projected to ``columns``, the number
    of matching rows, and whether that number was kept from an earlier page of the same ``key``.

    ``key`` must name the files and the filter (not the page): two filters with one key would
    share a count.
    """
    sliced = matching.select(*columns).slice(offset, size)
    total = _cached(key)
    if total is not None:
        return sliced.collect(engine="streaming"), total, True
    count = matching.select(pl.len())
    if filtered:
        counted, page = pl.collect_all([count, sliced], engine="streaming")
    else:
        counted = count.collect(engine="streaming")
        page = sliced.collect(engine="streaming")
    total = int(counted.item())
    _keep(key, total)
    return page, total, False
