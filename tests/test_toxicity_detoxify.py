"""Detoxify models on a tiny random BERT saved in Detoxify's checkpoint format."""

from __future__ import annotations

import builtins
import collections
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from curate.errors import DataError, MissingDependencyError, RecipeError
from curate.stages.score_toxicity import ScoreToxicity
from curate.toxicity import load_scorer
from curate.toxicity.detoxify import IDENTITY_HEADS, ORIGINAL, UNBIASED

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

WORDS = ["you", "are", "a", "the", "idiot", "nice", "person", "hello", "world", "stupid"]
WORDS += ["good", "is", "and", "calm", "day"]
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
MAX_POSITIONS = 24


def _tiny_base(folder: Path, num_labels: int) -> Any:
    """A random 1-layer BERT and its tokenizer, saved as an offline base model folder."""
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = transformers.BertTokenizer(vocab={w: i for i, w in enumerate(SPECIALS + WORDS)})
    tokenizer.model_max_length = MAX_POSITIONS
    tokenizer.save_pretrained(folder)
    config = transformers.BertConfig(
        vocab_size=len(SPECIALS) + len(WORDS),
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        max_position_embeddings=MAX_POSITIONS,
        num_labels=num_labels,
    )
    config.save_pretrained(folder)
    torch.manual_seed(num_labels)
    model = transformers.BertForSequenceClassification(config)
    with torch.no_grad():  # spread the outputs so that scores differ between texts
        model.classifier.weight.normal_(0.0, 3.0)
    return model


def _save_checkpoint(path: Path, base: Path, classes: list[str], num_labels: int) -> Path:
    model = _tiny_base(base, num_labels)
    checkpoint = {
        "config": {
            "arch": {
                "args": {
                    "model_type": str(base),
                    "model_name": "BertForSequenceClassification",
                    "tokenizer_name": "BertTokenizer",
                    "num_classes": num_labels,
                }
            },
            "dataset": {"args": {"classes": classes}},
        },
        "state_dict": collections.OrderedDict(model.state_dict()),
    }
    torch.save(checkpoint, path)
    return path


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("detoxify-original")
    old_names = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
    return _save_checkpoint(root / "tiny.ckpt", root / "base", old_names, 6), root / "base"


