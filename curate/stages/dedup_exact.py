"""``dedup.exact``: remove documents identical to an earlier one after normalisation.

The input streams to Parquet parts; workers hash each part's normalised texts (128-bit xxh3,
24 bytes per document with its index) into files sorted by hash. Hash ranges are then grouped
one at a time with Polars, so memory follows ``memory_limit_mb``, not the corpus, and only the
duplicates' decisions are held while the parts stream back in input order.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import polars as pl
import pyarrow as pa
from pydantic import Field

from curate import schema
from curate.dedup.decisions import RowDecisions, empty_decisions
from curate.dedup.exact_part import hash_part
from curate.dedup.pool import PartPool, spill_and_submit
from curate.dedup.spill import InputSpill, Part, gather, key_ranges
from curate.dedup.textnorm import DEFAULT_STEPS, Step
from curate.stage import GlobalStage

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

    def __call__(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        work = self.ctx.workdir / "exact"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        try:
            spill = InputSpill(work / "input", prefix="input")
            with self.ctx.extra.get("part_pool", PartPool)(self.ctx.workers) as pool:
                spill_and_submit(batches, spill, pool, hash_part, tuple(self.normalization), work)
                pool.results()
            decisions = self._decide(work, spill.parts, spill.rows)
            for start, batch in spill.replay():
                ones = pa.array(np.ones(batch.num_rows, dtype=np.int64))
                yield decisions.apply(start, batch, {"dup_count": ones})
            empty = spill.empty_batch()
            if spill.rows == 0 and empty is not None:
                yield decisions.apply(0, empty, {"dup_count": pa.array([], pa.int64())})
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _decide(self, work: Path, parts: list[Part], rows: int) -> RowDecisions:
        files = sorted(str(p) for p in work.glob("hashes-*.parquet"))
        if not files:
            return empty_decisions({"dup_count": pa.int64()})
        scan = pl.scan_parquet(files)
        found: list[pl.DataFrame] = []
        for lo, hi in key_ranges(rows, ROW_BYTES, self.memory_limit_mb << 20):
            pred = pl.col("h1") >= pl.lit(lo, dtype=pl.UInt64)
            if hi < 1 << 64:
                pred &= pl.col("h1") < pl.lit(hi, dtype=pl.UInt64)
            frame = scan.filter(pred).collect()
            dup = frame.filter(pl.struct("h1", "h2").is_duplicated())
            found.append(
                dup.select(
                    "doc",
                    first=pl.col("doc").min().over("h1", "h2"),
                    count=pl.len().over("h1", "h2").cast(pl.Int64),
                )
            )
        dups = pl.concat(found).sort("doc")
        if dups.height == 0:
            return empty_decisions({"dup_count": pa.int64()})
        docs = dups["doc"].to_numpy().astype(np.int64)
        first = dups["first"].to_numpy().astype(np.int64)
        kept = np.unique(first)
        kept_ids = dict(
            zip(kept.tolist(), gather(parts, schema.ID, kept).cast(pa.string()).to_pylist())
        )
        removed = docs != first
        log.info("dedup.exact: %d duplicates of %d documents", int(removed.sum()), len(kept))
        details = [f"kept={kept_ids[f]}" if r else None for f, r in zip(first.tolist(), removed)]
        return RowDecisions(
            docs,
            pa.array([EXACT if r else None for r in removed], pa.string()),
            pa.array(details, pa.string()),
            {"dup_count": dups["count"].to_arrow().cast(pa.int64())},
        )
