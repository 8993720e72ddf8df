"""Running a segment's global stage: its three phases as tasks on the backend's pool.

The stage's input is a list of Parquet parts: the previous segment's shard files, or, for a
stage that comes first, the input written as parts of ``shard_rows`` rows as it is read. The
map tasks and the reduce's tasks run through :func:`curate.core.run.decide`; then one task per
part applies the decisions and writes that part's kept rows (``segK/global-PPPPP-NNN.parquet``)
and removed rows (its own ledger file). The process that runs this module only decides:
documents go from part files to output files inside tasks, which the Ray executor runs anywhere
on the cluster. Both executors run this same code, with a thread pool or a Ray pool, so their
output files are the same.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa

from curate.core import GlobalStage, Part, Task
from curate.core.pool import TaskPool
from curate.core.run import decide
from curate.executor.driver_global import (
    GlobalOutput,
    ShardConfig,
    SplitWriter,
    Timed,
    clear_stage_files,
)
from curate.executor.plan import Step
from curate.executor.state import crash_point
from curate.io.writer import ShardWriter
from curate.stage import StageContext, conform_output


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
    """Write a stream as ``input-NNN.parquet`` parts; yield each part once it is complete."""
    writer: ShardWriter | None = None
    parts: list[Part] = []
    for batch in batches:
        if writer is None:
            writer = ShardWriter(
                folder / "input",
                batch.schema,
                max_rows=shards.rows,
                max_bytes=shards.bytes,
                compression=shards.compression,
            )
        writer.write(batch)
        yield from _new_parts(writer, parts, writer.finished)
    if writer is not None:
        writer.close()
        yield from _new_parts(writer, parts, len(writer.paths))


def _new_parts(writer: ShardWriter, parts: list[Part], upto: int) -> Iterator[Part]:
    """Parts for the files of ``writer`` from ``len(parts)`` to ``upto - 1``, added to ``parts``."""
    for i in range(len(parts), upto):
        start = parts[-1].start + parts[-1].rows if parts else 0
        parts.append(Part(index=i, path=writer.paths[i], start=start, rows=writer.rows[i]))
        yield parts[-1]


def write_part(
    stage: GlobalStage,
    decisions: Any,
    part: Part,
    task: Task,
    out_prefix: Path,
    ledger_prefix: Path,
    label: str,
    shards: ShardConfig,
) -> GlobalOutput:
    """Apply the stage's decisions to one part; write its kept rows and its ledger rows."""
    sink = SplitWriter(out_prefix, ledger_prefix, label, shards)
    for out in stage.apply(part, decisions, task):
        sink.write(conform_output(stage, out))
        crash_point("global-batch")
    res = GlobalOutput()
    res.files, res.rows, res.ledgers = sink.close()
    res.stats.rows_in, res.stats.rows_out = part.rows, sink.rows_out
    res.stats.removed_by_reason.update(sink.counts)
    return res


def run_global(
    step: Step,
    parts: Iterable[Part],
    *,
    work: Path,
    segment: int,
    shards: ShardConfig,
    pool: TaskPool,
) -> GlobalOutput:
    """Run the global stage of ``step`` over ``parts``; one output and ledger per part."""
    stage = step.stage
    assert isinstance(stage, GlobalStage)
    ctx = StageContext(workdir=work / f"stage-{step.index:02d}")
    out_dir, ledger_dir = clear_stage_files(step, work, segment, ctx)
    stage.setup(ctx)
    start, cpu = time.perf_counter(), time.process_time()
    timed = Timed(parts, lambda part: part.rows)
    seen, decisions, task = decide(stage, timed, pool, ctx.workdir)
    for part in seen:
        pool.submit(
            partial(
                write_part,
                stage,
                stage.narrow(decisions, part),
                part,
                task,
                out_dir / f"global-{part.index:05d}",
                ledger_dir / f"{step.index:02d}-{step.label}-{part.index:05d}",
                step.label,
                shards,
            )
        )
    res = GlobalOutput()
    for out in pool.results():
        res.files.extend(out.files)
        res.rows.extend(out.rows)
        res.ledgers.extend(out.ledgers)
        res.stats.add(out.stats)
    res.stats.seconds = time.perf_counter() - start - timed.seconds
    # The pool's threads count; its Ray tasks' CPU time is on other processes.
    res.stats.cpu_seconds = time.process_time() - cpu - timed.cpu_seconds
    shutil.rmtree(ctx.workdir, ignore_errors=True)
    return res
