"""Training a fastText classifier from two datasets (or one with a label column).

The texts get the same normalisation as ``score.classifier`` (:mod:`curate.classify.text`), a
stratified held-out share is kept aside, and the held-out precision, recall, F1 (at 0.5) and
ROC AUC are measured by scoring it with the saved model through the code ``score.classifier``
runs. A model card (``<model>.card.md``) is written next to the model.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from curate import __version__, models
from curate.classify.fasttext_model import LABEL_PREFIX, FastTextClassifier
from curate.classify.text import NORMALIZATION, normalize
from curate.errors import DataError, MissingDependencyError, RecipeError
from curate.io.dataset import open_dataset

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainOptions:
    """fastText's supervised training settings (fastText's own names)."""

    epoch: int = 10
    lr: float = 0.5
    word_ngrams: int = 2
    dim: int = 32
    min_count: int = 1
    bucket: int = 200_000  # hashed n-gram rows: fastText's 2M would make a 0.5 GB file
    threads: int = 1  # one thread makes training reproducible (fastText's SGD is lock-free)
    seed: int = 0


@dataclass
class TrainReport:
    """What was trained on, and how it did on the held-out share."""

    model: str
    sha256: str
    positive_label: str
    negative_label: str
    sources: dict[str, str]
    train_rows: dict[str, int]
    heldout_rows: dict[str, int]
    precision: float
    recall: float
    f1: float
    roc_auc: float
    options: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC as the Mann-Whitney U statistic (ties count half)."""
    ranks = pl.Series(scores).rank("average").to_numpy()
    pos = labels == 1
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _texts(spec: str, text_column: str, columns: Sequence[str] = ()) -> pa.Table:
    batches = list(open_dataset(spec, text_column=text_column).iter_batches())
    if not batches:
        raise DataError(f"{spec}: no rows to train on", hint="give a dataset with text rows")
    table = pa.Table.from_batches(batches)
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise DataError(
            f"{spec}: no column {', '.join(missing)}",
            hint=f"its columns are {', '.join(table.column_names)}",
        )
    return table


def load_examples(
    *,
    positive: str,
    negative: str | None,
    label_column: str | None,
    positive_value: str | None,
    text_column: str,
) -> tuple[list[str], np.ndarray]:
    """Normalised texts and 0/1 labels, from two datasets or one with a label column."""
    if (negative is None) == (label_column is None):
        raise RecipeError(
            "give either a negative dataset or a label column",
            hint="--negative DATASET, or --label-column COL --positive-value VALUE",
        )
    if label_column is not None:
        if positive_value is None:
            raise RecipeError(
                "--label-column needs --positive-value", hint="e.g. --positive-value 1"
            )
        table = _texts(positive, text_column, [label_column])
        labels = table.column(label_column).cast(pa.string()).to_pylist()
        y = np.array([v == positive_value for v in labels], dtype=np.int64)
        text = normalize(table.column("text"))
    else:
        pos = normalize(_texts(positive, text_column).column("text"))
        neg = normalize(_texts(str(negative), text_column).column("text"))
        text = pa.chunked_array(pos.chunks + neg.chunks)
        y = np.concatenate([np.ones(len(pos), np.int64), np.zeros(len(neg), np.int64)])
    values = text.to_pylist()
    keep = [i for i, t in enumerate(values) if t]
    texts = [values[i] for i in keep]
    y = y[keep]
    for value, name in ((1, "positive"), (0, "negative")):
        if int((y == value).sum()) < 2:
            raise DataError(
                f"only {int((y == value).sum())} {name} examples with text",
                hint="training needs at least two examples of each class",
            )
    return texts, y


