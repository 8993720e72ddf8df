"""``dedup.paragraphs``: drop paragraphs (or lines) repeated across the corpus: boilerplate.

Cookie banners, navigation, share buttons and licence blocks repeat across many documents of a
crawl; CCNet and Dolma remove them paragraph by paragraph. Workers hash every normalised
paragraph of each Parquet part to 64 bits; distinct (hash, document) pairs are counted one hash
range at a time with Polars, and a paragraph found in more than ``max_occurrences`` documents is
removed from every document that has it. A document left with no text is removed and recorded
in the ledger; the others keep their remaining paragraphs, joined by a blank line (a newline for
``unit: line``). Documents with nothing removed are passed through byte for byte.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from functools import partial
from typing import Any, ClassVar, Literal

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import Field

from curate import schema
from curate.core import GlobalStage, Part, Reduce, Task, key_ranges
from curate.dedup.exact_part import JOINERS, paragraph_part, paragraph_paths, split_units
from curate.dedup.textnorm import DEFAULT_STEPS, Step
from curate.stage import mark_removed, set_column

log = logging.getLogger(__name__)

EMPTIED = "repeated-paragraphs-only"
#: Bytes Polars needs per (hash, document) pair while counting a hash range.
PAIR_BYTES = 48


class DedupParagraphs(GlobalStage):
    """Remove paragraphs found in more than ``max_occurrences`` documents.

    >>> import pyarrow as pa, tempfile
    >>> from pathlib import Path
    >>> from curate.stage import StageContext
    >>> stage = DedupParagraphs(max_occurrences=2)
    >>> stage.setup(StageContext(workdir=Path(tempfile.mkdtemp())))
    >>> texts = [f"Story {i}.\\n\\nAccept cookies" for i in range(3)] + ["Accept  cookies"]
    >>> b = pa.record_batch({"id": list("abcd"), "text": texts})
    >>> out = pa.Table.from_batches(list(stage([b])))
    >>> out.column("text").to_pylist()[:2], out.column("__curate_reason").to_pylist()[3]
    (['Story 0.', 'Story 1.'], 'repeated-paragraphs-only')
    """

    name: ClassVar[str] = "dedup.paragraphs"
    summary: ClassVar[str] = (
        "Remove paragraphs or lines repeated in many documents (boilerplate), as CCNet and Dolma."
    )
    removes_rows: ClassVar[bool] = True
    reasons: ClassVar[tuple[str, ...]] = (EMPTIED,)

    max_occurrences: int = Field(
        10,
        ge=1,
        description="A paragraph found in more documents than this is removed from all of them.",
    )
    unit: Literal["paragraph", "line"] = Field(
        "paragraph", description="'paragraph' (separated by blank lines) or 'line'."
    )
    min_chars: int = Field(
        0,
        ge=0,
        description="Paragraphs shorter than this (after normalisation) are never removed.",
    )
    normalization: list[Step] = Field(
        default_factory=lambda: list(DEFAULT_STEPS),
        description="Steps applied before comparing paragraphs (as in dedup.exact).",
    )
    memory_limit_mb: int = Field(
        256, ge=16, description="Memory for counting paragraphs; more hash ranges when exceeded."
    )

    def reads(self) -> tuple[str, ...]:
        return (schema.TEXT,)

    def writes(self) -> tuple[str, ...]:
        return (schema.TEXT,)

    def memory_bytes(self) -> int:
        return self.memory_limit_mb << 20

    def map_part(self, part: Part, task: Task) -> int:
        steps = tuple(self.normalization)
        return paragraph_part(part, steps, self.unit, self.min_chars, task.scratch)

    def reduce(self, parts: Sequence[Part], mapped: list[Any], task: Task) -> Reduce:
        files = sorted(str(p) for p in task.scratch.glob("counts-*.parquet"))
        frequent = np.zeros(0, np.uint64)
        if files:
            found: list[npt.NDArray[np.uint64]] = yield [
                partial(_frequent_in_range, files, lo, hi, self.max_occurrences)
                for lo, hi in key_ranges(sum(mapped), PAIR_BYTES, task.memory)
            ]
            frequent = np.sort(np.concatenate(found))
        log.info(
            "dedup.paragraphs: %d distinct paragraphs repeated in more than %d documents",
            len(frequent),
            self.max_occurrences,
        )
        return frequent

    def apply(
        self, part: Part, decisions: npt.NDArray[np.uint64], task: Task
    ) -> Iterator[pa.RecordBatch]:
        """Strip the frequent paragraphs (``decisions``, sorted hashes) from the part's texts."""
        hashes = pq.read_table(paragraph_paths(task.scratch, part)[0]).column("hashes")
        offset = 0
        for batch in part.batches():
            own = hashes.slice(offset, batch.num_rows).combine_chunks()
            offset += batch.num_rows
            yield _strip(batch, own, decisions, self.unit)


