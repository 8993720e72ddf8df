"""From spilled band keys to clusters: candidate edges, verification and the kept document.

Band files are grouped with Polars one slice at a time (a band, and a range of keys if one
band's rows would not fit a task's memory), so memory follows the slice, not the corpus. Only
documents that share a band key with another produce edges; everything after this point holds
those documents only.

>>> frame = pl.DataFrame({"key": [7, 7, 7, 3], "doc": [4, 1, 9, 2]})
>>> later, earlier = group_edges(frame, pair_cap=0)
>>> sorted(zip(later.tolist(), earlier.tolist()))
[(4, 1), (9, 1)]
>>> later, earlier = group_edges(frame, pair_cap=8)
>>> sorted(zip(later.tolist(), earlier.tolist()))
[(4, 1), (9, 1), (9, 4)]
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from curate.core.parts import key_ranges
from curate.core.pool import Call
from curate.dedup.signatures import jaccard

log = logging.getLogger(__name__)

I64 = npt.NDArray[np.int64]
#: Bytes Polars needs per band row while grouping one band (key, doc and the hash table).
BAND_ROW_BYTES = 96


def group_edges(
    frame: pl.DataFrame, *, pair_cap: int, by: Sequence[str] = ("key",)
) -> tuple[I64, I64]:
    """Edges between documents of ``frame`` (``by`` columns, doc) that share a group.

    ``pair_cap == 0``: each document to the first document of its group (a star). Otherwise each
    document to every earlier one among the first ``pair_cap`` of its group, for verification.
    """
    by = list(by)
    dup = frame.filter(pl.struct(by).is_duplicated())
    if dup.height == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if pair_cap == 0:
        star = dup.with_columns(root=pl.col("doc").min().over(by)).filter(
            pl.col("doc") != pl.col("root")
        )
        return star["doc"].to_numpy().astype(np.int64), star["root"].to_numpy().astype(np.int64)
    ranked = dup.sort([*by, "doc"]).with_columns(rank=pl.int_range(pl.len()).over(by))
    anchors = ranked.filter(pl.col("rank") < pair_cap).select(*by, anchor="doc")
    pairs = ranked.join(anchors, on=by).filter(pl.col("anchor") < pl.col("doc"))
    return pairs["doc"].to_numpy().astype(np.int64), pairs["anchor"].to_numpy().astype(np.int64)


def candidate_edges(
    files: Sequence[Path],
    *,
    bands: int,
    docs: int,
    memory: int,
    pair_cap: int,
) -> Generator[list[Call], list[Any], tuple[I64, I64]]:
    """Distinct candidate edges ``(later doc, earlier doc)`` over all band files.

    The reduce side of a shuffle by band key: one task per band, or per key range of a band
    when a band's rows would not fit one task's ``memory``. The band files hold one row group
    per band, sorted by key, so each task reads only its own rows.
    """
    if not files:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    paths = [str(f) for f in files]
    found: list[tuple[I64, I64]] = yield [
        partial(_slice_edges, paths, band, lo, hi, pair_cap)
        for band in range(bands)
        for lo, hi in key_ranges(docs, BAND_ROW_BYTES, memory)
    ]
    u = np.concatenate([f[0] for f in found])
    v = np.concatenate([f[1] for f in found])
    if len(u) == 0:
        return u, v
    edges = pl.DataFrame({"u": u, "v": v}).unique().sort("u", "v")
    return edges["u"].to_numpy().astype(np.int64), edges["v"].to_numpy().astype(np.int64)


def _slice_edges(paths: list[str], band: int, lo: int, hi: int, pair_cap: int) -> tuple[I64, I64]:
    pred = pl.col("band") == band
    if lo > 0:
        pred &= pl.col("key") >= pl.lit(lo, dtype=pl.UInt64)
    if hi < 1 << 64:
        pred &= pl.col("key") < pl.lit(hi, dtype=pl.UInt64)
    frame = pl.scan_parquet(paths).filter(pred).select("key", "doc").collect()
    return group_edges(frame, pair_cap=pair_cap)


@dataclass
class SignatureTable:
    """Signatures, lengths and scores of a sorted set of documents (those in edges)."""

    docs: I64
    #: The low 16 bits of each signature value: two values that differ agree on them by chance
    #: with probability 2**-16, a bias of (1 - J) / 65536 on the estimate, for half the memory.
    sig: npt.NDArray[np.uint16]
    length: I64
    score: npt.NDArray[np.float64]

    def rows(self, docs: I64) -> I64:
        return np.searchsorted(self.docs, docs)


def load_signatures(
    files: Sequence[Path], wanted: I64, num_perm: int, scratch: Path
) -> Generator[list[Call], list[Any], SignatureTable]:
    """Read the rows of the sorted document indices ``wanted``: one task per file.

    ``wanted`` goes to the tasks as a file in ``scratch``, read once by each, rather than as an
    argument copied into every task.
    """
    wanted_path = scratch / "wanted.npy"
    np.save(wanted_path, wanted)
    results = yield [partial(_file_signatures, path, wanted_path, num_perm) for path in files]
    found = [f for f in results if f is not None]
    if not found:
        return SignatureTable(
            np.zeros(0, np.int64),
            np.zeros((0, num_perm), np.uint16),
            np.zeros(0, np.int64),
            np.zeros(0, np.float64),
        )
    return SignatureTable(
        np.concatenate([f.docs for f in found]),
        np.concatenate([f.sig for f in found]),
        np.concatenate([f.length for f in found]),
        np.concatenate([f.score for f in found]).astype(np.float64),
    )


def _file_signatures(path: Path, wanted_path: Path, num_perm: int) -> SignatureTable | None:
    if not path.exists():
        return None
    wanted = np.load(wanted_path)
    table = pq.read_table(path)
    doc = table.column("doc").to_numpy()
    take = np.flatnonzero(np.isin(doc, wanted, assume_unique=True))
    if not len(take):
        return None
    sub = table.take(pa.array(take))
    raw = sub.column("sig").combine_chunks()
    flat = np.frombuffer(raw.buffers()[1], dtype=np.uint32)
    flat = flat[raw.offset * num_perm : (raw.offset + len(raw)) * num_perm]
    return SignatureTable(
        doc[take],
        flat.reshape(len(raw), num_perm).astype(np.uint16),
        sub.column("length").to_numpy(),
        sub.column("score").fill_null(-np.inf).to_numpy(),
    )


def similarities(u: I64, v: I64, table: SignatureTable) -> npt.NDArray[np.float64]:
    """Estimated Jaccard similarity of each pair ``(u[i], v[i])``, a slice at a time."""
    out = np.empty(len(u), dtype=np.float64)
    step = 1 << 15
    for i in range(0, len(u), step):
        left = table.sig[table.rows(u[i : i + step])]
        right = table.sig[table.rows(v[i : i + step])]
        out[i : i + step] = jaccard(left, right)
    return out


def choose_kept(
    nodes: I64, roots: I64, *, value: npt.NDArray[np.float64] | None, pinned: int
) -> I64:
    """The kept document of each node's cluster.

    With ``value`` None the root (first document) is kept; otherwise the highest value, ties to
    the first document. Clusters whose root is below ``pinned`` (documents of ``against``
    datasets) always keep the root.
    """
    if value is None:
        return roots
    groups, inverse = np.unique(roots, return_inverse=True)
    order = np.lexsort((nodes, -value, inverse))
    grouped = inverse[order]
    first = np.concatenate([[True], grouped[1:] != grouped[:-1]])
    best = np.empty(len(groups), dtype=np.int64)
    best[grouped[first]] = nodes[order][first]
    return np.where(roots < pinned, roots, best[inverse])
