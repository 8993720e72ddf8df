"""The default toxicity model (alt-profanity-check's linear classifier) and the stage around it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.errors import RecipeError
from curate.stages import get_stage
from curate.stages.score_toxicity import ScoreToxicity
from curate.toxicity import check_model, load_scorer, output_columns
from curate.toxicity.linear import LinearToxicity, _read_joblib, data_dir


def _batch(texts: list[str | None]) -> pa.RecordBatch:
    return pa.record_batch(
        {"id": [str(i) for i in range(len(texts))], "text": pa.array(texts, pa.string())}
    )


def _roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Mann-Whitney ROC AUC with ties counted half."""
    pos, neg = scores[labels == 1], scores[labels == 0]
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def test_same_probabilities_as_scikit_learn() -> None:
    vectorizer, model = _read_joblib(data_dir())
    texts = [
        "Thanks for fixing the citation, much appreciated.",
        "you are a stupid idiot and everyone hates you",
        "",
        "ÉCOLE naïve Straße 123 ___ a b c",
        "Go to hell, you scum!!! Seriously, go.",
    ]
    expected = model.predict_proba(vectorizer.transform(texts))[:, 1]
    got = LinearToxicity.load(max_length=10_000).score(texts)["toxicity"]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_known_answers_on_hand_written_fixtures() -> None:
    out = next(iter(ScoreToxicity()([_batch(["Have a lovely day", "shut up, you moron", None])])))
    scores = out.column("toxicity").to_pylist()
    assert scores[0] is not None and scores[0] < 0.2
    assert scores[1] is not None and scores[1] > 0.8
    assert scores[2] is None
    assert out.column("text").to_pylist() == ["Have a lovely day", "shut up, you moron", None]


def test_long_documents_are_chunked_not_truncated() -> None:
    calm = "The committee reviewed the budget and approved the new library opening hours. " * 40
    text = calm + "You are a pathetic stupid idiot."
    short = LinearToxicity.load(max_length=32)
    whole = LinearToxicity.load(max_length=100_000)
    worst = short.score([text], how="max")["toxicity"][0]
    mean = short.score([text], how="mean")["toxicity"][0]
    diluted = whole.score([text])["toxicity"][0]
    # The insult sits after the first chunk: a truncating scorer would not see it at all.
    first_chunk_only = short.score([calm[:150]])["toxicity"][0]
    assert worst > 0.5 > max(diluted, mean, first_chunk_only)


def test_mean_aggregate_weights_chunks_by_tokens() -> None:
    model = LinearToxicity.load(max_length=4)
    text = "you stupid idiot moron nice kind lovely people ok"
    chunks = ["you stupid idiot moron", "nice kind lovely people", "ok"]
    parts = model.score(chunks)["toxicity"]
    expected = (parts[0] * 4 + parts[1] * 4 + parts[2] * 1) / 9
    assert model.score([text], how="mean")["toxicity"][0] == pytest.approx(expected)
    assert model.score([text], how="max")["toxicity"][0] == pytest.approx(parts.max())


def test_stage_declares_and_writes_float64_columns() -> None:
    stage = ScoreToxicity()
    assert stage.writes() == ("toxicity", "toxicity_supported")
    planned = stage.plan({"id": pa.string(), "text": pa.string()})
    assert planned["toxicity"] == pa.float64()
    out = next(iter(stage([_batch(["a", "b"])])))
    assert out.schema.field("toxicity").type == pa.float64()
    assert get_stage("score.toxicity") is ScoreToxicity