def _frequent_in_range(
    files: list[str], lo: int, hi: int, max_occurrences: int
) -> npt.NDArray[np.uint64]:
    """Paragraph hashes in ``[lo, hi)`` found in more than ``max_occurrences`` documents."""
    pred = pl.col("hash") >= pl.lit(lo, dtype=pl.UInt64)
    if hi < 1 << 64:
        pred &= pl.col("hash") < pl.lit(hi, dtype=pl.UInt64)
    counted = (
        pl.scan_parquet(files)
        .filter(pred)
        .group_by("hash")
        .agg(docs=pl.len())
        .filter(pl.col("docs") > max_occurrences)
        .collect()
    )
    return counted["hash"].to_numpy().astype(np.uint64)


def _strip(
    batch: pa.RecordBatch,
    hashes: pa.ListArray,
    frequent: npt.NDArray[np.uint64],
    unit: Literal["paragraph", "line"],
) -> pa.RecordBatch:
    flat = hashes.flatten().to_numpy()
    pos = np.minimum(np.searchsorted(frequent, flat), max(0, len(frequent) - 1))
    drop = (frequent[pos] == flat) if len(frequent) else np.zeros(len(flat), dtype=bool)
    lengths = pc.list_value_length(hashes).to_numpy(zero_copy_only=False).astype(np.int64)
    dropped = _per_doc(drop, lengths)
    touched = dropped > 0
    if not touched.any():
        return mark_removed(batch, pa.nulls(batch.num_rows, pa.string()))
    rows = pa.array(np.flatnonzero(touched))
    units = split_units(batch.column(schema.TEXT).take(rows), unit)
    keep = ~drop[np.repeat(touched, lengths)]
    kept_lengths = _per_doc(keep, lengths[touched])
    offsets = np.concatenate([[0], np.cumsum(kept_lengths)]).astype(np.int32)
    rebuilt = pa.ListArray.from_arrays(pa.array(offsets), pc.filter(units.flatten(), keep))
    text = pc.binary_join(rebuilt, JOINERS[unit])
    mask = pa.array(touched)
    new_text = pc.replace_with_mask(batch.column(schema.TEXT).cast(pa.string()), mask, text)
    blank = pc.equal(pc.utf8_trim_whitespace(text), "").to_numpy(zero_copy_only=False)
    reasons = np.full(batch.num_rows, None, dtype=object)
    details = np.full(batch.num_rows, None, dtype=object)
    where = np.flatnonzero(touched)[blank]
    reasons[where] = EMPTIED
    details[where] = [f"removed {n} repeated paragraphs" for n in dropped[where].tolist()]
    batch = set_column(batch, schema.TEXT, new_text)
    return mark_removed(
        batch, pa.array(reasons.tolist(), pa.string()), pa.array(details.tolist(), pa.string())
    )


def _per_doc(flags: npt.NDArray[np.bool_], lengths: npt.NDArray[np.int64]) -> np.ndarray:
    """How many of each document's ``lengths[i]`` consecutive ``flags`` are set."""
    total = np.concatenate([[0], np.cumsum(flags, dtype=np.int64)])
    ends = np.cumsum(lengths)
    return np.asarray(total[ends] - total[ends - lengths])
