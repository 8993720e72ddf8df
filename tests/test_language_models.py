"""score.language: sampled long texts (max_chars) and models of other label formats.

The label-format tests train two tiny fastText models in the test, on the same UD PUD sentences,
one labelled like lid.176 (``__label__en``) and one like GlotLID / OpenLID (``__label__eng_Latn``).
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pyarrow as pa
import pytest

from curate.errors import RecipeError
from curate.lang.iso import ISO639_1_TO_3
from curate.stages.score_language import ScoreLanguage, load_fasttext

# The ISO 15924 script of each UD PUD language, for the GlotLID-style labels.
PUD_SCRIPTS = {"ar": "Arab", "hi": "Deva", "ko": "Hang", "ru": "Cyrl", "th": "Thai", "zh": "Hani"}


def run(stage: ScoreLanguage, texts: list[str | None]) -> pa.RecordBatch:
    batch = pa.record_batch(
        {"id": [str(i) for i in range(len(texts))], "text": pa.array(texts, pa.string())}
    )
    return next(iter(stage([batch])))


def whole(model_path: Path, text: str) -> tuple[float, str]:
    """fastText's own answer for the whole text as one line."""
    best: tuple[float, str] = load_fasttext(model_path).predict(
        text.replace("\n", " ") + "\n", 1, 0.0, "strict"
    )[0]
    return best


def pud_rows(shared_dir: Path) -> list[dict[str, str]]:
    path = shared_dir / "data" / "ud-pud-multilingual" / "pud_sentences.tsv"
    if not path.exists():
        pytest.skip(f"{path} is missing")
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def documents(rows: list[dict[str, str]], per_lang: int, seed: int = 0) -> list[tuple[str, str]]:
    """(gold language, text) of documents of 8 to 20 sentences of one language each."""
    rng = random.Random(seed)
    by_lang: dict[str, list[str]] = {}
    for r in rows:
        by_lang.setdefault(r["lang"], []).append(r["text"])
    return [
        (lang, " ".join(rng.sample(sents, rng.randint(8, 20))))
        for lang, sents in sorted(by_lang.items())
        for _ in range(per_lang)
    ]


@pytest.mark.shared
def test_short_texts_get_the_whole_text_answer(lid_model: Path) -> None:
    texts = ["Das ist ein kurzer Satz.", "x" * 499 + " ok", "Questo è un test."]
    out = run(ScoreLanguage(model=str(lid_model), max_chars=500), texts).to_pylist()
    for row, text in zip(out, texts):
        score, label = whole(lid_model, text)
        assert (row["lang"], row["lang_score"]) == (label.removeprefix("__label__"), score)


@pytest.mark.shared
def test_no_max_chars_reads_whole_documents(lid_model: Path, shared_dir: Path) -> None:
    docs = documents(pud_rows(shared_dir), per_lang=3)
    out = run(ScoreLanguage(model=str(lid_model), max_chars=None), [t for _, t in docs])
    expected = [whole(lid_model, t) for _, t in docs]
    assert out.column("lang_score").to_pylist() == [p for p, _ in expected]


@pytest.mark.shared
@pytest.mark.parametrize("sample", ["windows", "prefix"])
def test_a_sample_reads_what_it_says(lid_model: Path, sample: str) -> None:
    head, middle, tail = "Hier steht ein Satz auf Deutsch. " * 5, "x" * 600, " Fin du texte." * 10
    text = head + middle + tail
    stage = ScoreLanguage(model=str(lid_model), max_chars=90, sample=sample, recheck_below=0)
    got = run(stage, [text]).column("lang_score")[0].as_py()
    if sample == "prefix":
        seen = text[:90]
    else:
        step = (len(text) - 30) / 2
        seen = " ".join(text[int(i * step) : int(i * step) + 30] for i in range(3))
    assert got == whole(lid_model, seen)[0]


@pytest.mark.shared
def test_an_unsure_sample_is_decided_by_the_whole_text(lid_model: Path) -> None:
    text = "zzkq vvbw " * 10 + "This is plainly an English sentence about the weather. " * 10
    sampled = ScoreLanguage(model=str(lid_model), max_chars=60, sample="prefix", recheck_below=0)
    assert run(sampled, [text]).column("lang_score")[0].as_py() < 0.99
    rechecked = sampled.model_copy(update={"recheck_below": 0.99})
    out = run(rechecked, [text]).to_pylist()[0]
    assert (out["lang"], out["lang_score"]) == ("en", whole(lid_model, text)[0])


