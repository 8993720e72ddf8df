"""Counts over score columns, accumulated batch by batch in memory independent of the row count.

A batch arrives with the audit's canonical columns (see :mod:`curate.audit.columns`):
``identities`` (list of ``axis/group``), ``__audit_toxicity`` (float, null when unscored) and
``lang``. Everything kept here is a count per language, per group or per histogram bin.

>>> import pyarrow as pa
>>> t = ColumnTally(threshold=0.5)
>>> b = pa.record_batch({"identities": [["gender/female"], [], ["gender/female", "age/old"]],
...                      "__audit_toxicity": [0.9, 0.1, None], "lang": ["en", "en", "fr"]})
>>> t.update(b)
>>> t.documents, t.scored, t.toxic, sorted(t.languages.items())
(3, 2, 1, [('en', 2), ('fr', 1)])
>>> t.groups["gender/female"]
GroupCounts(docs=2, scored=1, toxic=1)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from numpy.typing import NDArray

IDENTITIES = "identities"
TOXICITY = "__audit_toxicity"
LANG = "lang"
UNKNOWN_LANG = "und"
SLURS = "__audit_slurs"
TERMS = "__audit_terms"
#: Toxicity histogram resolution: bins of width 0.01 over [0, 1].
TOX_BINS = 100


@dataclass
class GroupCounts:
    """Documents mentioning one group: all, with a toxicity score, and toxic among those."""

    docs: int = 0
    scored: int = 0
    toxic: int = 0


@dataclass
class DuplicateCounts:
    """What the dedup columns say, when present."""

    exact_column: bool = False
    docs_with_copies: int = 0
    copies_removed: int = 0
    near_column: bool = False
    docs_in_clusters: int = 0
    clusters: float = 0.0


def value_counts(values: pa.Array | pa.ChunkedArray) -> dict[str | None, int]:
    """Occurrences of each value of a string column (dictionary-encoded or not)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    encoded = values if pa.types.is_dictionary(values.type) else pc.dictionary_encode(values)
    names = [None if x is None else str(x) for x in encoded.dictionary.to_pylist()]
    codes = encoded.indices.fill_null(len(names)).to_numpy()
    counts = np.bincount(codes, minlength=len(names) + 1)
    out: dict[str | None, int] = {}
    for name, count in zip([*names, None], counts.tolist()):
        if count:
            out[name] = out.get(name, 0) + count
    return out


@dataclass(frozen=True)
class GroupCodes:
    """Each document's distinct groups as integer codes: ``doc[i]`` mentions ``names[code[i]]``."""

    doc: NDArray[np.int64]
    code: NDArray[np.int64]
    names: list[str]


def group_codes(identities: pa.Array | pa.ChunkedArray) -> GroupCodes:
    """Flatten a list column of groups into ``(doc, code)`` pairs, one per distinct group.

    Works on the list's flat values with NumPy: list operations per row are far slower.
    """
    if isinstance(identities, pa.ChunkedArray):
        identities = identities.combine_chunks()
    flat = pc.list_flatten(identities)
    doc = pc.list_parent_indices(identities).to_numpy().astype(np.int64, copy=False)
    # Parquet readers can hand the values over dictionary-encoded already.
    encoded = flat if pa.types.is_dictionary(flat.type) else pc.dictionary_encode(flat)
    code = encoded.indices.fill_null(-1).to_numpy().astype(np.int64)
    if encoded.indices.null_count:
        keep = code >= 0
        doc, code = doc[keep], code[keep]
    names = [str(x) for x in encoded.dictionary.to_pylist()]
    # Lists written in sorted order (as the identity stage writes them) have no repeats when
    # names strictly increase within each document, that is when (document, name rank) keys
    # strictly increase: a linear check before a hash-based one.
    size = max(1, len(names))
    rank = np.argsort(np.argsort(np.array(names, dtype=object), kind="stable"))
    ranked = doc * size + rank[code] if code.size else code
    if not np.all(ranked[1:] > ranked[:-1]):
        first = pl.Series(doc * size + code).is_first_distinct().to_numpy()
        doc, code = doc[first], code[first]
    return GroupCodes(doc, code, names)


