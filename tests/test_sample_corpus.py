"""The sample corpus in recipes/sample: rebuilt byte for byte, and its answer key holds."""

from __future__ import annotations

import doctest
import importlib.util
import json
import random
import re
import subprocess
import sys
import unicodedata
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from curate.stages.normalize import Normalize

SAMPLE = Path(__file__).resolve().parent.parent / "recipes" / "sample"
CORPUS = SAMPLE / "web-sample.jsonl"
MANIFEST = SAMPLE / "manifest.json"
LANGS = {"en", "de", "fr", "es", "zh", "ru", "ar", "hi", "ja"}

#: Words that name each group in English (``_`` joins a phrase). "black", "white" and "blind" have
#: other senses too ("black pepper", "white wine", "blind spot"), so for them only the labelled ->
#: word direction is checked.
KEYWORDS = {
    "gender/female": "woman women she her hers herself girl girls mother mum mom daughter "
    "daughters sister sisters wife grandmother grandma aunt niece lady ladies widow girlfriend",
    "gender/male": "man men he him his himself boy boys father dad son sons brother brothers "
    "husband grandfather grandpa uncle nephew widower boyfriend",
    "sexual_orientation/gay": "gay",
    "sexual_orientation/lesbian": "lesbian lesbians",
    "sexual_orientation/bisexual": "bisexual",
    "gender_identity/transgender": "transgender trans",
    "gender_identity/nonbinary": "non-binary nonbinary",
    "religion/muslim": "muslim muslims islam islamic mosque mosques eid imam ramadan",
    "religion/christian": "christian christians church churches catholic catholics",
    "religion/jewish": "jewish jews judaism synagogue hanukkah",
    "religion/hindu": "hindu hindus hinduism diwali",
    "religion/buddhist": "buddhist buddhists buddhism buddha",
    "religion/atheist": "atheist atheists atheism",
    "religion/sikh": "sikh sikhs",
    "race/black": "black",
    "race/white": "white",
    "race/asian": "asian",
    "race/latino": "latino latina latinos hispanic",
    "nationality/mexican": "mexican mexicans",
    "nationality/chinese": "chinese",
    "nationality/german": "german germans",
    "nationality/indian": "indian indians",
    "nationality/nigerian": "nigerian nigerians",
    "nationality/syrian": "syrian syrians",
    "nationality/moroccan": "moroccan moroccans",
    "disability/blind": "blind",
    "disability/deaf": "deaf",
    "disability/wheelchair_user": "wheelchair wheelchairs",
    "disability/autistic": "autistic autism",
    "age/elderly": "elderly pensioners retirees seniors older_people",
    "age/teenager": "teenager teenagers teenage teen teens adolescent adolescents",
}
AMBIGUOUS = {"race/black", "race/white", "disability/blind"}
SCRIPTS = {
    "zh": r"[\u4e00-\u9fff]",
    "ja": r"[\u3040-\u30ff]",
    "ru": r"[\u0400-\u04ff]",
    "ar": r"[\u0600-\u06ff]",
    "hi": r"[\u0900-\u097f]",
}


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    with CORPUS.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="module")
def docs() -> list[dict[str, Any]]:
    manifest: list[dict[str, Any]] = json.loads(MANIFEST.read_text(encoding="utf-8"))["docs"]
    return manifest


def _load(name: str) -> ModuleType:
    """A module of the standalone sample builder, imported under a name of its own."""
    spec = importlib.util.spec_from_file_location(f"_sample_{name}", SAMPLE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


VARIANTS = _load("variants")


def _copies(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def _shingles(text: str, lang: str) -> set[tuple[str, ...]]:
    if lang in ("zh", "ja"):
        toks = [c for c in text.lower() if c.isalnum()]
    else:
        toks = re.findall(r"\w+", text.lower())
    return {tuple(toks[i : i + 5]) for i in range(max(1, len(toks) - 4))}


def _luhn(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()][::-1]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits))
    return total % 10 == 0


def test_committed_files_are_what_the_script_builds(tmp_path: Path) -> None:
    script = SAMPLE / "build_sample.py"
    subprocess.run([sys.executable, str(script), "--out-dir", str(tmp_path)], check=True)
    for committed in (CORPUS, MANIFEST):
        assert (tmp_path / committed.name).read_bytes() == committed.read_bytes(), (
            f"{committed} is stale: run python {script.relative_to(SAMPLE.parent.parent)}"
        )


def test_rows_are_url_source_text_records(rows: list[dict[str, Any]]) -> None:
    assert 280 <= len(rows) <= 400
    for row in rows:
        assert set(row) == {"url", "source", "text"}
        assert all(isinstance(v, str) and v for v in row.values())
        host = row["url"].split("/")[2]
        assert re.fullmatch(r"([a-z]+\.)*example\.(com|org|net)", host), row["url"]
    assert len({r["url"] for r in rows}) == len(rows)


