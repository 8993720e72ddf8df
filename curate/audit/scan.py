"""The audit's single streaming pass over a dataset (or a seeded sample of it).

Each batch is prepared (missing columns computed), then added to the tallies; nothing per
document is kept, so memory does not grow with the dataset. With ``sample=N`` the pass first
draws a uniform sample of N rows (bottom-N of seeded random keys, N rows held at most), and the
tallies run on the sample only, so the expensive stages score N documents.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from curate import schema
from curate.audit.association import WordTally
from curate.audit.columns import ColumnPlan
from curate.audit.composition import LengthTally
from curate.audit.labels import LabelTally
from curate.audit.representation import PronounTally
from curate.audit.tally import LANG, UNKNOWN_LANG, ColumnTally, group_pairs, parquet_batches
from curate.audit.tokens import tokenize
from curate.io.dataset import Dataset
from curate.io.urls import random_access

log = logging.getLogger(__name__)


@dataclass
class ScanResult:
    """Every tally of one pass, and how the rows were chosen."""

    columns: ColumnTally
    lengths: LengthTally | None = None
    words: WordTally | None = None
    pronouns: PronounTally | None = None
    labels: LabelTally | None = None
    rows_seen: int = 0
    sampled: bool = False
    notes: list[str] = field(default_factory=list)


def read_batches(dataset: Dataset, columns: list[str]) -> Iterator[pa.RecordBatch]:
    """The dataset's rows, restricted to ``columns``.

    Without text, Parquet files are read directly, column by column, which is what makes the
    score-only sections cost about one column scan.
    """
    sources = dataset.resolved.sources
    direct = schema.TEXT not in columns and all(s.format == "parquet" for s in sources)
    if not direct:
        yield from dataset.iter_batches(columns=[schema.ID, *columns])
        return
    for source in sources:
        with random_access(source.path) as where:
            yield from parquet_batches(where, columns)


def column_names(dataset: Dataset) -> list[str]:
    """The dataset's column names; read from Parquet metadata when possible (no data read)."""
    sources = dataset.resolved.sources
    if sources and all(s.format == "parquet" for s in sources):
        with random_access(sources[0].path) as where:
            names = pq.read_schema(where).names
        text = [schema.TEXT] if dataset.text_column in names else []
        return [*text, *(n for n in names if n != dataset.text_column)]
    return list(dataset.schema.names)


def rebatch(
    batches: Iterable[pa.RecordBatch], *, rows: int = 1 << 16, text_bytes: int = 64 << 20
) -> Iterator[pa.RecordBatch]:
    """Join small batches (readers yield 10k rows) so per-batch work is amortised, up to a
    bound on rows and on bytes that keeps memory small."""
    held: list[pa.RecordBatch] = []
    held_rows = held_bytes = 0
    for batch in batches:
        held.append(batch)
        held_rows += batch.num_rows
        held_bytes += batch.nbytes
        if held_rows >= rows or held_bytes >= text_bytes:
            yield from pa.Table.from_batches(held).combine_chunks().to_batches()
            held, held_rows, held_bytes = [], 0, 0
    if held:
        yield from pa.Table.from_batches(held).combine_chunks().to_batches()


def sample_rows(
    batches: Iterable[pa.RecordBatch], n: int, seed: int
) -> tuple[list[pa.RecordBatch], int]:
    """A uniform sample of ``n`` rows without replacement, and how many rows there were."""
    rng = np.random.default_rng(seed)
    kept: pa.Table | None = None
    keys = np.zeros(0)
    seen = 0
    for batch in batches:
        seen += batch.num_rows
        fresh = rng.random(batch.num_rows)
        table = pa.Table.from_batches([batch])
        if kept is not None and len(keys) >= n:
            cut = np.partition(keys, n - 1)[n - 1]
            chosen = np.flatnonzero(fresh < cut)
            table, fresh = table.take(pa.array(chosen)), fresh[chosen]
        kept = table if kept is None else pa.concat_tables([kept, table], promote_options="default")
        keys = np.concatenate([keys, fresh])
        if len(keys) > 2 * n:
            best = np.argsort(keys, kind="stable")[:n]
            kept, keys = kept.take(pa.array(best)), keys[best]
    if kept is None:
        return [], 0
    best = np.sort(np.argsort(keys, kind="stable")[:n])
    return kept.take(pa.array(best)).combine_chunks().to_batches(), seen


def _langs(batch: pa.RecordBatch) -> pl.Series:
    if LANG in batch.schema.names:
        return pl.Series("lang", batch.column(LANG)).fill_null(UNKNOWN_LANG)
    return pl.Series("lang", [UNKNOWN_LANG] * batch.num_rows)


def scan(
    dataset: Dataset,
    plan: ColumnPlan,
    *,
    threshold: float,
    text: bool,
    association: bool,
    sample: int | None = None,
    seed: int = 0,
    labels: LabelTally | None = None,
) -> ScanResult:
    """Run the pass; ``text`` adds lengths and pronouns, ``association`` word counts."""
    columns = plan.read_columns(text=text)
    batches: Iterable[pa.RecordBatch] = read_batches(dataset, columns)
    result = ScanResult(columns=ColumnTally(threshold=threshold), labels=labels)
    if sample is not None:
        picked, seen = sample_rows(batches, sample, seed)
        result.sampled = seen > sample
        result.rows_seen = seen
        batches = picked
    if text:
        result.lengths = LengthTally()
        result.pronouns = PronounTally()
    words = WordTally() if association else None
    for raw in rebatch(batches):
        batch = plan.prepare(raw)
        result.columns.update(batch)
        if labels is not None:
            labels.update(batch)
        if text and schema.TEXT in batch.schema.names:
            tokens = tokenize(batch.column(schema.TEXT))
            assert result.lengths is not None and result.pronouns is not None
            result.lengths.update(tokens.lengths)
            result.pronouns.update(tokens, _langs(batch))
            if words is not None:
                words.update(tokens, group_pairs(batch))
        if sample is None:
            result.rows_seen += batch.num_rows
    result.words = words
    return result