def parquet_batches(
    path: str | Path | IO[bytes], columns: Sequence[str]
) -> Iterator[pa.RecordBatch]:
    """``columns`` of a Parquet file, a path or an open file (those it has), row group by row group.

    Group names and languages are few distinct strings: they are read dictionary-encoded, which
    skips decoding every string. A list's element path depends on the writer.
    """
    plain = pq.ParquetFile(path)
    present = [c for c in columns if c in plain.schema_arrow.names]
    paths = {plain.schema.column(i).path for i in range(len(plain.schema))}
    wanted = (f"{IDENTITIES}.list.element", f"{IDENTITIES}.list.item", LANG)
    dictionary = [p for p in wanted if p in paths and p.split(".")[0] in present]
    parquet = pq.ParquetFile(path, read_dictionary=dictionary)
    for group in range(parquet.num_row_groups):
        if not present:
            rows = parquet.metadata.row_group(group).num_rows
            yield pa.RecordBatch.from_pydict({"__row": pa.nulls(rows, pa.int8())})
            continue
        yield from parquet.read_row_group(group, columns=present).to_batches()


def group_pairs(batch: pa.RecordBatch) -> pl.DataFrame:
    """``(doc, group)`` rows: each document's distinct groups, ``doc`` its row in the batch."""
    if IDENTITIES not in batch.schema.names:
        return pl.DataFrame(schema={"doc": pl.Int64, "group": pl.String})
    codes = group_codes(batch.column(IDENTITIES))
    names = pl.Series("names", codes.names, dtype=pl.String)
    return pl.DataFrame({"doc": codes.doc, "group": names.gather(codes.code)})


