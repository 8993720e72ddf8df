"""score.classifier: fastText and hf: models, columns, labels, errors, and the run report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from curate import models
from curate.cli import cli
from curate.errors import DataError, MissingDependencyError, RecipeError
from curate.executor.plan import Step, plan_columns
from curate.stages import get_stage
from curate.stages.score_classifier import ScoreClassifier

fasttext = pytest.importorskip("fasttext")

GOOD = ["the committee met on tuesday to discuss the budget", "a quiet walk by the river"]
BAD = ["click here buy now cheap deals", "free money click here now"]


@pytest.fixture(scope="module")
def ft_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny fastText model with three labels, trained here."""
    folder = tmp_path_factory.mktemp("ft")
    lines = [f"__label__hq {t}" for t in GOOD] * 20 + [f"__label__cc {t}" for t in BAD] * 20
    lines += ["__label__other lorem ipsum dolor"] * 5
    data = folder / "train.txt"
    data.write_text("\n".join(lines) + "\n")
    model = fasttext.train_supervised(
        input=str(data), epoch=20, dim=8, bucket=1000, minCount=1, thread=1, seed=0, verbose=0
    )
    path = folder / "tiny.bin"
    model.save_model(str(path))
    return path


def _batch(texts: list[str | None]) -> pa.RecordBatch:
    return pa.record_batch(
        {"id": [str(i) for i in range(len(texts))], "text": pa.array(texts, pa.string())}
    )


def _bare(path: Path, texts: list[str]) -> dict[str, np.ndarray]:
    """Every label's probability from fastText's own per-line predict."""
    f = fasttext.load_model(str(path)).f
    labels = f.getLabels("strict")[0]
    out = {lab[len("__label__") :]: np.zeros(len(texts)) for lab in labels}
    for i, t in enumerate(texts):
        for prob, lab in f.predict(" ".join(t.split()) + "\n", len(labels), 0.0, "strict"):
            out[lab[len("__label__") :]][i] = prob
    return out


def test_fasttext_scores_match_a_bare_predict_loop(ft_model: Path) -> None:
    texts = [*GOOD, *BAD, "the river\n\nmet  on tuesday"]
    stage = ScoreClassifier(model=str(ft_model), prefix="quality", label="hq", labels=["cc"])
    assert get_stage("score.classifier") is ScoreClassifier
    out = next(iter(stage([_batch(texts)])))
    bare = _bare(ft_model, texts)
    np.testing.assert_allclose(out.column("quality_score").to_numpy(), bare["hq"], atol=1e-6)
    np.testing.assert_allclose(out.column("quality_cc").to_numpy(), bare["cc"], atol=1e-6)
    assert out.column("quality_score")[0].as_py() > 0.5 > out.column("quality_score")[2].as_py()
    assert out.column("text").to_pylist() == texts


@settings(max_examples=60, deadline=None)
@given(texts=st.lists(st.one_of(st.none(), st.text(max_size=80)), min_size=1, max_size=12))
def test_never_drops_rows_or_changes_text(ft_model: Path, texts: list[str | None]) -> None:
    stage = ScoreClassifier(model=str(ft_model), label="hq", labels=["cc", "other"])
    out = next(iter(stage([_batch(texts)])))
    assert out.column("text").to_pylist() == texts
    scores = out.column("classifier_score").to_pylist()
    assert [s is None for s in scores] == [t is None for t in texts]
    total = [
        a + b + c
        for a, b, c in zip(
            scores, *(out.column(f"classifier_{x}").to_pylist() for x in ("cc", "other"))
        )
        if a is not None
    ]
    # fastText adds 1e-5 to each probability before its log, so a sum may pass 1 by k * 1e-5.
    assert all(0.0 <= s <= 1.0 + 1e-4 for s in total)


def test_null_text_gets_null_scores(ft_model: Path) -> None:
    stage = ScoreClassifier(model=str(ft_model), label="__label__hq")
    out = next(iter(stage([_batch([GOOD[0], None])])))
    assert out.column("classifier_score").null_count == 1
    assert out.schema.field("classifier_score").type == pa.float64()


def test_check_lists_model_labels_and_refuses_unknown_ones(ft_model: Path) -> None:
    stage = ScoreClassifier(model=str(ft_model), prefix="q", label="hq")
    desc = stage.describe()
    assert sorted(desc["model_labels"]) == ["cc", "hq", "other"]
    assert desc["outputs"] == {"q_score": "probability of hq"}
    steps = [Step(0, "q", ScoreClassifier(model=str(ft_model), label="good"))]
    with pytest.raises(RecipeError, match="has no label good"):
        plan_columns(steps, {"id": pa.string(), "text": pa.string()})


def test_parameters_are_validated() -> None:
    with pytest.raises(ValueError, match="needs `label`"):
        ScoreClassifier(model="m.bin")
    with pytest.raises(ValueError, match="not a classifier"):
        ScoreClassifier(model="m.txt", label="x")
    with pytest.raises(ValueError, match="prefix"):
        ScoreClassifier(model="m.bin", label="x", prefix="Bad-Prefix")
    assert ScoreClassifier(model="dclm-fasttext").score_label == "hq"


def test_missing_and_damaged_files(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match="does not exist"):
        next(iter(ScoreClassifier(model=str(tmp_path / "no.bin"), label="x")([_batch(["a"])])))
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"\0" * 4096)
    with pytest.raises(DataError, match="not a fastText model file"):
        next(iter(ScoreClassifier(model=str(bad), label="x")([_batch(["a"])])))


