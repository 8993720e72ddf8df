"""``curate card DATASET [--check] [--set KEY=VALUE]...``: write or validate a dataset card."""

from __future__ import annotations

from pathlib import Path

import click

from curate.errors import CheckFailed, DataError


def dataset_folder(dataset: str, *, writable: bool) -> Path:
    """The folder holding DATASET's card: a run output folder, or a registry version."""
    from curate.io.urls import local_only
    from curate.registry import is_dataset_folder, resolve

    dataset = local_only(
        dataset,
        command="card",
        fix="a run written to a URL already holds its card; to change it, copy the folder here, "
        "run `curate card` on the copy and upload it back",
    )
    path = Path(dataset)
    if is_dataset_folder(path):
        return path
    if not path.exists():
        folder = resolve(dataset)  # raises a DataError with a hint when unknown
        if writable:
            raise DataError(
                f"{dataset}: registry versions are immutable, their card cannot be rewritten",
                hint=f"set fields on the source folder and publish again, or run "
                f"`curate card {dataset} --check`",
            )
        return folder
    raise DataError(
        f"{dataset}: not a dataset folder (expected data/*.parquet inside)",
        hint="pass the output folder of `curate run`, or publish files first with "
        "`curate publish FILES NAME`",
    )


@click.command()
@click.argument("dataset")
@click.option(
    "--check",
    is_flag=True,
    help="Validate the existing card offline (and croissant.json with mlcroissant, when "
    "installed); exit 1 if invalid. Unanswered author prompts are warnings.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="With --check: fail on warnings too, e.g. `_[To be written by the dataset author ...]_` "
    "placeholders still in the card.",
)
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="KEY=VALUE",
    help="Set an author field (license, pretty_name, tags, motivation, ...); an empty VALUE "
    "removes it. Kept in DATASET/curate/card.json across re-renders.",
)
def card(dataset: str, check: bool, strict: bool, assignments: tuple[str, ...]) -> None:
    """(Re)write DATASET's README.md card and croissant.json, or validate them with --check."""
    from curate.card import parse_assignment, set_fields, write_card

    if check and assignments:
        raise click.UsageError(
            "--check validates the card as it is; it cannot be combined with --set"
        )
    if strict and not check:
        raise click.UsageError("--strict only applies to --check")
    folder = dataset_folder(dataset, writable=not check)
    if check:
        _check(folder, dataset, strict=strict)
        return
    if assignments:
        set_fields(folder, dict(parse_assignment(a) for a in assignments))
    readme = write_card(folder)
    click.echo(f"wrote {readme} and {folder / 'croissant.json'}")


def _check(folder: Path, dataset: str, *, strict: bool) -> None:
    from curate.card.check import check

    found = check(folder)
    readme = folder / "README.md"
    for note in found.notes:
        click.echo(f"note: {note}", err=True)
    failing = found.problems + (found.warnings if strict else [])
    if not strict:
        for warning in found.warnings:
            click.echo(f"warning: {warning}", err=True)
    if failing:
        listing = "\n".join(f"  - {p}" for p in failing)
        raise CheckFailed(
            f"{readme}: {len(failing)} problem(s)\n{listing}",
            hint=f"re-render the card with `curate card {dataset}`"
            if found.problems
            else f"answer the prompts with `curate card {dataset} --set KEY=...`, or drop --strict",
        )
    validated = "" if found.notes else " (croissant.json validated with mlcroissant)"
    suffix = f", {len(found.warnings)} warning(s)" if found.warnings else ""
    click.echo(f"{readme}: valid{validated}{suffix}")
