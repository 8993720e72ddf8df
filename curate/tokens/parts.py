"""The input of ``curate export`` cut into parts that worker processes tokenize on their own.

Parquet input is planned as ``curate run`` plans its read tasks
(:func:`curate.executor.read_tasks.plan_reads`: row ranges from the files' footers, the
duplicate-id check over the whole input first), and consecutive ranges are merged into at most
:data:`MAX_PARTS` parts; any other format is one part per file (its generated ids,
``file:record``, depend on that file alone). The plan depends on the input only, never on the
number of workers, so a rerun with another ``--workers`` still reuses the finished parts.

A part reads one batch at a time, tokenizes it and appends it to its bucket files
(:class:`curate.tokens.spill.PartWriter`): what a worker holds is one batch and its tokens.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from curate import schema
from curate.errors import DataError
from curate.executor.read_rows import read_rows
from curate.executor.read_tasks import ReadTask, plan_reads
from curate.io.dataset import Dataset
from curate.io.reader import InputReader
from curate.io.sources import Source
from curate.tokens.loader import load_tokenizer
from curate.tokens.spill import PartWriter

#: At most this many parts: each writes a file per bucket it reaches, so parts x buckets files.
MAX_PARTS = 64
#: Rows per Parquet read range when the caller does not choose (as ``curate run``'s default).
PART_ROWS = 100_000


@dataclass(frozen=True)
class Part:
    """Consecutive Parquet row ranges (``reads``), or one whole file of another format."""

    reads: tuple[ReadTask, ...] = ()
    source: Source | None = None


@dataclass(frozen=True)
class Job:
    """What every part is tokenized with (picklable: it travels to the worker processes)."""

    tokenizer: str
    sha256: str | None
    work: str
    buckets: int
    seed: int
    eos: int
    batch_size: int
    text_column: str
    id_column: str | None
    #: Threads each process lets ``tokenizers`` use, so that workers share the cores.
    threads: int | None = None


def _reader(sources: list[Source], job: Job) -> InputReader:
    # Only id and text are exported: other columns, and whether files agree on them, do not matter.
    return InputReader(sources, text_column=job.text_column, id_column=job.id_column, columns=[])


def plan_parts(dataset: Dataset, job: Job, *, part_rows: int | None = None) -> list[Part]:
    """The parts of ``dataset`` in input order (``part_rows``: rows per Parquet read range)."""
    sources = list(dataset.resolved.sources)
    reads = None
    if sources and all(s.format == "parquet" for s in sources):
        reader = _reader(sources, job)
        # The schema every read task conforms to comes from the first rows.
        next(iter(reader), None)
        reads = plan_reads(reader, target=part_rows, max_rows=part_rows or PART_ROWS)
    if reads is None:
        return [Part(source=s) for s in sources]
    groups = np.array_split(np.arange(len(reads)), min(len(reads), MAX_PARTS))
    return [Part(reads=tuple(reads[i] for i in g.tolist())) for g in groups if len(g)]


def _batches(part: Part, job: Job) -> Iterator[tuple[list[str], list[str]]]:
    if part.source is not None:
        read = iter(_reader([part.source], job))
    else:
        read = (r for task in part.reads for r in read_rows(task))
    for item in read:
        batch = item.kept
        if not batch.num_rows:
            continue
        ids = batch.column(schema.ID).to_pylist()
        texts = batch.column(schema.TEXT).fill_null("").to_pylist()
        for i in range(0, len(ids), job.batch_size):
            yield ids[i : i + job.batch_size], texts[i : i + job.batch_size]


def tokenize_part(index: int, part: Part, job: Job) -> dict[str, int]:
    """Tokenize one part into its bucket files; its document and token counts."""
    if job.threads is not None:
        # Read by tokenizers' thread pool when it first encodes in this process.
        os.environ.setdefault("RAYON_NUM_THREADS", str(job.threads))
    loaded = load_tokenizer(job.tokenizer)
    if loaded.sha256 != job.sha256:
        raise DataError(
            f"tokenizer {job.tokenizer} changed while the export was running",
            hint="run the export again once the tokenizer file stays the same",
        )
    writer = PartWriter(Path(job.work), index, job.buckets, job.seed)
    for ids, texts in _batches(part, job):
        writer.add(ids, loaded.encode(texts), job.eos)
    return writer.close()


def describe(parts: list[Part]) -> list[Any]:
    """What each part reads, for the spill's plan: a rerun reuses parts only of the same plan."""
    return [
        [p.source.path]
        if p.source is not None
        else [[t.source.path, t.first_row, t.rows] for t in p.reads]
        for p in parts
    ]