def split(y: np.ndarray, holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified train/held-out row indices; each class keeps at least one row on each side."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for value in (0, 1):
        rows = rng.permutation(np.flatnonzero(y == value))
        n_test = min(len(rows) - 1, max(1, round(len(rows) * holdout)))
        test.append(rows[:n_test])
        train.append(rows[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def fit(lines: list[str], output: Path, options: TrainOptions) -> FastTextClassifier:
    """Train on ``__label__X text`` lines, save the model at ``output``; the trained model."""
    try:
        import fasttext
    except ImportError as exc:
        raise MissingDependencyError(
            "training needs fastText, which is not installed", hint="pip install fasttext-wheel"
        ) from exc
    with tempfile.TemporaryDirectory(prefix="curate-train-") as tmp:
        data = Path(tmp) / "train.txt"
        data.write_text("\n".join(lines) + "\n", encoding="utf-8")
        model = fasttext.train_supervised(
            input=str(data),
            epoch=options.epoch,
            lr=options.lr,
            wordNgrams=options.word_ngrams,
            dim=options.dim,
            minCount=options.min_count,
            bucket=options.bucket,
            thread=options.threads,
            seed=options.seed,
            verbose=0,
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    model.save_model(str(output))
    return FastTextClassifier.wrap(output, model.f)


def train_classifier(
    *,
    positive: str,
    output: Path,
    negative: str | None = None,
    label_column: str | None = None,
    positive_value: str | None = None,
    text_column: str = "text",
    positive_label: str = "hq",
    negative_label: str = "cc",
    holdout: float = 0.2,
    options: TrainOptions | None = None,
) -> TrainReport:
    """Train, evaluate on the held-out share, save the model and its card; the report."""
    options = options or TrainOptions()
    if output.suffix != ".bin":
        raise RecipeError(f"{output}: the model file must end in .bin", hint="e.g. -o quality.bin")
    if not 0 < holdout < 1:
        raise RecipeError(f"holdout {holdout} must be between 0 and 1", hint="e.g. 0.2")
    texts, y = load_examples(
        positive=positive,
        negative=negative,
        label_column=label_column,
        positive_value=positive_value,
        text_column=text_column,
    )
    train, test = split(y, holdout, options.seed)
    names = {1: LABEL_PREFIX + positive_label, 0: LABEL_PREFIX + negative_label}
    rng = np.random.default_rng(options.seed)
    lines = [f"{names[int(y[i])]} {texts[i]}" for i in rng.permutation(train)]
    model = fit(lines, output, options)
    scores = model.probabilities([texts[i] for i in test])[:, model.labels.index(positive_label)]
    truth = y[test]
    predicted = scores >= 0.5
    tp = int((predicted & (truth == 1)).sum())
    precision = tp / max(1, int(predicted.sum()))
    recall = tp / max(1, int((truth == 1).sum()))
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    sources = {"positive": positive}
    sources.update({"negative": negative} if negative else {"label_column": str(label_column)})
    report = TrainReport(
        model=str(output),
        sha256=models.sha256_file(output),
        positive_label=positive_label,
        negative_label=negative_label,
        sources=sources,
        train_rows={"positive": int((y[train] == 1).sum()), "negative": int((y[train] == 0).sum())},
        heldout_rows={"positive": int((truth == 1).sum()), "negative": int((truth == 0).sum())},
        precision=round(precision, 4),
        recall=round(recall, 4),
        f1=round(f1, 4),
        roc_auc=round(roc_auc(truth, scores), 4),
        options={**asdict(options), "holdout": holdout, "text_column": text_column},
    )
    card_path(output).write_text(model_card(report), encoding="utf-8")
    return report


def card_path(model: Path) -> Path:
    """The model card beside ``model``."""
    return model.with_name(model.name + ".card.md")


def model_card(report: TrainReport) -> str:
    """The Markdown model card of a trained classifier."""
    opts = report.options
    src = "\n".join(f"- {k}: `{v}`" for k, v in report.sources.items())
    held = f"held out ({opts['holdout']:.0%}, stratified, seed {opts['seed']})"
    return f"""# fastText quality classifier `{Path(report.model).name}`

Trained by curate {__version__} (`curate train classifier`).

- sha256: `{report.sha256}`
- labels: `{report.positive_label}` (positive), `{report.negative_label}` (negative)
- text normalisation: {NORMALIZATION}

## Data

{src}

| split | {report.positive_label} | {report.negative_label} |
| --- | --- | --- |
| train | {report.train_rows["positive"]} | {report.train_rows["negative"]} |
| {held} | {report.heldout_rows["positive"]} | {report.heldout_rows["negative"]} |

## Held-out results

Scored with the saved model through `score.classifier`'s code; precision, recall and F1 at a
probability of 0.5 for `{report.positive_label}`.

| precision | recall | F1 | ROC AUC |
| --- | --- | --- | --- |
| {report.precision} | {report.recall} | {report.f1} | {report.roc_auc} |

## Training settings

epoch {opts["epoch"]}, lr {opts["lr"]}, wordNgrams {opts["word_ngrams"]}, dim {opts["dim"]},
minCount {opts["min_count"]}, bucket {opts["bucket"]}, {opts["threads"]} thread(s),
seed {opts["seed"]}.

## Use

```yaml
  - use: score.classifier
    with: {{model: {report.model}, prefix: quality, label: {report.positive_label}}}
```
"""
