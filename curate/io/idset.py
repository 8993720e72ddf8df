"""The set of ids read so far, in 16 bytes per id, for the reader's duplicate-id check.

A Python set of hashes costs about 83 bytes per id (250 MB more at 4M documents than at 1M).
Here each id is a 128-bit hash held in sorted NumPy runs: ids are spread over ``BUCKETS``
buckets by their top bits, and each bucket keeps runs of sizes that at least double from the
newest to the oldest (a binary counter), so an id is looked up with one binary search per run,
and merging two runs, the only temporary memory, touches one bucket's share of the ids.

>>> ids = IdSet()
>>> ids.add(pa.array(["a", "b", "a"])).tolist()
[False, False, True]
>>> ids.add(pa.array(["c", "b"])).tolist(), len(ids)
([False, True], 3)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

U64 = npt.NDArray[np.uint64]
BOOL = npt.NDArray[np.bool_]
#: Buckets by the top bits of the hash: a merge's temporary memory is 1/BUCKETS of the set.
BUCKET_BITS = 4
BUCKETS = 1 << BUCKET_BITS


def hash128(ids: pa.Array | pa.ChunkedArray) -> tuple[U64, U64]:
    """Two independent 64-bit hashes of each id (Polars' hash with two seeds)."""
    # Polars loads on the first hash: importing this module (the run planner does, for
    # `curate check` too) should not cost Polars' start-up.
    import polars as pl

    series = pl.Series("id", ids)
    return series.hash(seed=0).to_numpy(), series.hash(seed=1).to_numpy()


def _first_occurrences(h1: U64, h2: U64) -> BOOL:
    """True at the first occurrence of each (h1, h2) pair within one batch."""
    order = np.lexsort((h2, h1))
    s1, s2 = h1[order], h2[order]
    repeat = np.zeros(len(order), dtype=bool)
    repeat[1:] = (s1[1:] == s1[:-1]) & (s2[1:] == s2[:-1])
    first = np.ones(len(order), dtype=bool)
    # lexsort is stable, so within equal pairs the earliest row comes first.
    first[order[repeat]] = False
    return first


class _Runs:
    """One bucket: sorted runs of (h1, h2), newest last, each at most half its predecessor."""

    def __init__(self) -> None:
        self.runs: list[tuple[U64, U64]] = []

    def contains(self, h1: U64, h2: U64) -> BOOL:
        found = np.zeros(len(h1), dtype=bool)
        for r1, r2 in self.runs:
            lo = np.searchsorted(r1, h1, side="left")
            hi = np.searchsorted(r1, h1, side="right")
            one = hi - lo == 1
            found[one] |= r2[lo[one]] == h2[one]
            # Two ids sharing h1 but not h2: one chance in 2**64 per pair, checked one by one.
            for i in np.flatnonzero(hi - lo > 1).tolist():
                found[i] |= bool((r2[lo[i] : hi[i]] == h2[i]).any())
        return found

    def insert(self, h1: U64, h2: U64) -> None:
        order = np.argsort(h1, kind="stable")
        self.runs.append((h1[order], h2[order]))
        while len(self.runs) > 1 and len(self.runs[-2][0]) <= 2 * len(self.runs[-1][0]):
            (a1, a2), (b1, b2) = self.runs.pop(), self.runs.pop()
            m1 = np.concatenate([b1, a1])
            order = np.argsort(m1, kind="stable")
            self.runs.append((m1[order], np.concatenate([b2, a2])[order]))


class IdSet:
    """Ids seen so far; :meth:`add` says which of a batch's ids were seen before."""

    def __init__(self) -> None:
        self._buckets = [_Runs() for _ in range(BUCKETS)]
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def contains(self, ids: pa.Array | pa.ChunkedArray) -> BOOL:
        """True where an id is in the set; the set is left as it is.

        >>> ids = IdSet()
        >>> _ = ids.add(pa.array(["a"]))
        >>> ids.contains(pa.array(["b", "a"])).tolist()
        [False, True]
        """
        h1, h2 = hash128(ids)
        found = np.zeros(len(h1), dtype=bool)
        bucket = (h1 >> np.uint64(64 - BUCKET_BITS)).astype(np.int64)
        for b in np.unique(bucket).tolist():
            rows = np.flatnonzero(bucket == b)
            found[rows] = self._buckets[b].contains(h1[rows], h2[rows])
        return found

    def add(self, ids: pa.Array | pa.ChunkedArray) -> BOOL:
        """Add ``ids``; True where an id was already in the set or earlier in ``ids``."""
        h1, h2 = hash128(ids)
        dup = ~_first_occurrences(h1, h2)
        bucket = (h1 >> np.uint64(64 - BUCKET_BITS)).astype(np.int64)
        for b in np.unique(bucket[~dup]).tolist():
            rows = np.flatnonzero((bucket == b) & ~dup)
            runs = self._buckets[b]
            seen = runs.contains(h1[rows], h2[rows])
            dup[rows[seen]] = True
            new = rows[~seen]
            if len(new):
                runs.insert(h1[new], h2[new])
                self._count += len(new)
        return dup
