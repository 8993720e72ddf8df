"""score.language with the real lid.176 model from ../shared (skipped when it is absent)."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pytest

from curate.stages import get_stage
from curate.stages.score_language import ScoreLanguage, load_fasttext


def run(stage: ScoreLanguage, texts: list[str | None]) -> pa.RecordBatch:
    batch = pa.record_batch(
        {"id": [str(i) for i in range(len(texts))], "text": pa.array(texts, pa.string())}
    )
    return next(iter(stage([batch])))


def bare(model_path: Path, text: str, k: int = 1) -> list[tuple[float, str]]:
    """What fastText itself answers for one document: one line, newline-terminated."""
    result: list[tuple[float, str]] = load_fasttext(model_path).predict(
        text.replace("\n", " ") + "\n", k, 0.0, "strict"
    )
    return result


def pud(shared_dir: Path) -> tuple[list[str], list[str]]:
    path = shared_dir / "data" / "ud-pud-multilingual" / "pud_sentences.tsv"
    if not path.exists():
        pytest.skip(f"{path} is missing")
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [r["text"] for r in rows], [r["lang"] for r in rows]


def test_registered() -> None:
    assert get_stage("score.language") is ScoreLanguage


@pytest.mark.shared
@pytest.mark.slow
def test_pud_accuracy_equals_the_bare_model(lid_model: Path, shared_dir: Path) -> None:
    texts, gold = pud(shared_dir)
    out = run(ScoreLanguage(model=str(lid_model)), texts)
    langs = out.column("lang").to_pylist()
    scores = out.column("lang_score").to_pylist()
    expected = [bare(lid_model, t)[0] for t in texts]
    assert langs == [label.removeprefix("__label__") for _, label in expected]
    assert scores == pytest.approx([p for p, _ in expected])
    accuracy = sum(a == b for a, b in zip(langs, gold)) / len(gold)
    assert accuracy >= 0.99  # lid.176 on UD PUD (19 languages), see shared/data README


@pytest.mark.shared
def test_top_k_probabilities_are_the_models(lid_model: Path) -> None:
    texts = ["Das ist ein kleiner Test.", "Questo è un piccolo test.", "This is\na test."]
    out = run(ScoreLanguage(model=str(lid_model), top_k=3), texts)
    for text, top in zip(texts, out.column("lang_top").to_pylist()):
        want = bare(lid_model, text, k=3)
        assert [e["lang"] for e in top] == [label.removeprefix("__label__") for _, label in want]
        assert [e["score"] for e in top] == pytest.approx([p for p, _ in want])
        probs = [e["score"] for e in top]
        # the NumPy 2 bug repeats the first probability k times; real ones decrease
        assert probs == sorted(probs, reverse=True) and probs[0] > probs[1]
        assert sum(probs) <= 1.0 + 1e-4
    assert out.column("lang_top").type == pa.list_(
        pa.struct([("lang", pa.string()), ("score", pa.float64())])
    )


@pytest.mark.shared
def test_newlines_are_spaces_and_blank_text_is_null(lid_model: Path) -> None:
    stage = ScoreLanguage(model=str(lid_model))
    out = run(stage, ["Bonjour tout le monde,\nje suis ici.", "", "  \n ", None])
    assert out.column("lang").to_pylist() == ["fr", None, None, None]
    joined = run(stage, ["Bonjour tout le monde, je suis ici."])
    assert out.column("lang_score")[0].as_py() == joined.column("lang_score")[0].as_py()


@pytest.mark.shared
def test_iso639_3_codes_and_script(lid_model: Path) -> None:
    stage = ScoreLanguage(model=str(lid_model), codes="iso639-3", script=True)
    out = run(stage, ["Привет, как дела у тебя сегодня?", "今天天气很好，我们去公园散步吧。"])
    assert out.column("lang").to_pylist() == ["rus", "zho"]
    assert out.column("script").to_pylist() == ["Cyrillic", "Han"]
    assert stage.writes() == ("lang", "lang_score", "script")


@pytest.mark.shared
def test_paragraph_granularity(lid_model: Path) -> None:
    english = "This is a sentence written in plain English for the test."
    german = "Dies ist ein Satz auf Deutsch, der hier nur zum Testen steht."
    text = f"{english}\n\n{english}\n{german}"
    stage = ScoreLanguage(model=str(lid_model), granularity="paragraph", top_k=2)
    out = run(stage, [text, english, ""]).to_pylist()
    share_de = len(german) / (2 * len(english) + len(german))
    assert out[0]["lang"] == "en"
    assert out[0]["lang_mixed"] == pytest.approx(share_de)
    assert [e["lang"] for e in out[0]["lang_top"]] == ["en", "de"]
    assert out[0]["lang_top"][1]["score"] == pytest.approx(share_de)
    assert out[0]["lang_score"] == pytest.approx(bare(lid_model, english)[0][0])
    assert out[1]["lang_mixed"] == 0.0
    assert out[2]["lang"] is None and out[2]["lang_mixed"] is None


@pytest.mark.shared
def test_model_versions_names_the_asset(lid_model: Path) -> None:
    versions = ScoreLanguage(model=str(lid_model)).model_versions()
    assert versions == {
        "lid.176": "8f3472cfe8738a7b6099e8e999c3cbfae0dcd15696aac7d7738a8039db603e83"
    }


@pytest.mark.shared
def test_model_resolved_from_environment(lid_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CURATE_LID_MODEL", str(lid_model))
    out = run(ScoreLanguage(), ["Hola, ¿cómo estás hoy, amigo mío?"])
    assert out.column("lang").to_pylist() == ["es"]


def test_stage_pickles_without_a_model() -> None:
    import pickle

    stage = ScoreLanguage(model="/nowhere/lid.176.ftz", top_k=2)
    assert pickle.loads(pickle.dumps(stage)) == stage


@pytest.mark.shared
@pytest.mark.parametrize("kind", [pa.string(), pa.large_string(), pa.string_view()])
def test_every_arrow_string_type(lid_model: Path, kind: pa.DataType) -> None:
    texts = pa.array(["Ceci est une phrase en français.", None], kind)
    batch = pa.record_batch({"id": ["a", "b"], "text": texts})
    for stage in (
        ScoreLanguage(model=str(lid_model), top_k=2, script=True),
        ScoreLanguage(model=str(lid_model), granularity="paragraph"),
    ):
        assert stage.process(batch).column("lang").to_pylist() == ["fr", None]
        empty = pa.record_batch({"id": pa.array([], pa.string()), "text": pa.array([], kind)})
        assert stage.process(empty).num_rows == 0