def test_empty_batch_keeps_schema() -> None:
    out = next(iter(ScoreToxicity()([_batch([])])))
    assert out.num_rows == 0 and out.schema.field("toxicity").type == pa.float64()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"model": "perspective"}, "unknown toxicity model"),
        ({"model": "hf:./x"}, "needs `label`"),
        ({"label": "toxic"}, "only applies to hf"),
        ({"checkpoint": "x.ckpt"}, "only apply to detoxify"),
        ({"device": "gpu"}, "device"),
        ({"aggregate": "median"}, "aggregate"),
    ],
)
def test_invalid_parameters_are_rejected(params: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ScoreToxicity(**params)  # type: ignore[arg-type]


def test_model_names() -> None:
    assert check_model("hf:unitary/toxic-bert") == "hf:unitary/toxic-bert"
    with pytest.raises(RecipeError):
        check_model("hf:")
    assert output_columns("default", subscores=True) == ["toxicity"]
    unbiased = output_columns("detoxify-unbiased", subscores=True)
    assert "toxicity_identity_psychiatric_or_mental_illness" in unbiased
    assert output_columns("detoxify-unbiased", subscores=False) == ["toxicity"]


@pytest.mark.slow
def test_default_model_never_imports_torch() -> None:
    code = (
        "import sys, pyarrow as pa\n"
        "from curate.stages.score_toxicity import ScoreToxicity\n"
        "b = pa.record_batch({'id': ['1'], 'text': ['you idiot']})\n"
        "next(iter(ScoreToxicity()([b])))\n"
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_loaded_once_per_process() -> None:
    assert load_scorer("default") is load_scorer("default")


@pytest.mark.shared
def test_roc_auc_on_jigsaw_samples(shared_dir: Path) -> None:
    folder = shared_dir / "data" / "jigsaw-toxic-sample"
    model = LinearToxicity.load()
    for name, floor in (("ibm_max_test_examples.csv", 0.95), ("train.csv", 0.97)):
        frame = pl.read_csv(folder / name)
        scores = model.score(frame["comment_text"].to_list())["toxicity"]
        assert _roc_auc(frame["toxic"].to_numpy(), scores) > floor, name


@pytest.mark.shared
def test_roc_auc_on_identity_templates(shared_dir: Path) -> None:
    path = shared_dir / "data" / "jigsaw-sentence-templates" / "en_sentence_templates.csv"
    frame = pl.read_csv(path).sample(n=8000, seed=0)
    scores = LinearToxicity.load().score(frame["phrase"].to_list())["toxicity"]
    labels = (frame["toxicity"] == "toxic").cast(pl.Int8).to_numpy()
    assert _roc_auc(labels, scores) > 0.85


_STAGE = ScoreToxicity(max_length=16)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=200)), max_size=10))
def test_never_drops_rows_or_changes_text(texts: list[str | None]) -> None:
    batch = _batch(texts).append_column("source", pa.array(["s"] * len(texts)))
    out = next(iter(_STAGE([batch])))
    assert out.num_rows == batch.num_rows
    assert out.column("text").to_pylist() == texts
    assert out.column("source").to_pylist() == ["s"] * len(texts)
    for text, score in zip(texts, out.column("toxicity").to_pylist()):
        assert (score is None) == (text is None)
        assert score is None or 0.0 <= score <= 1.0


def _books(shared_dir: Path) -> list[str]:
    """The Gutenberg books of ../shared/bench/sources without their licence header and footer."""
    import re

    books = []
    for path in sorted((shared_dir / "bench" / "sources").glob("*.txt")):
        if path.name == "SOURCE.txt":
            continue
        text = path.read_text("latin-1" if path.stem.endswith("-8") else "utf-8", "replace")
        start = re.search(r"\*\*\* ?START OF.*?\n", text)
        end = re.search(r"\*\*\* ?END OF", text)
        books.append(text[start.end() if start else 0 : end.start() if end else len(text)])
    return books


def test_default_keeps_clean_books(shared_dir: Path) -> None:
    """Issue 16: max over 256-word chunks scored half of these classic books 0.5 or more."""
    books = _books(shared_dir)
    assert len(books) == 14
    paragraphs = [
        " ".join(p.split()) for b in books for p in b.split("\n\n") if len(p.split()) >= 20
    ]
    stage = ScoreToxicity()
    out = next(iter(stage([_batch(paragraphs)])))
    flagged = sum(x >= 0.5 for x in out.column("toxicity").to_pylist())
    assert flagged / len(paragraphs) < 0.02
    whole = next(iter(stage([_batch(books)]))).column("toxicity").to_pylist()
    assert max(whole) < 0.5
    old = LinearToxicity.load(max_length=256).score(books, how="max")["toxicity"]
    assert (old >= 0.5).sum() >= 5, "the old default's failure, for comparison"


def test_default_loses_no_auc_on_labelled_comments(shared_dir: Path) -> None:
    from sklearn.metrics import roc_auc_score

    folder = shared_dir / "data" / "jigsaw-toxic-sample"
    frame = pl.concat(
        [
            pl.read_csv(folder / n).select("comment_text", "toxic")
            for n in ("train.csv", "ibm_max_test_examples.csv")
        ]
    )
    texts, labels = frame["comment_text"].to_list(), frame["toxic"].to_numpy()
    new = next(iter(ScoreToxicity()([_batch(texts)]))).column("toxicity").to_numpy()
    old = LinearToxicity.load(max_length=256).score(texts, how="max")["toxicity"]
    assert roc_auc_score(labels, new) >= roc_auc_score(labels, old) - 0.02


def test_share_aggregate_is_the_share_of_tokens_in_flagged_chunks() -> None:
    model = LinearToxicity.load(max_length=8)
    rude = "you stupid idiot shut up you moron fool"
    calm = "the garden was quiet and the tea warm"
    text = " ".join([calm, rude, calm, calm])
    chunks = [calm, rude, calm, calm]
    per_chunk = model.score(chunks, how="max")["toxicity"]
    expected = sum(8 for p in per_chunk if p >= 0.5) / 32
    assert model.score([text], how="share")["toxicity"][0] == pytest.approx(expected)
    assert expected == pytest.approx(0.25)
