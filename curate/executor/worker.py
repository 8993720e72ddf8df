"""Running a segment's map stages over one shard; the same code in a worker process or inline."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate import schema
from curate.executor.orphan import exit_with_parent
from curate.executor.plan import StageStats, Step
from curate.executor.read_rows import read_rows
from curate.executor.read_tasks import ReadTask
from curate.executor.report import IdTally
from curate.executor.split import split_removed
from curate.io.writer import Compression, ShardWriter, write_table_atomic
from curate.stage import MapStage, StageContext, conform_output

BATCH_ROWS = 10_000
_STEPS: dict[int, list[Step]] = {}


def init_worker(
    steps_by_segment: dict[int, list[Step]],
    workdir: str,
    log_level: int,
    *,
    parent: int | None = None,
) -> None:
    """Install the stages of every segment in this process and set them up once.

    With ``parent`` (the pid of the process that started this worker), the worker exits when
    that process dies, so a killed run leaves no worker behind.
    """
    if parent is not None:
        exit_with_parent(parent)
    logging.basicConfig(level=log_level, format="%(message)s")
    _STEPS.clear()
    _STEPS.update(steps_by_segment)
    for steps in steps_by_segment.values():
        for step in steps:
            ctx = StageContext(workdir=Path(workdir) / f"stage-{step.index:02d}", workers=1)
            ctx.workdir.mkdir(parents=True, exist_ok=True)
            step.stage.setup(ctx)


@dataclass
class ShardTask:
    """One shard of a segment: its rows (``table``, the Parquet file ``input_path``, or the
    input rows that ``read`` plans)."""

    segment: int
    shard: int
    table: pa.Table | None
    input_path: str | None
    out_prefix: str
    ledger_path: str
    max_rows: int
    max_bytes: int
    compression: Compression
    read: ReadTask | None = None


@dataclass
class ShardResult:
    segment: int
    shard: int
    rows_in: int
    files: list[str] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    ledger: str | None = None
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: For a shard read from the input: its id tally and unreadable rows (``InputStream.summary``).
    read: dict[str, int] | None = None


class _TaskInput:
    """A read task's readable rows as batches; its id tally and ledger rows on the side."""

    def __init__(self, task: ReadTask) -> None:
        self.task = task
        self.tally = IdTally()
        self.ledger: list[pa.Table] = []
        self.unreadable = 0
        self.rows = 0

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        for read in read_rows(self.task):
            self.tally.add(read.kept.column(schema.ID))
            if read.unreadable is not None:
                gone = read.unreadable
                self.tally.add(gone.column(schema.ID))
                self.ledger.append(pa.Table.from_batches([gone]))
                reasons = gone.column(schema.LEDGER_REASON)
                self.unreadable += pc.sum(pc.equal(reasons, "unreadable")).as_py() or 0
            self.rows += read.kept.num_rows
            if read.kept.num_rows:
                yield read.kept

    def summary(self) -> dict[str, int]:
        return {
            "count": self.tally.count,
            "sum1": int(self.tally.sum1),
            "sum2": int(self.tally.sum2),
            "unreadable": self.unreadable,
        }


def _batches(task: ShardTask) -> tuple[Iterator[pa.RecordBatch], _TaskInput | None]:
    if task.read is not None:
        rows = _TaskInput(task.read)
        return iter(rows), rows
    table = task.table if task.table is not None else pq.read_table(task.input_path)
    return iter(table.to_batches(max_chunksize=BATCH_ROWS)), None


def run_shard(task: ShardTask) -> ShardResult:
    """Apply the segment's map stages batch by batch, write kept rows and the shard's ledger."""
    steps = _STEPS[task.segment]
    batches, read = _batches(task)
    stats = {s.label: StageStats() for s in steps}
    writer: ShardWriter | None = None
    ledger: list[pa.Table] = []
    rows_in = 0
    for batch in batches:
        rows_in += batch.num_rows
        for step in steps:
            if batch.num_rows == 0:
                break
            start, cpu = time.perf_counter(), time.process_time()
            stage = step.stage
            assert isinstance(stage, MapStage)
            out = stage.process(batch)
            if out.num_rows != batch.num_rows:
                raise RuntimeError(
                    f"stage {step.label} returned {out.num_rows} rows for "
                    f"{batch.num_rows}; stages mark removals, never drop rows"
                )
            out = conform_output(stage, out)
            kept, removed, counts = split_removed(out, step.label)
            st = stats[step.label]
            st.rows_in += batch.num_rows
            st.rows_out += kept.num_rows
            st.removed_by_reason.update(counts)
            st.seconds += time.perf_counter() - start
            st.cpu_seconds += time.process_time() - cpu
            if removed is not None:
                ledger.append(pa.Table.from_batches([removed]))
            batch = kept
        if batch.num_rows == 0:
            continue
        if writer is None:
            writer = ShardWriter(
                Path(task.out_prefix),
                batch.schema,
                max_rows=task.max_rows,
                max_bytes=task.max_bytes,
                compression=task.compression,
            )
        elif batch.schema != writer.schema:
            batch = batch.cast(writer.schema)
        writer.write(batch)
    result = ShardResult(
        task.segment,
        task.shard,
        rows_in,
        stats={k: v.to_json() for k, v in stats.items()},
    )
    if writer is not None:
        result.files = [str(p) for p in writer.close()]
        result.rows = list(writer.rows)
    if read is not None:
        result.read = read.summary()
        # The input's unreadable rows come first in the shard's ledger, as in input order.
        ledger = read.ledger + ledger
    if ledger:
        removed = pa.concat_tables(ledger, promote_options="default")
        write_table_atomic(removed, Path(task.ledger_path), compression=task.compression)
        result.ledger = task.ledger_path
    return result