def test_manifest_describes_every_row(
    rows: list[dict[str, Any]], docs: list[dict[str, Any]]
) -> None:
    assert [d["index"] for d in docs] == list(range(len(rows)))
    assert [d["url"] for d in docs] == [r["url"] for r in rows]
    assert [d["source"] for d in docs] == [r["source"] for r in rows]
    for d in docs:
        original = d["copy_of"]
        assert (original is None) == (d["kind"] == "original")
        if original is not None:
            assert docs[original]["kind"] == "original"


def test_language_mix(rows: list[dict[str, Any]], docs: list[dict[str, Any]]) -> None:
    langs = Counter(d["lang"] for d in docs)
    assert set(langs) >= LANGS
    assert 0.55 <= langs["en"] / len(docs) <= 0.68
    assert all(langs[lang] >= 8 for lang in LANGS)
    assert sum(1 for d in docs if len(d["langs"]) == 2 and d["kind"] == "original") >= 4
    for d, row in zip(docs, rows):
        for lang in d["langs"]:
            if lang in SCRIPTS:
                assert re.search(SCRIPTS[lang], row["text"]), (d["url"], lang)
        if d["langs"] == ["zh"]:
            assert not re.search(SCRIPTS["ja"], row["text"]), d["url"]


def test_exact_copies(rows: list[dict[str, Any]], docs: list[dict[str, Any]]) -> None:
    copies = _copies(docs, "exact")
    assert len(copies) >= 25
    kinds = Counter(d["variation"][0] for d in copies)
    assert kinds["identical"] >= 10 and kinds["case"] >= 5 and kinds["whitespace"] >= 5
    for d in copies:
        text, original = rows[d["index"]]["text"], rows[d["copy_of"]]["text"]
        variation = d["variation"][0]
        if variation == "identical":
            assert text == original
        elif variation == "case":
            assert text != original and text.lower() == original.lower()
        else:
            assert text != original and text.split() == original.split()


def test_near_copies(rows: list[dict[str, Any]], docs: list[dict[str, Any]]) -> None:
    copies = _copies(docs, "near")
    assert len(copies) >= 40
    assert max(Counter(d["copy_of"] for d in copies).values()) >= 4, "a syndicated cluster"
    edits = {e for d in copies for e in d["variation"]}
    assert edits >= {"header_added", "footer_added", "sentence_added", "sentence_removed"}
    assert edits >= {"typos", "american_spelling", "number_changed"}
    for d in copies:
        text, original = rows[d["index"]]["text"], rows[d["copy_of"]]["text"]
        assert " ".join(text.lower().split()) != " ".join(original.lower().split())
        a, b = _shingles(text, d["lang"]), _shingles(original, d["lang"])
        assert d["jaccard"] == pytest.approx(len(a & b) / len(a | b), abs=1e-4)
        assert 0.5 <= d["jaccard"] < 1


def test_normalize_repairs_encoding_copies(
    rows: list[dict[str, Any]], docs: list[dict[str, Any]]
) -> None:
    copies = _copies(docs, "encoding")
    assert Counter(d["variation"][0] for d in copies) == {"mojibake": 5, "nfd": 3}
    damaged = [d for d in docs if "mojibake" in d["damage"]]
    texts = [rows[d["index"]]["text"] for d in copies + damaged]
    originals = [rows[d["copy_of"]]["text"] for d in copies]
    batch = pa.record_batch({"id": [str(i) for i in range(len(texts))], "text": texts})
    fixed = (
        next(iter(Normalize(form="NFC", fix_mojibake=True, whitespace=True)([batch])))
        .column("text")
        .to_pylist()
    )
    expected = [unicodedata.normalize("NFC", t) for t in originals]
    assert fixed[: len(copies)] == expected
    assert damaged and all("Ã" in t for t in texts[len(copies) :])
    assert not any("Ã" in t for t in fixed[len(copies) :])


def test_planted_personal_data(rows: list[dict[str, Any]], docs: list[dict[str, Any]]) -> None:
    planted = [d for d in docs if d["pii"]]
    assert sum(1 for d in planted if d["kind"] == "original") >= 6
    types = {p["type"] for d in planted for p in d["pii"]}
    assert types == {"email", "phone", "ip", "card"}
    for d in planted + [d for d in docs if d["near_misses"]]:
        text = rows[d["index"]]["text"]
        assert d["pii_count"] == len(d["pii"])
        for value, n in Counter(p["value"] for p in d["pii"]).items():
            assert text.count(value) == n, (d["url"], value)
        for near in d["near_misses"]:
            assert near["value"] in text
    for d in planted:
        for p in d["pii"]:
            if p["type"] == "email":
                assert re.fullmatch(r"[\w.]+@([\w]+\.)?example\.(com|org|net)", p["value"])
            if p["type"] == "ip":
                assert p["value"].startswith(("192.0.2.", "198.51.100.", "203.0.113."))
            if p["type"] == "card":
                assert _luhn(p["value"]), p["value"]
    failing = [n["value"] for d in docs for n in d["near_misses"] if n["type"].startswith("card")]
    assert any(len(v.replace(" ", "")) == 16 and not _luhn(v) for v in failing)