@dataclass
class ColumnTally:
    """Documents, languages, groups and the toxicity distribution."""

    threshold: float
    documents: int = 0
    with_identity: int = 0
    scored: int = 0
    toxic: int = 0
    toxicity_sum: float = 0.0
    toxicity_hist: NDArray[np.int64] = field(default_factory=lambda: np.zeros(TOX_BINS, np.int64))
    languages: Counter[str] = field(default_factory=Counter)
    groups: dict[str, GroupCounts] = field(default_factory=dict)
    #: Groups named by slurs (kept apart from ``groups`` unless slurs are folded in).
    slur_groups: dict[str, GroupCounts] = field(default_factory=dict)
    #: Documents per ``group<SEP>term<SEP>kind`` key (see :mod:`curate.audit.kinds`).
    term_docs: Counter[str] = field(default_factory=Counter)
    #: Documents mentioning both groups of a pair from different axes, keyed ``(a, b)``, a < b.
    pairs: dict[tuple[str, str], GroupCounts] = field(default_factory=dict)
    #: Whether the batches carried mention kinds.
    kinds_seen: bool = False
    duplicates: DuplicateCounts = field(default_factory=DuplicateCounts)

    def update(self, batch: pa.RecordBatch) -> None:
        """Add one batch."""
        n = batch.num_rows
        self.documents += n
        names = batch.schema.names
        if LANG in names:
            for lang, count in value_counts(batch.column(LANG)).items():
                self.languages[UNKNOWN_LANG if lang is None else lang] += count
        else:
            self.languages[UNKNOWN_LANG] += n
        scored = toxic = None
        if TOXICITY in names:
            values = batch.column(TOXICITY).cast(pa.float64())
            scores = pc.fill_null(values, np.nan).to_numpy(zero_copy_only=False)
            scored = ~np.isnan(scores)
            toxic = scores >= self.threshold  # NaN (unscored) compares false
            valid = scores[scored]
            self.scored += int(valid.size)
            self.toxic += int(toxic.sum())
            self.toxicity_sum += float(valid.sum())
            bins = np.minimum((valid * TOX_BINS).astype(np.int64), TOX_BINS - 1)
            self.toxicity_hist += np.bincount(bins, minlength=TOX_BINS)
        if IDENTITIES in names:
            codes = group_codes(batch.column(IDENTITIES))
            if codes.doc.size:
                self.with_identity += int(np.count_nonzero(np.bincount(codes.doc, minlength=n)))
            self._update_groups(self.groups, codes, scored, toxic)
            self._update_pairs(codes, scored, toxic)
        if SLURS in names:
            self.kinds_seen = True
            self._update_groups(self.slur_groups, group_codes(batch.column(SLURS)), scored, toxic)
        if TERMS in names:
            codes = group_codes(batch.column(TERMS))
            docs = np.bincount(codes.code, minlength=len(codes.names))
            for i in np.flatnonzero(docs).tolist():
                self.term_docs[codes.names[i]] += int(docs[i])
        self._update_duplicates(batch)

    @staticmethod
    def _update_groups(
        target: dict[str, GroupCounts],
        codes: GroupCodes,
        scored: NDArray[np.bool_] | None,
        toxic: NDArray[np.bool_] | None,
    ) -> None:
        if codes.doc.size == 0:
            return
        size = len(codes.names)
        docs = np.bincount(codes.code, minlength=size)
        zeros = np.zeros(size)
        n_scored = zeros if scored is None else np.bincount(codes.code, scored[codes.doc], size)
        n_toxic = zeros if toxic is None else np.bincount(codes.code, toxic[codes.doc], size)
        for i, name in enumerate(codes.names):
            if docs[i]:
                counts = target.setdefault(name, GroupCounts())
                counts.docs += int(docs[i])
                counts.scored += int(n_scored[i])
                counts.toxic += int(n_toxic[i])

    def _update_pairs(
        self,
        codes: GroupCodes,
        scored: NDArray[np.bool_] | None,
        toxic: NDArray[np.bool_] | None,
    ) -> None:
        """Add documents mentioning two groups of different axes, from the same ``(doc, code)``
        pairs the group counts use. A document's codes are adjacent (``doc`` never decreases),
        so its pairs are the positions ``i`` and ``i + d`` with the same document."""
        doc, size = codes.doc, len(codes.names)
        # same[i]: positions i and i + 1 hold the same document. Only those positions can start
        # a pair; positions i, i + d do when i, i + d - 1 do and i + d - 1, i + d do.
        same = doc[1:] == doc[:-1]
        at = np.flatnonzero(same)
        if at.size == 0:
            return
        # Keys in name order, so a pair's key is the same in every batch; groups of one axis
        # share the spare key size².
        order = np.argsort(np.array(codes.names, dtype=object), kind="stable")
        names = [codes.names[i] for i in order.tolist()]
        rank = np.empty(size, np.int64)
        rank[order] = np.arange(size)
        axis = np.unique([n.split("/", 1)[0] for n in codes.names], return_inverse=True)[1]
        by_name = np.minimum.outer(rank, rank) * size + np.maximum.outer(rank, rank)
        table = np.where(np.not_equal.outer(axis, axis), by_name, size * size).ravel()
        code, keys, docs = codes.code, [], []
        d = 1
        while at.size:
            keys.append(table[code[at] * size + code[at + d]])
            docs.append(doc[at])
            at = at[at + d < same.size]
            at = at[same[at + d]]
            d += 1
        key, at = np.concatenate(keys), np.concatenate(docs)
        # A dense count over all size² keys is fastest for lexicons of modest size; large ones
        # count over the keys present instead.
        dense = size * size <= max(1 << 16, key.size)
        present, slot = (
            (np.arange(size * size + 1), key) if dense else np.unique(key, return_inverse=True)
        )
        slots = present.size
        n_docs = np.bincount(slot, minlength=slots)
        n_scored = np.zeros(slots) if scored is None else np.bincount(slot, scored[at], slots)
        n_toxic = np.zeros(slots) if toxic is None else np.bincount(slot, toxic[at], slots)
        for i in np.flatnonzero(n_docs).tolist():
            k = int(present[i])
            if k == size * size:
                continue
            counts = self.pairs.setdefault((names[k // size], names[k % size]), GroupCounts())
            counts.docs += int(n_docs[i])
            counts.scored += int(n_scored[i])
            counts.toxic += int(n_toxic[i])

    def _update_duplicates(self, batch: pa.RecordBatch) -> None:
        names = batch.schema.names
        dup = self.duplicates
        if "dup_count" in names:
            dup.exact_column = True
            counts = pc.drop_null(batch.column("dup_count")).to_numpy()
            dup.docs_with_copies += int((counts > 1).sum())
            dup.copies_removed += int(np.maximum(counts - 1, 0).sum())
        if "dup_cluster_size" in names:
            dup.near_column = True
            sizes = pc.drop_null(batch.column("dup_cluster_size")).to_numpy()
            in_cluster = sizes[sizes > 1]
            dup.docs_in_clusters += int(in_cluster.size)
            # Each member of a cluster of size k adds 1/k: the sum counts clusters.
            dup.clusters += float((1.0 / in_cluster).sum())
