"""``curate audit``: the bias audit of a dataset, written as JSON, Markdown and HTML."""

from __future__ import annotations

from pathlib import Path

import click

from curate.audit.options import SECTIONS


def default_out_dir(dataset: str) -> Path:
    """``DATASET/curate/audit`` for a run output folder, ``./audit`` otherwise."""
    folder = Path(dataset)
    if (folder / "curate" / "run.json").is_file():
        return folder / "curate" / "audit"
    return Path("audit")


@click.command()
@click.argument("dataset")
@click.option(
    "-o",
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (default: DATASET/curate/audit for a run output, else ./audit).",
)
@click.option(
    "--lexicon",
    "lexicons",
    multiple=True,
    metavar="NAME_OR_PATH",
    help="Identity lexicon (built-in name or file); repeat for several. Recomputes "
    "identities even when the dataset has them.",
)
@click.option(
    "--toxicity-column",
    metavar="COL",
    help="Use this column (score in [0, 1] or toxic/nontoxic label) as toxicity.",
)
@click.option(
    "--toxicity-threshold",
    type=click.FloatRange(0.0, 1.0),
    default=0.5,
    show_default=True,
    help="A document is toxic when its score is at least this.",
)
@click.option(
    "--removed",
    multiple=True,
    type=click.Path(path_type=Path),
    metavar="LEDGER",
    help="Removal ledger Parquet file, folder or glob (default: a run's own ledger).",
)
@click.option("--compare", metavar="OTHER", help="Audit OTHER the same way, side by side.")
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    metavar="N",
    help="Audit a seeded uniform sample of N documents.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of --sample.")
@click.option(
    "--probe",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="TEMPLATES.csv",
    help="Probe the toxicity scorer with Jigsaw-format sentence templates.",
)
@click.option(
    "--min-documents",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Groups in fewer documents are reported as insufficient.",
)
@click.option(
    "--min-events",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="A flag also needs this many documents with the outcome it is about.",
)
@click.option(
    "--include-slurs",
    is_flag=True,
    help="Count slurs as mentions of their group (default: a section of their own).",
)
@click.option(
    "--label-column",
    metavar="COL",
    help="Column of human labels: per-class rates by group, and the scorer's error rates "
    "and calibration by group.",
)
@click.option(
    "--label-map",
    metavar="V=CLASS,...",
    help="Names of the label values, e.g. 0=hate,1=offensive,2=neither (default: each value "
    "is its own class).",
)
@click.option(
    "--label-ignore",
    multiple=True,
    metavar="VALUE",
    help="A label value that means 'not labelled', e.g. -1 (repeatable).",
)
@click.option(
    "--label-positive",
    multiple=True,
    metavar="CLASS",
    help="A class that counts as toxic against the scores (repeatable; default: classes named "
    "toxic, hate, hateful, offensive, abusive, 1 or true).",
)
@click.option(
    "--section",
    "sections",
    multiple=True,
    type=click.Choice(SECTIONS),
    help="Only compute these sections (repeat); default: all.",
)
@click.option(
    "--text-column", default="text", show_default=True, help="Column holding the document text."
)
def audit(
    dataset: str,
    out_dir: Path | None,
    lexicons: tuple[str, ...],
    toxicity_column: str | None,
    toxicity_threshold: float,
    removed: tuple[Path, ...],
    compare: str | None,
    sample: int | None,
    seed: int,
    probe: Path | None,
    min_documents: int,
    min_events: int,
    include_slurs: bool,
    label_column: str | None,
    label_map: str | None,
    label_ignore: tuple[str, ...],
    label_positive: tuple[str, ...],
    sections: tuple[str, ...],
    text_column: str,
) -> None:
    """Bias audit of DATASET: composition, representation, association, harm, filter impact."""
    from curate.audit import audit_dataset
    from curate.audit.labels import parse_label_map

    target = out_dir or default_out_dir(dataset)
    report = audit_dataset(
        dataset,
        out_dir=target,
        lexicons=lexicons,
        toxicity_column=toxicity_column,
        toxicity_threshold=toxicity_threshold,
        removed=list(removed) or None,
        compare=compare,
        sample=sample,
        seed=seed,
        probe=probe,
        min_documents=min_documents,
        min_events=min_events,
        slurs="include" if include_slurs else "separate",
        label_column=label_column,
        label_map=parse_label_map(label_map) if label_map else None,
        label_ignore=label_ignore,
        label_positive=label_positive or None,
        sections=[s for s in SECTIONS if s in sections] or None,
        text_column=text_column,
    )
    click.echo(f"audited {report['documents']:,} documents -> {target}/audit.html")
    for finding in report["findings"]:
        click.echo(f"- {finding}")
