"""``curate train classifier``: a fastText quality classifier from your own data, offline."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.group("train")
def train() -> None:
    """Train models curate can use (a fastText classifier)."""


@train.command("classifier")
@click.option("--positive", required=True, metavar="DATASET", help="Dataset of wanted text.")
@click.option("--negative", metavar="DATASET", help="Dataset of unwanted text.")
@click.option(
    "--label-column", metavar="COL", help="Instead of --negative: a column of --positive."
)
@click.option("--positive-value", metavar="VALUE", help="With --label-column: the wanted value.")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Model file to write (.bin); its card goes beside it as MODEL.card.md.",
)
@click.option("--text-column", default="text", show_default=True, help="Column with the text.")
@click.option("--positive-label", default="hq", show_default=True, help="Positive label name.")
@click.option("--negative-label", default="cc", show_default=True, help="Negative label name.")
@click.option("--holdout", default=0.2, show_default=True, help="Held-out share, stratified.")
@click.option("--epoch", default=10, show_default=True, help="fastText epochs.")
@click.option("--lr", default=0.5, show_default=True, help="fastText learning rate.")
@click.option("--word-ngrams", default=2, show_default=True, help="fastText word n-grams.")
@click.option("--dim", default=32, show_default=True, help="fastText vector size.")
@click.option("--bucket", default=200_000, show_default=True, help="fastText n-gram buckets.")
@click.option("--min-count", default=1, show_default=True, help="fastText minimum word count.")
@click.option(
    "--threads", default=1, show_default=True, help="Training threads (1 is reproducible)."
)
@click.option("--seed", default=0, show_default=True, help="Seed of the split and training.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def classifier(
    positive: str,
    negative: str | None,
    label_column: str | None,
    positive_value: str | None,
    output: Path,
    text_column: str,
    positive_label: str,
    negative_label: str,
    holdout: float,
    epoch: int,
    lr: float,
    word_ngrams: int,
    dim: int,
    min_count: int,
    bucket: int,
    threads: int,
    seed: int,
    as_json: bool,
) -> None:
    """Train a fastText classifier; print held-out precision, recall, F1 and ROC AUC."""
    from curate.classify.train import TrainOptions, card_path, train_classifier

    report = train_classifier(
        positive=positive,
        negative=negative,
        label_column=label_column,
        positive_value=positive_value,
        output=output,
        text_column=text_column,
        positive_label=positive_label,
        negative_label=negative_label,
        holdout=holdout,
        options=TrainOptions(
            epoch=epoch,
            lr=lr,
            word_ngrams=word_ngrams,
            dim=dim,
            min_count=min_count,
            bucket=bucket,
            threads=threads,
            seed=seed,
        ),
    )
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
        return
    rows = sum(report.train_rows.values()), sum(report.heldout_rows.values())
    click.echo(f"trained on {rows[0]} rows, held out {rows[1]}")
    click.echo(
        f"held out: precision {report.precision}  recall {report.recall}  F1 {report.f1}  "
        f"ROC AUC {report.roc_auc}"
    )
    click.echo(f"wrote {output} (sha256 {report.sha256[:12]}) and {card_path(output)}")
