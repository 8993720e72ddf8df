"""Running a segment's map stages over one shard; the same code in a worker process or inline."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from curate.executor.plan import StageStats, Step
from curate.executor.split import split_removed
from curate.io.writer import Compression, ShardWriter, write_table_atomic
from curate.stage import MapStage, StageContext

BATCH_ROWS = 10_000
_STEPS: dict[int, list[Step]] = {}


def init_worker(steps_by_segment: dict[int, list[Step]], workdir: str, log_level: int) -> None:
    """Install the stages of every segment in this process and set them up once."""
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
    """One shard of a segment: its rows (``table``, or the Parquet file ``input_path``)."""

    segment: int
    shard: int
    table: pa.Table | None
    input_path: str | None
    out_prefix: str
    ledger_path: str
    max_rows: int
    max_bytes: int
    compression: Compression


@dataclass
class ShardResult:
    segment: int
    shard: int
    rows_in: int
    files: list[str] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    ledger: str | None = None
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)


def run_shard(task: ShardTask) -> ShardResult:
    """Apply the segment's map stages batch by batch, write kept rows and the shard's ledger."""
    steps = _STEPS[task.segment]
    table = task.table if task.table is not None else pq.read_table(task.input_path)
    stats = {s.label: StageStats() for s in steps}
    writer: ShardWriter | None = None
    ledger: list[pa.Table] = []
    for batch in table.to_batches(max_chunksize=BATCH_ROWS):
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
        table.num_rows,
        stats={k: v.to_json() for k, v in stats.items()},
    )
    if writer is not None:
        result.files = [str(p) for p in writer.close()]
        result.rows = list(writer.rows)
    if ledger:
        removed = pa.concat_tables(ledger, promote_options="default")
        write_table_atomic(removed, Path(task.ledger_path), compression=task.compression)
        result.ledger = task.ledger_path
    return result
