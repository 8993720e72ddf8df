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
    "--check", is_flag=True, help="Validate the existing card offline; exit 1 if invalid."
)
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="KEY=VALUE",
    help="Set an author field (license, pretty_name, tags, motivation, ...); an empty VALUE "
    "removes it. Kept in DATASET/curate/card.json across re-renders.",
)
def card(dataset: str, check: bool, assignments: tuple[str, ...]) -> None:
    """(Re)write DATASET's README.md card and croissant.json, or validate them with --check."""
    from curate.card import parse_assignment, set_fields, write_card
    from curate.card.check import check_card

    if check and assignments:
        raise click.UsageError(
            "--check validates the card as it is; it cannot be combined with --set"
        )
    folder = dataset_folder(dataset, writable=not check)
    if check:
        problems = check_card(folder)
        if problems:
            listing = "\n".join(f"  - {p}" for p in problems)
            raise CheckFailed(
                f"{folder / 'README.md'}: {len(problems)} problem(s)\n{listing}",
                hint=f"re-render the card with `curate card {dataset}`",
            )
        click.echo(f"{folder / 'README.md'}: valid")
        return
    if assignments:
        set_fields(folder, dict(parse_assignment(a) for a in assignments))
    readme = write_card(folder)
    click.echo(f"wrote {readme} and {folder / 'croissant.json'}")
