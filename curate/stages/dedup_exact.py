"""``dedup.exact``: remove documents identical to an earlier one after normalisation.

Map tasks hash each Parquet part's normalised texts (128-bit xxh3, 24 bytes per document with
its index) into files sorted by hash; reduce tasks group one hash range each with Polars, so
memory follows ``memory_limit_mb``, not the corpus; only the duplicates' decisions are held, and
each part's rows are then marked on their own (see :mod:`curate.core`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from functools import partial
from typing import Any, ClassVar

import numpy as np
import polars as pl
import pyarrow as pa
from pydantic import Field

from curate import schema
from curate.core import GlobalStage, Part, Reduce, Task, column_values, key_ranges
from curate.dedup.decisions import RowDecisions, apply_to_part, empty_decisions
from curate.dedup.exact_part import hash_part
from curate.dedup.textnorm import DEFAULT_STEPS, Step

log = logging.getLogger(__name__)

EXACT = "exact-duplicate"
#: Bytes Polars needs per document while grouping a hash range (h1, h2, doc and hash table).
ROW_BYTES = 72


class DedupExact(GlobalStage):
    """Keep the first of identical documents; ``dup_count`` says how many copies there were.

    >>> import pyarrow as pa, tempfile
    >>> from pathlib import Path
    >>> from curate.stage import StageContext
    >>> stage = DedupExact()
    >>> stage.setup(StageContext(workdir=Path(tempfile.mkdtemp())))
    >>> b = pa.record_batch({"id": ["a", "b", "c"], "text": ["Hi  there", "hi there", "bye"]})
    >>> out = pa.Table.from_batches(list(stage([b])))
    >>> out.column("dup_count").to_pylist(), out.column("__curate_detail").to_pylist()
    ([2, 2, 1], [None, 'kept=a', None])
    """

    name: ClassVar[str] = "dedup.exact"
    summary: ClassVar[str] = (
        "Remove exact duplicates after normalisation (NFKC, lowercase, whitespace), keep the first."
    )
    removes_rows: ClassVar[bool] = True
    reasons: ClassVar[tuple[str, ...]] = (EXACT,)

    normalization: list[Step] = Field(
        default_factory=lambda: list(DEFAULT_STEPS),
        description="Steps applied before comparing texts, from nfkc, lowercase, accents "
        "(strip), punctuation (to space), digits (to 0), whitespace (collapse); [] compares "
        "the raw text.",
    )
    memory_limit_mb: int = Field(
        256, ge=16, description="Memory for grouping hashes; more hash ranges when exceeded."
    )

    def reads(self) -> tuple[str, ...]:
        return (schema.ID, schema.TEXT)

    def output_fields(self) -> list[pa.Field]:
        return [schema.field("dup_count")]

    def memory_bytes(self) -> int:
        return self.memory_limit_mb << 20

    def map_part(self, part: Part, task: Task) -> int:
        return hash_part(part, tuple(self.normalization), task.scratch)

    def reduce(self, parts: Sequence[Part], mapped: list[Any], task: Task) -> Reduce:
        files = sorted(str(p) for p in task.scratch.glob("hashes-*.parquet"))
        if not files:
            return empty_decisions({"dup_count": pa.int64()})
        ranges = key_ranges(sum(mapped), ROW_BYTES, task.memory)
        found: list[pl.DataFrame] = yield [
            partial(_duplicates_in_range, files, lo, hi) for lo, hi in ranges
        ]
        dups = pl.concat(found).sort("doc")
        if dups.height == 0:
            return empty_decisions({"dup_count": pa.int64()})
        docs = dups["doc"].to_numpy().astype(np.int64)
        first = dups["first"].to_numpy().astype(np.int64)
        kept = np.unique(first)
        ids = yield from column_values(parts, schema.ID, kept)
        kept_ids = dict(zip(kept.tolist(), ids.cast(pa.string()).to_pylist()))
        removed = docs != first
        n_removed = int(removed.sum())
        log.info(
            "dedup.exact: %d %s of %d %s",
            n_removed,
            "duplicate" if n_removed == 1 else "duplicates",
            len(kept),
            "document" if len(kept) == 1 else "documents",
        )
        details = [f"kept={kept_ids[f]}" if r else None for f, r in zip(first.tolist(), removed)]
        return RowDecisions(
            docs,
            pa.array([EXACT if r else None for r in removed], pa.string()),
            pa.array(details, pa.string()),
            {"dup_count": dups["count"].to_arrow().cast(pa.int64())},
        )

    def narrow(self, decisions: RowDecisions, part: Part) -> RowDecisions:
        return decisions.narrow(part.start, part.start + part.rows)

    def apply(self, part: Part, decisions: RowDecisions, task: Task) -> Iterator[pa.RecordBatch]:
        return apply_to_part(decisions, part, _dup_count_ones)


def _duplicates_in_range(files: list[str], lo: int, hi: int) -> pl.DataFrame:
    """(doc, first, count) of the documents whose hash, in ``[lo, hi)``, another one shares."""
    pred = pl.col("h1") >= pl.lit(lo, dtype=pl.UInt64)
    if hi < 1 << 64:
        pred &= pl.col("h1") < pl.lit(hi, dtype=pl.UInt64)
    frame = pl.scan_parquet(files).filter(pred).collect()
    dup = frame.filter(pl.struct("h1", "h2").is_duplicated())
    return dup.select(
        "doc",
        first=pl.col("doc").min().over("h1", "h2"),
        count=pl.len().over("h1", "h2").cast(pl.Int64),
    )


def _dup_count_ones(batch: pa.RecordBatch) -> dict[str, pa.Array]:
    return {"dup_count": pa.array(np.ones(batch.num_rows, dtype=np.int64))}
