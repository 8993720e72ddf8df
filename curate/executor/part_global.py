"""Running a partwise global stage (``dedup.*``) with its work spread over a pool's tasks.

The stage's input is a list of Parquet parts: the previous segment's shard files, or, for a
stage that comes first, the input written as parts of ``shard_rows`` rows as it is read. The
stage's per-part work and its grouping run as pool tasks (see :mod:`curate.dedup.partwise`);
then one task per part applies the decision and writes that part's kept rows
(``segK/global-PPPPP-NNN.parquet``) and removed rows (its own ledger file). The process that
runs this module only decides: documents go from part files to output files inside tasks,
which the Ray executor runs anywhere on the cluster. Both executors run this same code, with a
thread pool or a Ray pool, so their output files are the same.
"""

from __future__ import annotations

import os
import shutil
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from curate.dedup.partwise import PartApply, PartwiseStage, Pool
from curate.dedup.spill import Part
from curate.executor.driver_global import GlobalOutput, ShardConfig, clear_stage_files
from curate.executor.plan import Step
from curate.executor.split import split_removed
from curate.executor.state import crash_point
from curate.io.writer import ShardWriter
from curate.stage import StageContext


def file_parts(files: Iterable[Path], rows: Iterable[int]) -> list[Part]:
    """Existing Parquet files as parts numbered in order (empty files are left out)."""
    parts: list[Part] = []
    start = 0
    for path, n in zip(files, rows, strict=True):
        if n:
            parts.append(Part(index=len(parts), path=path, start=start, rows=n))
            start += n
    return parts


def write_parts(
    batches: Iterable[pa.RecordBatch], folder: Path, shards: ShardConfig
) -> Iterator[Part]:
    """Write a stream as ``input-NNNNN.parquet`` parts; yield each part once it is complete."""
    folder.mkdir(parents=True, exist_ok=True)
    writer: pq.ParquetWriter | None = None
    tmp = final = folder
    rows = size = start = 0
    compression = None if shards.compression == "none" else shards.compression
    index = 0
    for batch in batches:
        offset = 0
        while offset < batch.num_rows:
            if writer is None:
                final = folder / f"input-{index:05d}.parquet"
                tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
                writer = pq.ParquetWriter(tmp, batch.schema, compression=compression)
                rows = size = 0
            piece = batch.slice(offset, min(batch.num_rows - offset, shards.rows - rows))
            writer.write_batch(piece)
            offset += piece.num_rows
            rows += piece.num_rows
            size += piece.nbytes
            if rows >= shards.rows or size >= shards.bytes:
                writer.close()
                os.replace(tmp, final)
                writer = None
                yield Part(index=index, path=final, start=start, rows=rows)
                index, start = index + 1, start + rows
    if writer is not None:
        writer.close()
        os.replace(tmp, final)
        yield Part(index=index, path=final, start=start, rows=rows)


@dataclass
class PartOutput:
    files: list[str] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    ledgers: list[str] = field(default_factory=list)
    removed_by_reason: dict[str, int] = field(default_factory=dict)


def write_part(
    apply: PartApply,
    part: Part,
    out_prefix: str,
    ledger_prefix: str,
    label: str,
    shards: ShardConfig,
) -> PartOutput:
    """Apply the stage's decision to one part; write its kept rows and its ledger rows."""
    writer: ShardWriter | None = None
    ledger: ShardWriter | None = None
    counts: Counter[str] = Counter()
    for out in apply(part):
        kept, removed, found = split_removed(out, label)
        counts.update(found)
        if removed is not None:
            if ledger is None:
                ledger = ShardWriter(
                    Path(ledger_prefix),
                    removed.schema,
                    max_rows=shards.rows * 10,
                    max_bytes=shards.bytes,
                    compression=shards.compression,
                )
            ledger.write(removed.cast(ledger.schema))
        if kept.num_rows:
            if writer is None:
                writer = ShardWriter(
                    Path(out_prefix),
                    kept.schema,
                    max_rows=shards.rows,
                    max_bytes=shards.bytes,
                    compression=shards.compression,
                )
            writer.write(kept.cast(writer.schema))
        crash_point("global-batch")
    res = PartOutput(removed_by_reason=dict(counts))
    if writer is not None:
        res.files = [str(p) for p in writer.close()]
        res.rows = list(writer.rows)
    if ledger is not None:
        res.ledgers = [str(p) for p in ledger.close()]
    return res


class _Timed:
    """Parts as they arrive, with the time spent producing them (reading the input)."""

    def __init__(self, parts: Iterable[Part]) -> None:
        self.it = iter(parts)
        self.parts: list[Part] = []
        self.seconds = self.cpu_seconds = 0.0

    def __iter__(self) -> Iterator[Part]:
        while True:
            start, cpu = time.perf_counter(), time.process_time()
            part = next(self.it, None)
            self.seconds += time.perf_counter() - start
            self.cpu_seconds += time.process_time() - cpu
            if part is None:
                return
            self.parts.append(part)
            yield part


def run_partwise(
    step: Step,
    parts: Iterable[Part],
    *,
    work: Path,
    segment: int,
    shards: ShardConfig,
    pool: Pool,
    extra: Mapping[str, Any],
) -> GlobalOutput:
    """Run the partwise stage of ``step`` over ``parts``; one output and ledger per part."""
    stage = step.stage
    assert isinstance(stage, PartwiseStage)
    ctx = StageContext(workdir=work / f"stage-{step.index:02d}", workers=pool.workers, extra=extra)
    out_dir, ledger_dir = clear_stage_files(step, work, segment, ctx)
    stage.setup(ctx)
    start, cpu = time.perf_counter(), time.process_time()
    timed = _Timed(parts)
    apply = stage.prepare(timed, pool, ctx.workdir)
    for part in timed.parts:
        pool.submit(
            write_part,
            apply.narrow(part),
            part,
            str(out_dir / f"global-{part.index:05d}"),
            str(ledger_dir / f"{step.index:02d}-{step.label}-{part.index:05d}"),
            step.label,
            shards,
        )
    outputs: list[PartOutput] = pool.results()
    res = GlobalOutput()
    res.stats.rows_in = sum(p.rows for p in timed.parts)
    for out in outputs:
        res.files.extend(Path(f) for f in out.files)
        res.rows.extend(out.rows)
        res.ledgers.extend(Path(f) for f in out.ledgers)
        res.stats.rows_out += sum(out.rows)
        res.stats.removed_by_reason.update(out.removed_by_reason)
    res.stats.seconds = time.perf_counter() - start - timed.seconds
    # The stage's threads count; its Ray tasks' CPU time is on other processes.
    res.stats.cpu_seconds = time.process_time() - cpu - timed.cpu_seconds
    shutil.rmtree(ctx.workdir, ignore_errors=True)
    return res
