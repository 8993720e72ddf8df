"""``run_recipe``: read, run the stages, write the output folder, check nothing was lost.

>>> import json, tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "in.jsonl").write_text('{"text": "hello"}\\n{"text": "hi"}\\n')
>>> recipe = parse_recipe({"name": "demo", "input": {"path": str(d / "in.jsonl")},
...     "stages": [{"use": "filter", "with": {"where": "length(text) > 2"}}],
...     "output": {"path": str(d / "out")}})
>>> report = run_recipe(recipe)
>>> report["rows_in"], report["rows_out"], report["stages"][0]["removed_by_reason"]
(2, 1, {'filtered': 1})
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from curate import schema
from curate.errors import CheckFailed, CurateError, MissingDependencyError
from curate.executor.local import ExecResult, LocalExecutor, Progress, ShardConfig
from curate.executor.plan import Step, output_schema, plan_columns, segments
from curate.executor.report import IdTally, fingerprint, versions
from curate.io.reader import InputReader
from curate.io.sources import resolve
from curate.io.writer import ShardWriter, write_table_atomic
from curate.recipe import Recipe, parse_recipe

__all__ = ["parse_recipe", "run_recipe"]
log = logging.getLogger(__name__)
WORKDIR = ".curate-work"


def build_steps(recipe: Recipe) -> list[Step]:
    return [
        Step(i, spec.label, stage)
        for i, (spec, stage) in enumerate(zip(recipe.stages, recipe.build_stages()))
    ]


def _source(
    reader: InputReader, tally: IdTally, ledger: list[pa.RecordBatch], progress: Progress
) -> Iterator[pa.RecordBatch]:
    for read in reader:
        tally.add(read.kept.column(schema.ID))
        if read.unreadable is not None:
            tally.add(read.unreadable.column(schema.ID))
            ledger.append(read.unreadable)
        progress("read", read.kept.num_rows)
        if read.kept.num_rows:
            yield read.kept


def _finalize(
    out: Path,
    work: Path,
    res: ExecResult,
    empty_schema: pa.Schema,
    compression: Literal["zstd", "snappy", "gzip", "none"],
) -> tuple[list[Path], list[Path]]:
    """Move finished shards into ``out/data`` and ledgers into ``out/curate/removed``."""
    final = work / "final"
    shutil.rmtree(final, ignore_errors=True)
    (final / "data").mkdir(parents=True)
    (final / "removed").mkdir(parents=True)
    files = [f for f, n in zip(res.files, res.rows) if n > 0]
    if not files:
        empty = ShardWriter(
            work / "empty", empty_schema, max_rows=1, max_bytes=1, compression=compression
        )
        files = empty.close()
    data = []
    for k, f in enumerate(files):
        target = final / "data" / f"train-{k:05d}-of-{len(files):05d}.parquet"
        os.replace(f, target)
        data.append(target)
    removed = []
    for k, f in enumerate(res.ledgers):
        target = final / "removed" / f"{k:05d}-{f.name}"
        os.replace(f, target)
        removed.append(target)
    (out / "curate").mkdir(parents=True, exist_ok=True)
    for name in ("data", "curate/removed"):
        old = out / name
        if old.exists():
            shutil.rmtree(old)
    os.replace(final / "data", out / "data")
    os.replace(final / "removed", out / "curate" / "removed")
    return (
        sorted((out / "data").glob("*.parquet")),
        sorted((out / "curate" / "removed").glob("*.parquet")),
    )


def run_recipe(
    recipe: Recipe,
    *,
    inputs: Sequence[str] | None = None,
    output: str | Path | None = None,
    executor: Literal["local", "ray"] = "local",
    workers: int = 1,
    limit: int | None = None,
    progress: Progress | None = None,
    ray_address: str | None = None,
) -> dict[str, Any]:
    """Run ``recipe`` and return the run report (also written to ``OUT/curate/run.json``)."""
    started = time.perf_counter()
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    notify = progress or (lambda _label, _rows: None)
    resolved = resolve(list(inputs) if inputs else recipe.input.path)
    out = Path(output) if output is not None else Path(recipe.output.path)
    steps = build_steps(recipe)
    inp = recipe.input
    reader = InputReader(
        resolved.sources,
        text_column=inp.text_column,
        id_column=inp.id_column,
        columns=inp.columns,
        on_error=inp.on_error,
        limit=limit,
    )
    work = out / WORKDIR
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    tally = IdTally()
    unreadable: list[pa.RecordBatch] = []
    source = _source(reader, tally, unreadable, notify)
    first = next(source, None)
    plan_columns(steps, {f.name: f.type for f in (reader.schema or reader.empty().schema)})
    stream = source if first is None else _prepend(first, source)
    shards = ShardConfig(
        recipe.output.shard_rows, recipe.output.shard_bytes, recipe.output.compression
    )
    if executor == "ray":
        try:
            from curate.executor.ray import RayExecutor
        except ImportError as exc:
            raise MissingDependencyError(
                "--executor ray needs Ray", hint="pip install 'llmos-curate[ray]'"
            ) from exc
        res = RayExecutor(workers=workers, address=ray_address, progress=notify).execute(
            segments(steps), stream, work, shards
        )
    else:
        res = LocalExecutor(workers=workers, progress=notify).execute(
            segments(steps), stream, work, shards
        )
    if unreadable:
        table = pa.concat_tables(
            [pa.Table.from_batches([b]) for b in unreadable], promote_options="default"
        )
        path = work / "ledger" / "read.parquet"
        write_table_atomic(table, path, compression=recipe.output.compression)
        res.ledgers.insert(0, path)
    empty = output_schema(steps, reader.schema or reader.empty().schema)
    data, removed = _finalize(out, work, res, empty, recipe.output.compression)
    _check_accounting(tally, data, removed)
    report = _report(
        recipe,
        resolved,
        steps,
        res,
        reader,
        tally,
        data,
        removed,
        created,
        time.perf_counter() - started,
        limit,
    )
    (out / "curate" / "run.json").write_text(json.dumps(report, indent=2) + "\n")
    shutil.rmtree(work, ignore_errors=True)
    _after(recipe, out)
    return report


def _prepend(first: pa.RecordBatch, rest: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    yield first
    yield from rest


def _check_accounting(tally: IdTally, data: list[Path], removed: list[Path]) -> None:
    seen = IdTally()
    seen.add_files(data)
    seen.add_files(removed)
    if seen != tally:
        raise CheckFailed(
            f"accounting check failed: {tally.count} ids read, {seen.count} kept or in the ledger",
            hint="this is a bug in a stage or the executor; please report it with the recipe",
        )


def _report(
    recipe: Recipe,
    resolved: Any,
    steps: list[Step],
    res: ExecResult,
    reader: InputReader,
    tally: IdTally,
    data: list[Path],
    removed: list[Path],
    created: str,
    seconds: float,
    limit: int | None,
) -> dict[str, Any]:
    models: dict[str, str] = {}
    for step in steps:
        models.update(step.stage.model_versions())
    stages = []
    for step in steps:
        st = res.stats[step.label].to_json()
        stages.append(
            {"use": step.stage.name, "label": step.label, "params": step.stage.params(), **st}
        )
    rows_out = sum(res.rows)
    inp = fingerprint(resolved.sources)
    inp["registry_refs"] = list(resolved.registry_refs)
    inp["unreadable"] = reader.unreadable
    return {
        "recipe": recipe.resolved(),
        "versions": versions(models),
        "input": inp,
        "rows_in": tally.count,
        "rows_out": rows_out,
        "rows_removed": tally.count - rows_out,
        "limit": limit,
        "seconds": round(seconds, 3),
        "created": created,
        "stages": stages,
        "output": {"data": [p.name for p in data], "removed": [p.name for p in removed]},
    }


def _after(recipe: Recipe, out: Path) -> None:
    """Write the dataset card and, when the recipe asks, the audit."""
    if recipe.audit is not None:
        from curate.audit import AuditOptions, audit_dataset

        options = AuditOptions.model_validate(recipe.audit)
        audit_dataset(str(out), out_dir=out / "curate" / "audit", **options.model_dump())
    from curate.card import write_card

    write_card(out, fields=recipe.card)


def input_columns(recipe: Recipe) -> dict[str, pa.DataType]:
    """Columns the input provides, from the first readable rows when the files exist.

    Without readable input (``curate check`` on a machine without the data), only ``id`` and
    ``text`` are assumed.
    """
    cols = {schema.ID: pa.string(), schema.TEXT: pa.string()}
    try:
        resolved = resolve(recipe.input.path)
        reader = InputReader(
            resolved.sources,
            text_column=recipe.input.text_column,
            id_column=recipe.input.id_column,
            columns=recipe.input.columns,
            on_error="skip",
            limit=1,
        )
        for _ in reader:
            break
    except CurateError as exc:
        log.info("input not read for the plan (%s); assuming only id and text", exc.message)
        return cols
    if reader.schema is not None:
        cols.update({f.name: f.type for f in reader.schema})
    return cols