def test_public_classifier_without_checksum_is_never_downloaded(
    monkeypatch: pytest.MonkeyPatch, ft_model: Path
) -> None:
    stage = ScoreClassifier(model="dclm-fasttext")
    with pytest.raises(MissingDependencyError, match="no checksum"):
        next(iter(stage([_batch(["a"])])))
    cached = models.cache_path(models.ASSETS["dclm-fasttext"])
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(ft_model.read_bytes())
    out = next(iter(ScoreClassifier(model="dclm-fasttext")([_batch(GOOD)])))
    assert out.column("classifier_score").null_count == 0


def test_models_list_shows_classifiers_with_licence() -> None:
    rows = json.loads(CliRunner().invoke(cli, ["models", "list", "--json"]).output)
    by_name = {r["name"]: r for r in rows}
    assert by_name["dclm-fasttext"]["license"] == "MIT"
    assert by_name["dclm-fasttext"]["kind"] == "fasttext-classifier"
    assert by_name["fineweb-edu-classifier"]["license"] == "Apache-2.0"
    assert by_name["dclm-fasttext"]["sha256"] == ""
    assert by_name["fineweb-edu-classifier"]["status"] == "hub"
    assert by_name["fineweb-edu-classifier"]["path"].startswith("hf:HuggingFaceFW/")


def test_run_report_records_the_model_sha256(tmp_path: Path, ft_model: Path) -> None:
    corpus = tmp_path / "in.jsonl"
    corpus.write_text("".join(json.dumps({"text": t}) + "\n" for t in [*GOOD, *BAD]))
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        f"name: cls\ninput: {{path: {corpus}}}\nstages:\n"
        f"  - use: score.classifier\n    with: {{model: {ft_model}, prefix: quality, label: hq}}\n"
        '  - use: filter\n    with: {where: "quality_score >= 0.5", reason: low-quality}\n'
        f"output: {{path: {tmp_path / 'out'}}}\n"
    )
    result = CliRunner().invoke(cli, ["run", str(recipe)])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "curate" / "run.json").read_text())
    assert report["versions"]["models"][str(ft_model)] == models.sha256_file(ft_model)
    assert report["rows_out"] == 2


transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")
WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "good", "bad", "text", "very", "is"]


def _hf(folder: Path, labels: list[str], problem_type: str | None) -> Path:
    transformers.BertTokenizer(vocab={w: i for i, w in enumerate(WORDS)}).save_pretrained(folder)
    config = transformers.BertConfig(
        vocab_size=len(WORDS),
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        max_position_embeddings=32,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={n: i for i, n in enumerate(labels)},
        problem_type=problem_type,
    )
    torch.manual_seed(0)
    transformers.BertForSequenceClassification(config).save_pretrained(folder)
    return folder


def _logits(folder: Path, texts: list[str]) -> np.ndarray:
    model = transformers.AutoModelForSequenceClassification.from_pretrained(folder).eval()
    tok = transformers.AutoTokenizer.from_pretrained(folder)
    with torch.no_grad():
        return model(**tok(texts, padding=True, return_tensors="pt")).logits.numpy()


def test_hf_regression_head_is_reported_raw(tmp_path: Path) -> None:
    folder = _hf(tmp_path, ["score"], "regression")
    texts = ["good text", "very bad text is bad"]
    stage = ScoreClassifier(model=f"hf:{folder}", prefix="edu", device="cpu")
    out = next(iter(stage([_batch(texts)])))
    np.testing.assert_allclose(
        out.column("edu_score").to_numpy(), _logits(folder, texts)[:, 0], atol=1e-5
    )
    assert stage.describe()["model_labels"] == ["score"]
    versions = stage.model_versions()
    assert list(versions.values()) == [models.sha256_file(folder / "model.safetensors")]


def test_hf_softmax_label_and_per_label_columns(tmp_path: Path) -> None:
    folder = _hf(tmp_path, ["low", "high"], None)
    texts = ["good text", "bad"]
    stage = ScoreClassifier(model=f"hf:{folder}", label="high", labels=["low"], device="cpu")
    out = next(iter(stage([_batch(texts)])))
    expected = torch.softmax(torch.tensor(_logits(folder, texts)), dim=1).numpy()
    np.testing.assert_allclose(out.column("classifier_score").to_numpy(), expected[:, 1], atol=1e-5)
    np.testing.assert_allclose(out.column("classifier_low").to_numpy(), expected[:, 0], atol=1e-5)


def test_hf_multi_output_needs_a_label(tmp_path: Path) -> None:
    folder = _hf(tmp_path, ["low", "high"], None)
    with pytest.raises(RecipeError, match="say which one"):
        next(iter(ScoreClassifier(model=f"hf:{folder}", device="cpu")([_batch(["good"])])))


def test_hf_damaged_weights_name_the_model(tmp_path: Path) -> None:
    folder = _hf(tmp_path, ["score"], "regression")
    (folder / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(MissingDependencyError, match="cannot load"):
        next(iter(ScoreClassifier(model=f"hf:{folder}", device="cpu")([_batch(["good"])])))


def test_check_prints_what_the_classifier_writes(tmp_path: Path, ft_model: Path) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        f"name: cls\ninput: {{path: {tmp_path / 'in.jsonl'}}}\nstages:\n"
        f"  - use: score.classifier\n    with: {{model: {ft_model}, prefix: q, label: hq, "
        f"labels: [cc]}}\noutput: {{path: {tmp_path / 'out'}}}\n"
    )
    result = CliRunner().invoke(cli, ["check", str(recipe)])
    assert result.exit_code == 0, result.output
    assert "q_score: probability of hq" in result.output
    assert "q_cc: probability of cc" in result.output
    assert "model labels: " in result.output and "other" in result.output