@pytest.mark.shared
@pytest.mark.slow
def test_default_agrees_with_whole_documents(lid_model: Path, shared_dir: Path) -> None:
    docs = documents(pud_rows(shared_dir), per_lang=60)
    texts = [t for _, t in docs]
    out = run(ScoreLanguage(model=str(lid_model)), texts)
    full = [whole(lid_model, t) for t in texts]
    langs, scores = out.column("lang").to_pylist(), out.column("lang_score").to_pylist()
    disagree = sum(a != b.removeprefix("__label__") for a, (_, b) in zip(langs, full))
    assert disagree / len(texts) < 0.005
    assert sum(abs(a - p) for a, (p, _) in zip(scores, full)) / len(texts) <= 0.02
    assert sum(a == g for a, (g, _) in zip(langs, docs)) / len(docs) >= 0.99


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory, shared_dir: Path) -> dict[str, Path]:
    """Two small fastText LID models trained on the same sentences, in both label formats."""
    fasttext = pytest.importorskip("fasttext")
    rows = pud_rows(shared_dir)
    train = [r for i, r in enumerate(rows) if i % 10 != 0]
    root = tmp_path_factory.mktemp("lid")
    paths = {}
    for fmt in ("lid176", "glotlid"):
        data = root / f"{fmt}.txt"
        with data.open("w", encoding="utf-8") as fh:
            for r in train:
                lang = r["lang"]
                if fmt == "glotlid":
                    lang = f"{ISO639_1_TO_3[lang]}_{PUD_SCRIPTS.get(lang, 'Latn')}"
                fh.write(f"__label__{lang} {r['text'].replace(chr(10), ' ')}\n")
        options = {"dim": 16, "epoch": 20, "lr": 0.5, "minn": 2, "maxn": 3, "bucket": 50_000}
        model = fasttext.train_supervised(input=str(data), thread=1, seed=1, verbose=0, **options)
        paths[fmt] = root / f"{fmt}.ftz"
        model.save_model(str(paths[fmt]))
    return paths


@pytest.mark.shared
def test_both_label_formats_give_the_same_lang(
    tiny_models: dict[str, Path], shared_dir: Path
) -> None:
    rows = [r for i, r in enumerate(pud_rows(shared_dir)) if i % 10 == 0]
    texts, gold = [r["text"] for r in rows], [r["lang"] for r in rows]
    plain = run(ScoreLanguage(model=str(tiny_models["lid176"])), texts)
    scripted = run(ScoreLanguage(model=str(tiny_models["glotlid"]), lang_script=True), texts)
    for out in (plain, scripted):
        accuracy = sum(a == b for a, b in zip(out.column("lang").to_pylist(), gold)) / len(gold)
        assert accuracy >= 0.95  # held-out sentences; the two models differ only in labels
    langs = scripted.column("lang").to_pylist()
    assert set(langs) <= set(gold)
    assert scripted.column("lang_script").to_pylist() == [
        PUD_SCRIPTS.get(lang, "Latn") for lang in langs
    ]
    three = ScoreLanguage(model=str(tiny_models["glotlid"]), codes="iso639-3")
    assert run(three, ["Это предложение на русском языке."]).column("lang").to_pylist() == ["rus"]


@pytest.mark.shared
def test_lang_script_in_paragraphs(tiny_models: dict[str, Path]) -> None:
    stage = ScoreLanguage(
        model=str(tiny_models["glotlid"]), granularity="paragraph", lang_script=True
    )
    text = "Это предложение на русском языке, и оно длинное.\nOk."
    out = run(stage, [text, None]).to_pylist()
    assert (out[0]["lang"], out[0]["lang_script"]) == ("ru", "Cyrl")
    assert out[1]["lang_script"] is None
    assert stage.writes() == ("lang", "lang_score", "lang_mixed", "lang_script")


@pytest.mark.shared
def test_lang_script_needs_scripts_in_the_labels(lid_model: Path) -> None:
    with pytest.raises(RecipeError, match="carry no script") as err:
        run(ScoreLanguage(model=str(lid_model), lang_script=True), ["Hello there, my friend."])
    assert "GlotLID" in (err.value.hint or "")


@pytest.mark.shared
def test_model_by_asset_name(lid_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CURATE_LID_MODEL", str(lid_model))
    stage = ScoreLanguage(model="lid.176")
    assert stage.model_path() == lid_model
    assert run(stage, ["Hola, ¿cómo estás hoy, amigo mío?"]).column("lang").to_pylist() == ["es"]
    assert list(stage.model_versions()) == ["lid.176"]
