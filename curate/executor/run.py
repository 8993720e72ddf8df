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

import contextlib
import errno
import logging
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa

from curate import schema
from curate.errors import CurateError, DataError

# finalize and crash_point stay module attributes: tests replace them here to stop a run midway.
from curate.executor.finalize import check_accounting, finalize
from curate.executor.plan import Step, output_schema, plan_columns, segments
from curate.executor.state import RunState, crash_point, run_key
from curate.io import splits as io_splits
from curate.io.atomic import disk_full, write_json_atomic
from curate.io.reader import InputReader
from curate.io.sources import Resolved, resolve
from curate.recipe import Recipe, parse_recipe

if TYPE_CHECKING:
    from curate.executor.engine import Progress

__all__ = ["parse_recipe", "run_recipe"]
log = logging.getLogger(__name__)
WORKDIR = ".curate-work"


def build_steps(recipe: Recipe) -> list[Step]:
    return [
        Step(i, spec.label, stage, overwrite=spec.overwrite)
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
    overwrite: bool = False,
) -> dict[str, Any]:
    """Run ``recipe`` and return the run report (also written to ``OUT/curate/run.json``).

    ``output`` (or the recipe's ``output.path``) may be a local folder or a URL of any file
    system fsspec knows (``s3://...``, with its driver installed). It must be new, empty, or
    the output of a previous run (whose files it replaces); any other folder is refused unless
    ``overwrite``, and an output that equals, contains or lies inside an input always is (see
    :mod:`curate.executor.outdir`). With ``resume``, an interrupted run of the same recipe over
    the same input in the same output folder continues where it stopped; a different recipe
    or input raises :class:`~curate.errors.RecipeError` saying what changed, damaged progress
    a :class:`~curate.errors.DataError` saying what is damaged, unless ``force`` (start over).
    A failed run keeps its working folder when ``resume`` could continue from it, and removes
    it otherwise; the error says which.
    """
    # The runner's own modules load here, not with this module: `curate check` imports it for
    # build_steps and input_columns only.
    from curate.executor.outdir import check_output, check_url_overlap
    from curate.executor.remote import output_location, remote_stale, upload

    specs = list(inputs) if inputs else recipe.input.path
    resolved = resolve(specs, split=recipe.input.split or io_splits.ALL)
    out, remote = output_location(output if output is not None else recipe.output.path)
    steps = build_steps(recipe)
    given = [specs] if isinstance(specs, str) else [str(s) for s in specs]
    if remote is not None:
        check_url_overlap(remote, resolved.sources, given)
        stale = remote_stale(remote, overwrite=overwrite)
    else:
        stale = check_output(out, resolved.sources, given, overwrite=overwrite)
    existed = out.exists()
    key = run_key(recipe.resolved(), resolved.sources, limit)
    state = RunState.open(out / WORKDIR, key, resume=resume, force=force)
    try:
        report = _execute(
            recipe,
            steps,
            resolved,
            key,
            state,
            out,
            [] if remote is not None else stale,
            executor=executor,
            workers=workers,
            limit=limit,
            notify=progress or (lambda _label, _rows: None),
            ray_address=ray_address,
        )
        if remote is not None:
            upload(out, remote, stale=stale)
    except BaseException as exc:
        failure = _failed(exc, state, out, existed)
        if failure is exc:
            raise
        raise failure from exc
    state.remove()
    if remote is not None:
        shutil.rmtree(out, ignore_errors=True)
    return report


