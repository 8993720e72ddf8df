"""Moving finished shards into the output folder, in steps that a resumed run can repeat.

The plan (which work file becomes which output file) is recorded before anything moves; files
are then moved into ``.curate-work/final`` and the two folders swapped into place. Each step
checks what is already done, so a run killed at any point finishes the move when resumed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pyarrow as pa

from curate.errors import CheckFailed
from curate.executor.engine import ExecResult
from curate.executor.report import IdTally
from curate.executor.state import RunState, crash_point
from curate.io.writer import Compression, ShardWriter

#: Output folders, relative to OUT, and their staging names inside the working folder.
TARGETS = {"data": "data", "removed": "curate/removed"}


def _plan(
    state: RunState, res: ExecResult, empty_schema: pa.Schema, compression: Compression
) -> dict[str, list[list[str]]]:
    files = [f for f, n in zip(res.files, res.rows) if n > 0]
    if not files:
        empty = ShardWriter(
            state.work / "empty", empty_schema, max_rows=1, max_bytes=1, compression=compression
        )
        files = empty.close()
    data = [
        [state.rel(f), f"train-{k:05d}-of-{len(files):05d}.parquet"] for k, f in enumerate(files)
    ]
    removed = [[state.rel(f), f"{k:05d}-{f.name}"] for k, f in enumerate(res.ledgers)]
    return {"data": data, "removed": removed}


def finalize(
    state: RunState,
    out: Path,
    res: ExecResult,
    empty_schema: pa.Schema,
    compression: Compression,
) -> tuple[list[Path], list[Path]]:
    """Move finished shards to ``out/data`` and ledgers to ``out/curate/removed``."""
    plan = state.done("finalize")
    if plan is None:
        shutil.rmtree(state.work / "final", ignore_errors=True)
        plan = _plan(state, res, empty_schema, compression)
        state.mark("finalize", plan)
    (out / "curate").mkdir(parents=True, exist_ok=True)
    for kind, moves in plan.items():
        staged = state.work / "final" / kind
        target = out / TARGETS[kind]
        for src, name in moves:
            path = state.abs(src)
            if path.exists():
                staged.mkdir(parents=True, exist_ok=True)
                os.replace(path, staged / name)
                crash_point("finalize-move")
        if staged.exists() or not moves:
            staged.mkdir(parents=True, exist_ok=True)
            if target.exists():
                shutil.rmtree(target)
            crash_point("finalize-swap")
            os.replace(staged, target)
    return [out / "data" / n for _, n in plan["data"]], [
        out / "curate" / "removed" / n for _, n in plan["removed"]
    ]


def check_accounting(tally: IdTally, data: list[Path], removed: list[Path]) -> None:
    """Every input id is in the output or the ledger, exactly once."""
    seen = IdTally()
    seen.add_files(data)
    seen.add_files(removed)
    if seen != tally:
        raise CheckFailed(
            f"accounting check failed: {tally.count} ids read, {seen.count} kept or in the ledger",
            hint="this is a bug in a stage or the executor; please report it with the recipe",
        )