@pytest.fixture(scope="module")
def unbiased(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("detoxify-unbiased")
    return _save_checkpoint(root / "tiny.ckpt", root / "base", UNBIASED, 16), root / "base"


def _batch(texts: list[str | None]) -> pa.RecordBatch:
    return pa.record_batch(
        {"id": [str(i) for i in range(len(texts))], "text": pa.array(texts, pa.string())}
    )


TEXTS = ["you are a stupid idiot", "hello world", "", "nice calm day"]


def test_original_matches_detoxify_predict(original: tuple[Path, Path]) -> None:
    detoxify = pytest.importorskip("detoxify")
    ckpt, base = original
    ours = load_scorer("detoxify-original", checkpoint=str(ckpt), tokenizer=str(base))
    theirs = detoxify.Detoxify(checkpoint=str(ckpt), huggingface_config_path=str(base))
    expected = theirs.predict(TEXTS)
    got = ours.score(TEXTS)
    for head in ORIGINAL:
        column = {"toxicity": "toxicity", "severe_toxicity": "toxicity_severe"}.get(
            head, f"toxicity_{head}"
        )
        np.testing.assert_allclose(got[column], expected[head], atol=1e-5)
    assert len(set(np.round(got["toxicity"], 4))) > 1


def test_unbiased_identity_heads_come_from_the_logits(unbiased: tuple[Path, Path]) -> None:
    ckpt, base = unbiased
    scorer = load_scorer("detoxify-unbiased", checkpoint=str(ckpt), tokenizer=str(base))
    got = scorer.score(TEXTS)
    assert f"toxicity_identity_{IDENTITY_HEADS[-1]}" in got
    model = transformers.BertForSequenceClassification(
        transformers.BertConfig.from_pretrained(base)
    )
    model.load_state_dict(torch.load(ckpt, weights_only=True)["state_dict"])
    tokenizer = transformers.AutoTokenizer.from_pretrained(base)
    with torch.no_grad():
        logits = model.eval()(**tokenizer(TEXTS, padding=True, return_tensors="pt")).logits
    probs = torch.sigmoid(logits).numpy()
    for i, head in enumerate(IDENTITY_HEADS):
        np.testing.assert_allclose(got[f"toxicity_identity_{head}"], probs[:, 7 + i], atol=1e-5)
    np.testing.assert_allclose(got["toxicity_sexual_explicit"], probs[:, 6], atol=1e-5)


def test_stage_writes_every_declared_column(unbiased: tuple[Path, Path]) -> None:
    ckpt, base = unbiased
    stage = ScoreToxicity(model="detoxify-unbiased", checkpoint=str(ckpt), tokenizer=str(base))
    out = next(iter(stage([_batch([*TEXTS, None])])))
    declared = [f.name for f in stage.output_fields()]
    assert len(declared) == 17 and declared[0] == "toxicity"
    assert declared[-1] == "toxicity_supported"
    assert out.column("toxicity_supported").null_count == len(TEXTS) + 1  # no lang column
    for name in declared[:-1]:
        values = out.column(name).to_pylist()
        assert values[-1] is None
        assert all(0.0 <= v <= 1.0 for v in values[:-1])
    assert out.column("text").to_pylist() == [*TEXTS, None]


def test_long_text_is_scored_in_chunks(original: tuple[Path, Path]) -> None:
    ckpt, base = original
    scorer = load_scorer("detoxify-original", checkpoint=str(ckpt), tokenizer=str(base))
    assert scorer.max_length == MAX_POSITIONS
    words = (WORDS * 6)[:70]
    text = " ".join(words)
    window = MAX_POSITIONS - 2
    chunks = [" ".join(words[i : i + window]) for i in range(0, len(words), window)]
    parts = scorer.score(chunks)["toxicity"]
    assert len(chunks) == 4
    assert scorer.score([text], how="max")["toxicity"][0] == pytest.approx(parts.max(), abs=1e-6)
    sizes = np.array([len(c.split()) for c in chunks], dtype=float)
    mean = float((parts * sizes).sum() / sizes.sum())
    assert scorer.score([text], how="mean")["toxicity"][0] == pytest.approx(mean, abs=1e-6)


def test_batch_size_does_not_change_scores(original: tuple[Path, Path]) -> None:
    ckpt, base = original
    texts = [" ".join(WORDS[: i + 1]) for i in range(0, len(WORDS), 3)]
    one = load_scorer("detoxify-original", checkpoint=str(ckpt), tokenizer=str(base), batch_size=1)
    many = load_scorer("detoxify-original", checkpoint=str(ckpt), tokenizer=str(base), batch_size=7)
    np.testing.assert_allclose(
        one.score(texts)["toxicity"], many.score(texts)["toxicity"], atol=1e-5
    )


class _WritesAFile:
    """Unpickling this calls Path.write_text: what a malicious checkpoint could do."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.write_text, (self.target, "code ran"))


def test_pickled_code_is_refused(tmp_path: Path, original: tuple[Path, Path]) -> None:
    ckpt, base = original
    payload = torch.load(ckpt, weights_only=True)
    marker = tmp_path / "marker.txt"
    payload["config"]["callback"] = _WritesAFile(marker)
    bad = tmp_path / "bad.ckpt"
    torch.save(payload, bad)
    with pytest.raises(DataError, match="read safely"):
        load_scorer("detoxify-original", checkpoint=str(bad), tokenizer=str(base))
    assert not marker.exists()


def test_checkpoint_without_the_declared_heads(tmp_path: Path, original: tuple[Path, Path]) -> None:
    ckpt, base = original
    with pytest.raises(DataError, match="no 'sexual_explicit' output"):
        load_scorer("detoxify-unbiased", checkpoint=str(ckpt), tokenizer=str(base))
    scorer = load_scorer(
        "detoxify-unbiased", checkpoint=str(ckpt), tokenizer=str(base), subscores=False
    )
    assert scorer.columns() == ["toxicity"]


def test_max_length_longer_than_the_model_is_an_error(original: tuple[Path, Path]) -> None:
    ckpt, base = original
    with pytest.raises(RecipeError, match="longer than model"):
        load_scorer("detoxify-original", checkpoint=str(ckpt), tokenizer=str(base), max_length=99)


def test_missing_checkpoint_explains_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CURATE_OFFLINE", "1")
    with pytest.raises(MissingDependencyError) as err:
        load_scorer("detoxify-unbiased")
    assert "toxic_debiased-c7548aa0.ckpt" in str(err.value.hint)
    with pytest.raises(MissingDependencyError, match="does not exist"):
        load_scorer("detoxify-original", checkpoint="/nonexistent/model.ckpt")


def test_without_torch_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_torch(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "torch" or name.startswith("torch."):
            raise ImportError("No module named 'torch'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "torch" else real_find_spec(name, *a),
    )
    stage = ScoreToxicity(model="detoxify-original")
    with pytest.raises(MissingDependencyError, match="needs torch") as planned:
        stage.plan({"id": pa.string(), "text": pa.string()})
    assert planned.value.hint == 'pip install "llmos-curate[detoxify]"'
    with pytest.raises(MissingDependencyError) as err:
        next(iter(stage([_batch(["hello"])])))
    assert err.value.hint == 'pip install "llmos-curate[detoxify]"'