def test_offensive_documents(docs: list[dict[str, Any]]) -> None:
    offensive = [d for d in docs if d["offensive"]]
    assert 0.05 <= len(offensive) / len(docs) <= 0.08
    assert len({d["lang"] for d in offensive}) >= 6
    hostile = {d["index"] for d in offensive if d["identities"] and d["kind"] == "original"}
    assert len(hostile) >= 4, "hostile remarks about groups"


def test_identity_axes(docs: list[dict[str, Any]]) -> None:
    groups = Counter(g for d in docs for g in d["identities"])
    assert {g.split("/")[0] for g in groups} == {
        "gender",
        "sexual_orientation",
        "gender_identity",
        "religion",
        "race",
        "nationality",
        "disability",
        "age",
    }
    assert set(KEYWORDS) - {"religion/sikh"} <= set(groups)
    assert 0.3 <= sum(1 for d in docs if d["identities"]) / len(docs) <= 0.6


def test_english_identity_labels_match_their_words(
    rows: list[dict[str, Any]], docs: list[dict[str, Any]]
) -> None:
    patterns = {
        group: re.compile(
            r"\b(?:" + "|".join(w.replace("_", " ") for w in words.split()) + r")\b", re.I
        )
        for group, words in KEYWORDS.items()
    }
    for d in docs:
        if d["langs"] != ["en"] or d["kind"] != "original":
            continue
        text = rows[d["index"]]["text"]
        found = {group for group, pattern in patterns.items() if pattern.search(text)}
        labelled = set(d["identities"])
        assert labelled <= found, (d["url"], labelled - found)
        assert found - AMBIGUOUS <= labelled, (d["url"], found - AMBIGUOUS - labelled)


def test_low_quality_pages(docs: list[dict[str, Any]]) -> None:
    kinds = {d["quality"] for d in docs} - {"ok"}
    assert kinds >= {
        "list_only",
        "lorem_ipsum",
        "javascript_required",
        "cookie_policy",
        "too_short",
        "repetitive",
        "navigation",
    }


def test_boilerplate_paragraphs_repeat(rows: list[dict[str, Any]]) -> None:
    boilerplate = json.loads(MANIFEST.read_text(encoding="utf-8"))["boilerplate"]
    for name, paragraph in boilerplate.items():
        pages = {r["url"].split("?")[0] for r in rows if paragraph in r["text"].split("\n\n")}
        assert len(pages) >= 3, name


def test_damaged_originals(rows: list[dict[str, Any]], docs: list[dict[str, Any]]) -> None:
    damaged = Counter(k for d in docs if d["kind"] == "original" for k in d["damage"])
    assert damaged["mojibake"] >= 2 and damaged["whitespace"] >= 3
    for d in docs:
        if "whitespace" in d["damage"]:
            text = rows[d["index"]]["text"]
            assert re.search(r"\t|  | \n|\n\n\n", text), d["url"]


@pytest.mark.shared
def test_fasttext_agrees_with_the_declared_languages(
    rows: list[dict[str, Any]], docs: list[dict[str, Any]], lid_model: Path
) -> None:
    fasttext = pytest.importorskip("fasttext")
    model = fasttext.load_model(str(lid_model))
    wrong = []
    for d in docs:
        if d["kind"] == "encoding" or len(d["langs"]) > 1 or d["quality"] != "ok" or d["damage"]:
            continue
        text = rows[d["index"]]["text"]
        # fasttext-wheel's predict() breaks on NumPy 2; the low-level call does not.
        (_, label), *_ = model.f.predict(text.replace("\n", " ") + "\n", 1, 0.0, "strict")
        if label.removeprefix("__label__") != d["lang"]:
            wrong.append((d["url"], d["lang"], label))
    assert not wrong


@pytest.mark.parametrize("name", ["document", "variants"])
def test_builder_doctests(name: str) -> None:
    result = doctest.testmod(_load(name))
    assert result.attempted and not result.failed


@given(st.text(alphabet=st.sampled_from("ab Éß\n\t.,;7"), max_size=60), st.integers(0, 2**32))
def test_copy_edits_keep_what_they_promise(text: str, seed: int) -> None:
    rng = random.Random(seed)
    noisy, edits = VARIANTS.irregular_whitespace(text, rng)
    assert noisy.split() == text.split() and edits
    cased = VARIANTS.case_variant(text, rng)
    if cased is not None:
        assert cased[0] != text and cased[0].lower() == text.lower()
    for edit in VARIANTS.ADDITIVE:
        assert text in VARIANTS.near_copy_edit(edit, text, "en", rng)
