"""Moving finished shards into the output folder, in steps that a resumed run can repeat.

The plan (which work file becomes which output file, and which files of a previous run in the
output folder go) is recorded before anything moves. Files are then staged in
``.curate-work/final`` (ledger files rewritten on the way when their text is redacted or
dropped), the previous run's files are removed, and the staged files are moved into place.
Each step checks what is already done, so a run killed at any point finishes the move when
resumed. A previous file with the name of a new one is replaced by the move rather than
removed, so removing is safe to repeat at any point. Files in the output folder that curate did
not write are never touched. A run that carries several splits writes each work shard's rows
split by split (:mod:`curate.executor.split_shards`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate import schema
from curate.errors import CheckFailed
from curate.executor.report import IdTally
from curate.executor.split_shards import (
    ledger_split_column,
    plan_split_shards,
    write_split_shards,
)
from curate.executor.state import RunState, crash_point
from curate.io.atomic import write_parquet_atomic
from curate.io.features import output_metadata
from curate.io.idset import hash128
from curate.io.reader import id_hashes
from curate.io.writer import Compression, ShardWriter, copy_with_metadata

if TYPE_CHECKING:
    # the engine (and the worker and reader modules it imports) is not needed to finalize
    from curate.executor.engine import ExecResult

#: Output folders, relative to OUT, and their staging names inside the working folder.
TARGETS = {"data": "data", "removed": "curate/removed"}
#: Rewrites a ledger table on its way to the output (redacting or dropping its text).
LedgerRewrite = Callable[[pa.Table], pa.Table]


def _plan(
    state: RunState,
    res: ExecResult,
    empty_schema: pa.Schema,
    compression: Compression,
    splits: Sequence[str],
) -> dict[str, list[list[str]]]:
    files = [f for f, n in zip(res.files, res.rows) if n > 0]
    removed = [[state.rel(f), f"{k:05d}-{f.name}"] for k, f in enumerate(res.ledgers)]
    if splits:
        data = plan_split_shards(state, files, splits, empty_schema, compression)
        return {"data": data, "removed": removed}
    if not files:
        empty = ShardWriter(
            state.work / "empty", empty_schema, max_rows=1, max_bytes=1, compression=compression
        )
        files = empty.close()
    data = [
        [state.rel(f), f"train-{k:05d}-of-{len(files):05d}.parquet"] for k, f in enumerate(files)
    ]
    return {"data": data, "removed": removed}


def finalize(
    state: RunState,
    out: Path,
    res: ExecResult,
    empty_schema: pa.Schema,
    compression: Compression,
    *,
    stale: Sequence[str] = (),
    rewrite_ledger: LedgerRewrite | None = None,
    features: Mapping[str, Any] | None = None,
    splits: Sequence[str] = (),
) -> tuple[list[Path], list[Path]]:
    """Move finished shards to ``out/data`` and ledgers to ``out/curate/removed``.

    ``stale`` are the files of a previous run in ``out`` (relative paths) to remove first.
    ``features`` are the input's Hugging Face features: data shards are copied with them in
    their schema metadata (see :mod:`curate.io.features`) rather than moved. With several
    ``splits`` (carried in the reserved split column), each work shard is written split by split
    as ``data/{split}-*.parquet`` and the ledger's split column is named ``split``.
    """
    plan = state.done("finalize")
    if plan is None:
        moves = _plan(state, res, empty_schema, compression, splits)
        new = {f"{TARGETS[kind]}/{e[1]}" for kind in TARGETS for e in moves[kind]}
        plan = {**moves, "stale": [rel for rel in stale if rel not in new]}
        state.mark("finalize", plan)
    for kind in TARGETS:
        staged = state.work / "final" / kind
        if kind == "data" and splits:
            _stage_splits(state, plan[kind], staged, compression, features)
            continue
        for src, name in plan[kind]:
            path = state.abs(src)
            if not path.exists():
                continue
            if kind == "removed" and (rewrite_ledger is not None or splits):
                table = pq.read_table(path)
                table = ledger_split_column(rewrite_ledger(table) if rewrite_ledger else table)
                write_parquet_atomic(table, staged / name, compression=compression)
                path.unlink()
            elif kind == "data" and features:
                meta = output_metadata(features, pq.read_schema(path))
                copy_with_metadata(path, staged / name, meta, compression=compression)
                path.unlink()
            else:
                staged.mkdir(parents=True, exist_ok=True)
                os.replace(path, staged / name)
            crash_point("finalize-move")
    for rel in plan["stale"]:
        (out / rel).unlink(missing_ok=True)
    for kind, folder in TARGETS.items():
        staged = state.work / "final" / kind
        target = out / folder
        target.mkdir(parents=True, exist_ok=True)
        crash_point("finalize-swap")
        for _, name, *_split in plan[kind]:
            if (staged / name).exists():
                os.replace(staged / name, target / name)
    return [out / "data" / n for _, n, *_split in plan["data"]], [
        out / "curate" / "removed" / n for _, n in plan["removed"]
    ]


def _stage_splits(
    state: RunState,
    entries: Sequence[Sequence[str]],
    staged: Path,
    compression: Compression,
    features: Mapping[str, Any] | None,
) -> None:
    """Stage each work shard's rows split by split; the shard goes once all its files are
    written, so a run killed in between writes them all again when resumed."""
    by_source: dict[str, list[tuple[str, Path]]] = {}
    for src, name, split in entries:
        by_source.setdefault(src, []).append((split, staged / name))
    for src, targets in by_source.items():
        path = state.abs(src)
        if not path.exists():
            continue
        write_split_shards(path, targets, compression, features)
        path.unlink()
        crash_point("finalize-move")


def _repeated(paths: Sequence[Path], firsts: np.ndarray) -> tuple[int, str | None]:
    """How many ids occur more than once in ``paths``, and the first of them in file order.

    ``firsts`` holds every id's first 64-bit hash; sorting it is cheap, and only ids whose
    first hash repeats (duplicates, or one chance in 2^64 per pair otherwise) are read again
    and compared on both hashes.
    """
    firsts.sort()
    candidates = np.unique(firsts[1:][firsts[1:] == firsts[:-1]])
    if not len(candidates):
        return 0, None
    pairs: list[np.ndarray] = []
    names: list[str] = []
    for path in paths:
        ids = pq.read_table(path, columns=[schema.ID]).column(schema.ID)
        h1, h2 = hash128(ids)
        at = np.minimum(np.searchsorted(candidates, h1), len(candidates) - 1)
        rows = np.flatnonzero(candidates[at] == h1)
        pairs.append(np.stack([h1[rows], h2[rows]], axis=1))
        names.extend(str(ids[int(i)]) for i in rows)
    both = np.concatenate(pairs)
    _, inverse, counts = np.unique(both, axis=0, return_inverse=True, return_counts=True)
    again = np.flatnonzero(counts[inverse.reshape(-1)] > 1)
    first = names[int(again[0])] if len(again) else None
    return int((counts > 1).sum()), first


def check_accounting(tally: IdTally, data: list[Path], removed: list[Path]) -> None:
    """Every input id is in the output or the ledger, exactly once, and no id twice.

    Equal tallies alone would pass an input that holds the same documents twice (a file listed
    twice, or a link to a file that is read too), so repeated ids are counted as well, from a
    64-bit hash per id (8 bytes per id, 16 while the hashes of all files are joined).
    """
    seen = IdTally()
    firsts: list[np.ndarray] = []
    paths = [*data, *removed]
    for path in paths:
        if not path.is_file():
            raise CheckFailed(
                f"accounting check failed: {path} is missing",
                hint="the output folder changed while the run was finishing; run it again",
            )
        ids = pq.read_table(path, columns=[schema.ID]).column(schema.ID)
        seen.add(ids)
        firsts.append(id_hashes(ids))
    if seen != tally:
        raise CheckFailed(
            f"accounting check failed: {tally.count} ids read, {seen.count} kept or in the ledger",
            hint="this is a bug in a stage or the executor; please report it with the recipe",
        )
    count, first = _repeated(paths, np.concatenate([np.empty(0, dtype=np.uint64), *firsts]))
    if count:
        raise CheckFailed(
            f"accounting check failed: {seen.count} rows kept or in the ledger, but "
            f"{count} ids appear more than once (first: {first!r})",
            hint="the input holds the same documents more than once (a file listed twice, or a "
            "link to a file that is also read): list each file once",
        )
