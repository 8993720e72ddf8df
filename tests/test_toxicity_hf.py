"""``hf:PATH`` models: a tiny random text classifier saved with save_pretrained."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from curate.errors import MissingDependencyError, RecipeError
from curate.stages.score_toxicity import ScoreToxicity
from curate.toxicity import load_scorer

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "you", "are", "nice", "bad", "hello", "ok"]


def _save(folder: Path, labels: list[str], problem_type: str | None = None) -> Path:
    tokenizer = transformers.BertTokenizer(vocab={w: i for i, w in enumerate(WORDS)})
    tokenizer.save_pretrained(folder)
    config = transformers.BertConfig(
        vocab_size=len(WORDS),
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        max_position_embeddings=16,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={n: i for i, n in enumerate(labels)},
        problem_type=problem_type,
    )
    torch.manual_seed(1)
    model = transformers.BertForSequenceClassification(config)
    with torch.no_grad():
        model.classifier.weight.normal_(0.0, 3.0)
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _save(tmp_path_factory.mktemp("hf-binary"), ["neutral", "toxic"])


def _reference(folder: Path, texts: list[str]) -> np.ndarray:
    model = transformers.AutoModelForSequenceClassification.from_pretrained(folder).eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    with torch.no_grad():
        logits = model(**tokenizer(texts, padding=True, return_tensors="pt")).logits
    return logits.numpy()


def test_softmax_probability_of_the_named_label(binary: Path) -> None:
    texts = ["you are nice", "you are bad bad", "hello"]
    scores = load_scorer(f"hf:{binary}", label="TOXIC").score(texts)["toxicity"]
    expected = torch.softmax(torch.tensor(_reference(binary, texts)), dim=1)[:, 1].numpy()
    np.testing.assert_allclose(scores, expected, atol=1e-5)


def test_multi_label_models_use_a_sigmoid(tmp_path: Path) -> None:
    folder = _save(tmp_path, ["toxic", "insult", "threat"], "multi_label_classification")
    texts = ["you are bad", "ok"]
    scores = load_scorer(f"hf:{folder}", label="threat").score(texts)["toxicity"]
    expected = 1.0 / (1.0 + np.exp(-_reference(folder, texts)[:, 2]))
    np.testing.assert_allclose(scores, expected, atol=1e-5)


def test_stage_with_long_text_and_nulls(binary: Path) -> None:
    stage = ScoreToxicity(model=f"hf:{binary}", label="toxic", max_length=8, aggregate="mean")
    assert stage.writes() == ("toxicity", "toxicity_supported")
    texts: list[str | None] = ["you are nice " * 20, None, "bad"]
    batch = pa.record_batch({"id": ["1", "2", "3"], "text": pa.array(texts, pa.string())})
    out = next(iter(stage([batch])))
    values = out.column("toxicity").to_pylist()
    assert values[1] is None and all(0 <= v <= 1 for v in (values[0], values[2]))


def test_unknown_label_lists_the_labels(binary: Path) -> None:
    with pytest.raises(RecipeError, match="neutral, toxic"):
        load_scorer(f"hf:{binary}", label="hate")


def test_missing_model_folder(tmp_path: Path) -> None:
    with pytest.raises(MissingDependencyError, match="cannot load"):
        load_scorer(f"hf:{tmp_path / 'absent'}", label="toxic")