def _execute(
    recipe: Recipe,
    steps: list[Step],
    resolved: Resolved,
    key: dict[str, Any],
    state: RunState,
    out: Path,
    stale: list[str],
    *,
    executor: Literal["local", "ray"],
    workers: int,
    limit: int | None,
    notify: Progress,
    ray_address: str | None,
) -> dict[str, Any]:
    """Read, run the stages, move the output into place, check it, write the report and card."""
    from curate.executor.driver_global import ShardConfig
    from curate.executor.local import LocalExecutor
    from curate.executor.report import fingerprint, run_report
    from curate.executor.source import InputStream
    from curate.executor.split_shards import split_counts
    from curate.ledger import ledger_rewrite, ledger_text_kept
    from curate.stages.redact_pii import RedactPii

    started = time.perf_counter()
    inp = recipe.input
    splits = io_splits.carried([s.split for s in resolved.sources])
    reader = InputReader(
        resolved.sources,
        text_column=inp.text_column,
        id_column=inp.id_column,
        columns=inp.columns,
        on_error=inp.on_error,
        limit=limit,
        max_chars=inp.max_chars,
        carry_split=bool(splits),
    )
    source = InputStream(reader, notify)
    plan_columns(steps, {f.name: f.type for f in source.schema()})
    for step in steps:
        # State a stage builds once on the driver and ships to the workers (decontaminate's index).
        getattr(step.stage, "prepare_run", lambda: None)()
    shards = ShardConfig(
        recipe.output.shard_rows,
        recipe.output.shard_bytes,
        recipe.output.compression,
        sized="shard_rows" not in recipe.output.model_fields_set,
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
    redactor = next((s.stage.redactor() for s in steps if isinstance(s.stage, RedactPii)), None)
    mode = recipe.output.ledger_text
    empty = output_schema(steps, source.schema())
    data, removed = finalize(
        state,
        out,
        res,
        empty,
        recipe.output.compression,
        stale=stale,
        rewrite_ledger=ledger_rewrite(mode, redactor),
        features=reader.features,
        splits=splits,
    )
    check_accounting(source.tally, data, removed)
    models: dict[str, str] = {}
    for step in steps:
        models.update(step.stage.model_versions())
    inputs = fingerprint(resolved.sources, key["input"])
    inputs["registry_refs"] = list(resolved.registry_refs)
    inputs["unreadable"] = source.unreadable_rows
    report = run_report(
        recipe=recipe.resolved(),
        inputs=inputs,
        models=models,
        stages=[
            {
                "use": step.stage.name,
                "label": step.label,
                "params": step.stage.params(),
                **res.stats[step.label].to_json(),
            }
            for step in steps
        ],
        rows_in=source.tally.count,
        rows_out=sum(res.rows),
        limit=limit,
        seconds=time.perf_counter() - started,
        created=state.created,
        data=data,
        removed=removed,
        ledger_text=ledger_text_kept(mode, redactor),
    )
    if splits:
        report["splits"] = split_counts(data, removed, splits)
    if any(step.stage.name == "score.tokens" for step in steps):
        from curate.tokens.totals import token_totals

        report["tokens"] = token_totals(data)
    crash_point("before-report")
    write_json_atomic(out / "curate" / "run.json", report)
    _after(recipe, out)
    crash_point("after-card")
    return report


def _failed(exc: BaseException, state: RunState, out: Path, existed: bool) -> BaseException:
    """The error to raise for a failed run, after keeping or removing its working folder.

    The folder is kept when it holds finished work that ``--resume`` can continue from.
    """
    progress = state.work / "progress"
    if progress.is_dir() and any(progress.glob("*.json")):
        note = f"the finished work is kept in {state.work}: run again with --resume to continue"
    else:
        state.remove()
        if not existed:
            shutil.rmtree(out / "curate", ignore_errors=True)
            with contextlib.suppress(OSError):
                out.rmdir()
        note = f"nothing was finished, so {state.work} was removed"
    if disk_full(exc):
        filename = getattr(exc, "filename", None)
        folder = Path(filename).parent if filename else state.work
        what = (
            "disk quota exceeded"
            if getattr(exc, "errno", None) == errno.EDQUOT
            else "no space left"
        )
        return DataError(f"{what} on the device holding {folder}", hint=f"free some space; {note}")
    if isinstance(exc, CurateError):
        exc.hint = f"{exc.hint}; {note}" if exc.hint else note
        return exc
    log.error("run failed: %s", note)
    return exc


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
        resolved = resolve(recipe.input.path, split=recipe.input.split or io_splits.ALL)
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
