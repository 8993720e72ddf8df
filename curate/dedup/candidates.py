"""From spilled band keys to clusters: candidate edges, verification and the kept document.

Band files are grouped with Polars one slice at a time (a band, and a range of keys if one
band's rows would not fit ``memory_limit``), so memory follows the slice, not the corpus. Only
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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from curate.dedup.signatures import jaccard
from curate.dedup.spill import key_ranges

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
    files: Sequence[Path], *, bands: int, docs: int, memory_limit: int, pair_cap: int
) -> tuple[I64, I64]:
    """Distinct candidate edges ``(later doc, earlier doc)`` over all band files.

    One band at a time, and within a band one key range at a time when a band's rows would not
    fit ``memory_limit``: the band files hold one row group per band, sorted by key, so each
    slice reads only its own rows.
    """
    if not files:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    scan = pl.scan_parquet([str(f) for f in files])
    us: list[I64] = []
    vs: list[I64] = []
    for band in range(bands):
        for lo, hi in key_ranges(docs, BAND_ROW_BYTES, memory_limit):
            pred = pl.col("band") == band
            if lo > 0:
                pred &= pl.col("key") >= pl.lit(lo, dtype=pl.UInt64)
            if hi < 1 << 64:
                pred &= pl.col("key") < pl.lit(hi, dtype=pl.UInt64)
            u, v = group_edges(scan.filter(pred).select("key", "doc").collect(), pair_cap=pair_cap)
            us.append(u)
            vs.append(v)
    u, v = np.concatenate(us), np.concatenate(vs)
    if len(u) == 0:
        return u, v
    edges = pl.DataFrame({"u": u, "v": v}).unique().sort("u", "v")
    return edges["u"].to_numpy().astype(np.int64), edges["v"].to_numpy().astype(np.int64)


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


def load_signatures(files: Sequence[Path], wanted: I64, num_perm: int) -> SignatureTable:
    """Read the rows of the sorted document indices ``wanted`` from signature files."""
    docs: list[I64] = []
    sigs: list[npt.NDArray[np.uint16]] = []
    lengths: list[I64] = []
    scores: list[npt.NDArray[np.float64]] = []
    for path in files:
        if not path.exists():
            continue
        table = pq.read_table(path)
        doc = table.column("doc").to_numpy()
        take = np.flatnonzero(np.isin(doc, wanted, assume_unique=True))
        if not len(take):
            continue
        sub = table.take(pa.array(take))
        raw = sub.column("sig").combine_chunks()
        flat = np.frombuffer(raw.buffers()[1], dtype=np.uint32)
        flat = flat[raw.offset * num_perm : (raw.offset + len(raw)) * num_perm]
        docs.append(doc[take])
        sigs.append(flat.reshape(len(raw), num_perm).astype(np.uint16))
        lengths.append(sub.column("length").to_numpy())
        scores.append(sub.column("score").fill_null(-np.inf).to_numpy())
    if not docs:
        return SignatureTable(
            np.zeros(0, np.int64),
            np.zeros((0, num_perm), np.uint16),
            np.zeros(0, np.int64),
            np.zeros(0, np.float64),
        )
    return SignatureTable(
        np.concatenate(docs),
        np.concatenate(sigs),
        np.concatenate(lengths),
        np.concatenate(scores).astype(np.float64),
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
