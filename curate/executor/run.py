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

import logging
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from curate import schema
from curate.errors import CurateError
from curate.executor.driver_global import ShardConfig
from curate.executor.engine import ExecResult, Progress
from curate.executor.finalize import check_accounting, finalize
from curate.executor.local import LocalExecutor
from curate.executor.plan import Step, output_schema, plan_columns, segments
from curate.executor.remote import output_location, upload
from curate.executor.report import IdTally, fingerprint, versions
from curate.executor.source import InputStream
from curate.executor.state import RunState, crash_point, run_key, write_json_atomic
from curate.io.reader import InputReader
from curate.io.sources import resolve
from curate.recipe import Recipe, parse_recipe

__all__ = ["parse_recipe", "run_recipe"]
log = logging.getLogger(__name__)
WORKDIR = ".curate-work"


def build_steps(recipe: Recipe) -> list[Step]:
    return [
        Step(i, spec.label, stage)
        for i, (spec, stage) in enumerate(zip(recipe.stages, recipe.build_stages()))
    ]


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
    resume: bool = False,
    force: bool = False,
) -> dict[str, Any]:
    """Run ``recipe`` and return the run report (also written to ``OUT/curate/run.json``).

    ``output`` (or the recipe's ``output.path``) may be a local folder or a URL of any file
    system fsspec knows (``s3://...``, with its driver installed). With ``resume``, an
    interrupted run of the same recipe over the same input in the same
    output folder continues where it stopped; a different recipe or input raises
    :class:`~curate.errors.RecipeError` saying what changed, unless ``force`` (start over).
    """
    started = time.perf_counter()
    notify = progress or (lambda _label, _rows: None)
    resolved = resolve(list(inputs) if inputs else recipe.input.path)
    out, remote = output_location(output if output is not None else recipe.output.path)
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
    key = run_key(recipe.resolved(), resolved.sources, limit)
    state = RunState.open(out / WORKDIR, key, resume=resume, force=force)
    source = InputStream(reader, notify)
    plan_columns(steps, {f.name: f.type for f in source.schema()})
    shards = ShardConfig(
        recipe.output.shard_rows, recipe.output.shard_bytes, recipe.output.compression
    )
    if executor == "ray":
        # RayExecutor itself says how to install Ray when it is missing.
        from curate.executor.ray import RayExecutor

        res = RayExecutor(workers=workers, address=ray_address, progress=notify).execute(
            segments(steps), source, state, shards
        )
    else:
        res = LocalExecutor(workers=workers, progress=notify).execute(
            segments(steps), source, state, shards
        )
    empty = output_schema(steps, source.schema())
    data, removed = finalize(state, out, res, empty, recipe.output.compression)
    check_accounting(source.tally, data, removed)
    report = _report(
        recipe,
        resolved,
        steps,
        res,
        source.unreadable_rows,
        source.tally,
        data,
        removed,
        state.created,
        time.perf_counter() - started,
        limit,
        key["input"],
    )
    crash_point("before-report")
    write_json_atomic(out / "curate" / "run.json", report)
    _after(recipe, out)
    crash_point("after-card")
    if remote is not None:
        upload(out, remote)
    state.remove()
    if remote is not None:
        shutil.rmtree(out, ignore_errors=True)
    return report


def _report(
    recipe: Recipe,
    resolved: Any,
    steps: list[Step],
    res: ExecResult,
    unreadable: int,
    tally: IdTally,
    data: list[Path],
    removed: list[Path],
    created: str,
    seconds: float,
    limit: int | None,
    identities: list[dict[str, Any]],
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
    inp = fingerprint(resolved.sources, identities)
    inp["registry_refs"] = list(resolved.registry_refs)
    inp["unreadable"] = unreadable
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
