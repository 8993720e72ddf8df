"""``curate run`` and ``curate check``."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from curate.recipe import load_recipe


class _Progress:
    """Rows per second on a terminal (rich), plain periodic log lines otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.start = time.perf_counter()
        self.read = 0
        self.last = 0.0
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> _Progress:
        if self.enabled and sys.stderr.isatty():
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TextColumn("{task.completed:,} docs read"),
                TextColumn("{task.fields[rate]:,.0f} docs/s"),
                TimeElapsedColumn(),
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("curating", total=None, rate=0.0)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def __call__(self, label: str, rows: int) -> None:
        if label != "read":
            return
        self.read += rows
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        if self.bar is not None:
            self.bar.update(self.task, completed=self.read, rate=self.read / elapsed)
        elif self.enabled and elapsed - self.last >= 10:
            self.last = elapsed
            click.echo(f"{self.read:,} docs read, {self.read / elapsed:,.0f} docs/s", err=True)


@click.command()
@click.argument("recipe", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-i",
    "--input",
    "inputs",
    multiple=True,
    help="Input path(s) or URL(s) such as s3://bucket/raw/*.jsonl.gz, replacing the recipe's "
    "input.path (repeat for several).",
)
@click.option(
    "-o",
    "--output",
    help="Output folder (or a URL such as s3://bucket/out), replacing the recipe's output.path.",
)
@click.option(
    "--executor",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="Where the stages run.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes; with --executor ray, the CPUs of the local Ray it starts (a "
    "cluster uses all its CPUs).",
)
@click.option(
    "--ray-address", envvar="RAY_ADDRESS", help="Ray cluster to join (default: start a local one)."
)
@click.option("--limit", type=click.IntRange(min=1), help="Read only the first N documents.")
@click.option(
    "--resume",
    is_flag=True,
    help="Continue an interrupted run in the output folder (same recipe and input).",
)
@click.option(
    "--force",
    is_flag=True,
    help="With --resume: start over when the recipe or input changed instead of failing.",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Write into a non-empty folder that is not a curate output (its other files are "
    "kept; README.md and croissant.json are replaced).",
)
@click.option("--quiet", "quiet_run", is_flag=True, help="No progress output.")
def run(
    recipe: Path,
    inputs: tuple[str, ...],
    output: str | None,
    executor: str,
    workers: int,
    ray_address: str | None,
    limit: int | None,
    resume: bool,
    force: bool,
    overwrite: bool,
    quiet_run: bool,
) -> None:
    """Run RECIPE and write the curated dataset, its ledger, report and card.

    \b
    Example:
      curate run recipes/quickstart.yaml -o out/quickstart --workers 2
      curate run recipes/quickstart.yaml -o out/quickstart --resume   # after a crash

    The output folder must be new, empty or a previous curate output, and outside every
    input; a previous output's data and ledger files are replaced, nothing else is deleted.
    """
    from curate.executor import run_recipe

    parsed = load_recipe(recipe)
    with _Progress(not quiet_run) as progress:
        report = run_recipe(
            parsed,
            inputs=list(inputs) or None,
            output=output,
            executor=executor,  # type: ignore[arg-type]
            workers=workers,
            limit=limit,
            progress=progress,
            ray_address=ray_address,
            resume=resume,
            force=force,
            overwrite=overwrite,
        )
    out = output or parsed.output.path
    click.echo(
        f"{report['rows_in']:,} documents in, {report['rows_out']:,} kept, "
        f"{report['rows_removed']:,} in the ledger ({report['seconds']:.1f} s)"
    )
    for st in report["stages"]:
        reasons = ", ".join(f"{k}: {v:,}" for k, v in st["removed_by_reason"].items())
        click.echo(
            f"  {st['label']:<24} {st['rows_in']:>10,} -> {st['rows_out']:>10,}"
            + (f"  ({reasons})" if reasons else "")
        )
    click.echo(f"wrote {out}")
    if report.get("partial"):
        click.echo(
            f"note: a partial run (the first {report['limit']:,} documents, --limit): its "
            "run report says so, and curate publish refuses it without --allow-partial"
        )


@click.command()
@click.argument("recipe", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def check(recipe: Path, as_json: bool) -> None:
    """Validate RECIPE and print the plan without reading data.

    Shows each stage, the columns it reads and writes, whether it removes rows, and for
    near-duplicate detection the S-curve of candidate probabilities.
    """
    from curate.executor.plan import plan_columns
    from curate.executor.run import build_steps, input_columns

    parsed = load_recipe(recipe)
    steps = build_steps(parsed)
    plan = plan_columns(steps, input_columns(parsed))
    if as_json:
        click.echo(json.dumps({"recipe": parsed.name, "stages": plan}, indent=2))
        return
    click.echo(f"recipe {parsed.name}: {len(plan)} stages, valid")
    for i, st in enumerate(plan):
        removes = "removes rows" if st["removes_rows"] else "keeps rows"
        click.echo(f"{i:>2}. {st['label']} [{st['kind']}, {removes}]")
        click.echo(f"    reads:  {', '.join(st['reads']) or '-'}")
        replaced = set(st.get("overwrites", []))
        writes = [f"{c} (replaces the input's)" if c in replaced else c for c in st["writes"]]
        click.echo(f"    writes: {', '.join(writes) or '-'}")
        curve = st.get("s_curve")
        if curve:
            points = ", ".join(f"J={k}: {v:.3f}" for k, v in curve.items())
            click.echo(f"    candidate probability: {points}")
        for column, meaning in st.get("outputs", {}).items():
            click.echo(f"    {column}: {meaning}")
        if st.get("model_labels"):
            click.echo(f"    model labels: {', '.join(st['model_labels'])}")
