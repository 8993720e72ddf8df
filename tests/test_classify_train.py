"""`curate train classifier`: fastText from book paragraphs (wanted) against talk-page comments.

Measured held-out ROC AUC: 0.955 with the settings here (400 paragraphs, 434 comments, dim 16);
the test asks for 0.9.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from click.testing import CliRunner

from curate import models
from curate.classify.train import TrainOptions, card_path, load_examples, split, train_classifier
from curate.cli import main
from curate.errors import DataError, RecipeError
from curate.stages.score_classifier import ScoreClassifier

pytest.importorskip("fasttext")
FAST = TrainOptions(epoch=10, dim=16, bucket=50_000)


def _book_paragraphs(shared_dir: Path, n: int) -> list[str]:
    paras = []
    for path in sorted((shared_dir / "bench" / "sources").glob("*.txt")):
        if path.name == "SOURCE.txt":
            continue
        text = path.read_text("latin-1" if path.stem.endswith("-8") else "utf-8", "replace")
        start = re.search(r"\*\*\* ?START OF.*?\n", text)
        end = re.search(r"\*\*\* ?END OF", text)
        body = text[start.end() if start else 0 : end.start() if end else len(text)]
        paras += [p for p in re.split(r"\n\s*\n", body) if len(p.split()) >= 20]
    random.Random(0).shuffle(paras)
    return paras[:n]


@pytest.fixture(scope="module")
def data(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("train-data")
    books = folder / "books.parquet"
    pl.DataFrame({"text": _book_paragraphs(shared_dir, 400)}).write_parquet(books)
    jig = shared_dir / "data" / "jigsaw-toxic-sample"
    comments = pl.concat(
        [
            pl.read_csv(jig / n).select(pl.col("comment_text").alias("text"))
            for n in ("train.csv", "test.csv", "ibm_max_test_examples.csv")
        ]
    )
    comments_path = folder / "comments.csv"
    comments.write_csv(comments_path)
    both = folder / "both.jsonl"
    pl.concat(
        [
            pl.read_parquet(books).with_columns(kind=pl.lit("book")),
            comments.with_columns(kind=pl.lit("comment")),
        ]
    ).write_ndjson(both)
    return {"books": books, "comments": comments_path, "both": both, "dir": folder}


@pytest.fixture(scope="module")
def trained(data: dict[str, Path]) -> tuple[Path, object]:
    model = data["dir"] / "quality.bin"
    report = train_classifier(
        positive=str(data["books"]), negative=str(data["comments"]), output=model, options=FAST
    )
    return model, report


def test_heldout_auc_and_the_card(trained: tuple[Path, object]) -> None:
    model, report = trained
    assert report.roc_auc >= 0.9  # type: ignore[attr-defined]
    assert report.sha256 == models.sha256_file(model)  # type: ignore[attr-defined]
    card = card_path(model).read_text()
    assert report.sha256 in card and "ROC AUC" in card  # type: ignore[attr-defined]
    assert str(report.roc_auc) in card  # type: ignore[attr-defined]


def test_heldout_figures_match_an_independent_computation(
    data: dict[str, Path], trained: tuple[Path, object]
) -> None:
    from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

    model, report = trained
    texts, y = load_examples(
        positive=str(data["books"]),
        negative=str(data["comments"]),
        label_column=None,
        positive_value=None,
        text_column="text",
    )
    _, test = split(y, 0.2, FAST.seed)
    stage = ScoreClassifier(model=str(model), prefix="q", label="hq")
    batch = pa.record_batch({"id": [str(i) for i in test], "text": [texts[i] for i in test]})
    scores = next(iter(stage([batch]))).column("q_score").to_numpy()
    assert roc_auc_score(y[test], scores) == pytest.approx(report.roc_auc, abs=1e-4)  # type: ignore[attr-defined]
    predicted = scores >= 0.5
    assert precision_score(y[test], predicted) == pytest.approx(report.precision, abs=1e-4)  # type: ignore[attr-defined]
    assert recall_score(y[test], predicted) == pytest.approx(report.recall, abs=1e-4)  # type: ignore[attr-defined]
    assert f1_score(y[test], predicted) == pytest.approx(report.f1, abs=1e-4)  # type: ignore[attr-defined]


def test_split_is_stratified_and_disjoint() -> None:
    y = np.array([1] * 50 + [0] * 30)
    train, test = split(y, 0.2, 0)
    assert not set(train) & set(test) and len(train) + len(test) == 80
    assert (y[test] == 1).sum() == 10 and (y[test] == 0).sum() == 6


def test_label_column_of_one_dataset(data: dict[str, Path], tmp_path: Path) -> None:
    report = train_classifier(
        positive=str(data["both"]),
        label_column="kind",
        positive_value="book",
        output=tmp_path / "m.bin",
        options=FAST,
    )
    assert report.train_rows["positive"] == 320 and report.roc_auc >= 0.9


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"negative": None}, "either a negative dataset or a label column"),
        ({"label_column": "kind"}, "either a negative dataset or a label column"),
        ({"output_name": "m.ftz"}, "must end in .bin"),
        ({"holdout": 1.5}, "between 0 and 1"),
    ],
)
def test_bad_requests(
    data: dict[str, Path], tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    args: dict[str, object] = {
        "positive": str(data["books"]),
        "negative": str(data["comments"]),
        "output": tmp_path / str(kwargs.pop("output_name", "m.bin")),
        "options": FAST,
    }
    args.update(kwargs)
    with pytest.raises(RecipeError, match=message):
        train_classifier(**args)  # type: ignore[arg-type]


def test_too_few_examples(tmp_path: Path, data: dict[str, Path]) -> None:
    one = tmp_path / "one.jsonl"
    one.write_text(json.dumps({"text": "a single line"}) + "\n")
    with pytest.raises(DataError, match="only 1 negative"):
        train_classifier(positive=str(data["books"]), negative=str(one), output=tmp_path / "m.bin")


def test_cli_prints_figures_and_exit_codes(
    data: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cli.bin"
    args = ["train", "classifier", "--positive", str(data["books"]), "--negative"]
    result = CliRunner().invoke(
        __import__("curate.cli", fromlist=["cli"]).cli,
        [*args, str(data["comments"]), "-o", str(out), "--dim", "16", "--bucket", "50000"],
    )
    assert result.exit_code == 0, result.output
    assert "ROC AUC" in result.output and out.is_file() and card_path(out).is_file()
    with pytest.raises(SystemExit) as exit_info:
        main([*args[:-1], "-o", str(tmp_path / "x.bin")])
    assert exit_info.value.code == 2
    assert "label column" in capsys.readouterr().err
