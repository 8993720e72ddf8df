"""``decontaminate``: benchmark items planted in book paragraphs are found, clean text is kept.

The evaluation set is CrowS-Pairs (``../shared/data/crows-pairs``, CC BY-SA 4.0), the corpus is
paragraphs of the Project Gutenberg books in ``../shared/bench/sources``; both are read from
``../shared`` and written to a temporary folder in the forms a user would have them.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from curate import schema
from curate.decontam.index import NgramIndex
from curate.decontam.ngrams import STEPS, split_words
from curate.dedup.textnorm import normalize_texts
from curate.errors import DataError
from curate.ledger import read_ledger
from curate.recipe import parse_recipe
from curate.stages.decontaminate import Decontaminate


def book_paragraphs(shared: Path, words: int = 300) -> list[str]:
    """Windows of about ``words`` words of running book text."""
    out: list[str] = []
    for path in sorted((shared / "bench" / "sources").glob("*.txt")):
        tokens = re.sub(r"\s+", " ", path.read_text(encoding="utf-8", errors="replace")).split()
        out.extend(" ".join(tokens[i : i + words]) for i in range(0, len(tokens) - words, words))
    return out


@pytest.fixture(scope="module")
def crows(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    table = pacsv.read_csv(shared_dir / "data" / "crows-pairs" / "crows_pairs_anonymized.csv")
    rows = [
        {"id": f"crows-{i}", "sent_more": more, "sent_less": less}
        for i, (more, less) in enumerate(
            zip(table.column("sent_more").to_pylist(), table.column("sent_less").to_pylist())
        )
    ]
    path = tmp_path_factory.mktemp("eval") / "crows-pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path, rows


def plant(paragraph: str, item: str, rng: random.Random) -> str:
    words = paragraph.split()
    at = rng.randrange(len(words))
    return " ".join([*words[:at], item, *words[at:]])


def light_edit(item: str, rng: random.Random) -> str:
    """Change case and punctuation, and drop one word near an end: what copying does."""
    words = item.split()
    drop = rng.choice([0, len(words) - 1])
    words = [w for i, w in enumerate(words) if i != drop]
    return " ".join(words).upper().replace(",", " ;")


@pytest.mark.shared
@pytest.mark.slow
def test_planted_items_found_and_clean_books_kept(
    shared_dir: Path, crows: tuple[Path, list[dict]]
) -> None:
    path, rows = crows
    rng = random.Random(7)
    clean = book_paragraphs(shared_dir, words=150)
    hosts = clean
    stage = Decontaminate(against=[str(path)], fields=["sent_more", "sent_less"])
    verbatim_items = rng.sample(rows, 600)
    edited_items = rng.sample(rows, 600)
    planted = [plant(rng.choice(hosts), r["sent_more"], rng) for r in verbatim_items]
    edited = [plant(rng.choice(hosts), light_edit(r["sent_less"], rng), rng) for r in edited_items]
    texts = clean + planted + edited
    batch = pa.record_batch({schema.ID: [str(i) for i in range(len(texts))], schema.TEXT: texts})
    out = next(iter(stage([batch])))
    flagged = np.array(out.column(schema.REASON).is_valid().to_pylist())
    n_clean, n_planted = len(clean), len(planted)
    long_enough = np.array(
        [split_words(pa.array([r["sent_more"]])).counts[0] >= 8 for r in verbatim_items]
    )
    # Items under min_words (8) are skipped by design; every other verbatim plant is found.
    recall = flagged[n_clean : n_clean + n_planted][long_enough].mean()
    false_positive = flagged[:n_clean].mean()
    # An edit breaks whole-item matches; items of 14+ words keep an untouched 13-gram.
    survives = np.array(
        [split_words(pa.array([r["sent_less"]])).counts[0] >= 14 for r in edited_items]
    )
    edited_recall = flagged[n_clean + n_planted :][survives].mean()
    assert len(clean) > 2000
    assert recall >= 0.99, recall
    assert 1 - false_positive >= 0.999, false_positive
    assert edited_recall >= 0.99, edited_recall
    details = [d for d in out.column(schema.DETAIL).to_pylist() if d]
    assert all(d.startswith("set=crows-pairs.jsonl item=crows-") for d in details)


def test_short_items_matched_whole_and_tiny_ones_skipped() -> None:
    index = NgramIndex(n=13, min_words=3)
    index.add("s", ["a", "b"], [pa.array(["The quick brown fox jumps", "No way"])])
    index.finish()
    assert index.items == {"s": 1} and index.skipped == {"s": 1}
    found = index.match(
        pa.array(["he saw the quick brown fox jumps over", "the quick brown dog", "no way"])
    )
    assert found.counts.tolist() == [1, 0, 0]
    assert found.first[0] == ("s", "a", "the quick brown fox jumps")


def test_min_matches_counts_distinct_ngrams() -> None:
    index = NgramIndex(n=3, min_words=3)
    index.add("s", ["a"], [pa.array(["one two three four"])])
    index.finish()
    # "one two three" twice is one distinct n-gram; with "two three four" it is two.
    found = index.match(pa.array(["one two three and one two three", "one two three four"]))
    assert found.counts.tolist() == [1, 2]
    assert found.sets == {0: ["s"], 1: ["s"]}


def test_list_fields_index_every_choice() -> None:
    index = NgramIndex(n=3, min_words=3)
    choices = pa.array([["red green blue", "cyan magenta yellow"]], pa.list_(pa.string()))
    index.add("mc", ["q"], [choices])
    index.finish()
    assert index.match(pa.array(["print cyan magenta yellow ink"])).counts.tolist() == [1]


def test_annotate_keeps_every_row(tmp_path: Path) -> None:
    (tmp_path / "eval.jsonl").write_text(json.dumps({"text": "alpha beta gamma delta"}) + "\n")
    stage = Decontaminate(against=[str(tmp_path / "eval.jsonl")], n=3, action="annotate")
    b = pa.record_batch({schema.ID: ["1", "2"], schema.TEXT: ["x alpha beta gamma", "y"]})
    out = next(iter(stage([b])))
    assert schema.REASON not in out.schema.names
    assert out.column("contamination_matches").to_pylist() == [1, 0]
    assert out.column("contaminated_by").to_pylist() == [["eval.jsonl"], []]


def test_missing_field_names_the_set_and_columns(tmp_path: Path) -> None:
    (tmp_path / "eval.jsonl").write_text(json.dumps({"question": "q", "answer": "a"}) + "\n")
    stage = Decontaminate(
        against=[{"path": str(tmp_path / "eval.jsonl"), "fields": ["question", "choices"]}]
    )
    b = pa.record_batch({schema.ID: ["1"], schema.TEXT: ["x"]})
    with pytest.raises(DataError, match=r"has no field 'choices'.*answer"):
        next(iter(stage([b])))


def test_min_words_is_capped_at_n(tmp_path: Path) -> None:
    (tmp_path / "eval.jsonl").write_text(json.dumps({"text": "one two three"}) + "\n")
    stage = Decontaminate(against=[str(tmp_path / "eval.jsonl")], n=3)
    assert stage.index.items == {"eval.jsonl": 1}


def test_run_removes_to_ledger_with_detail(tmp_path: Path) -> None:
    item = "what is the boiling point of water at sea level in degrees celsius today"
    (tmp_path / "eval.jsonl").write_text(json.dumps({"id": "bp", "q": item}) + "\n")
    docs = [{"text": f"Question: {item.upper()}? Answer: 100."}, {"text": "Water boils."}]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    recipe = parse_recipe(
        {
            "name": "decon",
            "input": {"path": str(tmp_path / "in.jsonl")},
            "stages": [
                {
                    "use": "decontaminate",
                    "with": {"against": [str(tmp_path / "eval.jsonl")], "fields": ["q"]},
                }
            ],
            "output": {"path": str(tmp_path / "out")},
        }
    )
    from curate.executor.run import run_recipe

    report = run_recipe(recipe)
    assert report["rows_out"] == 1
    assert report["stages"][0]["removed_by_reason"] == {"contaminated": 1}
    ledger = read_ledger(tmp_path / "out")
    assert ledger["reason"].to_list() == ["contaminated"]
    assert ledger["detail"][0] == (
        'set=eval.jsonl item=bp ngram="what is the boiling point of water at sea level in '
        'degrees celsius" matches=2'
    )
    kept = pq.read_table(next((tmp_path / "out" / "data").glob("*.parquet")))
    assert kept.column("contamination_matches").to_pylist() == [0]
    card = (tmp_path / "out" / "README.md").read_text()
    assert "### Decontamination" in card
    assert "| eval.jsonl | 1 |" in card


@given(st.lists(st.text(max_size=40), max_size=8))
def test_words_equal_normalised_text_split(texts: list[str]) -> None:
    words = split_words(pa.array(texts, pa.string()))
    normalised = normalize_texts(pa.array(texts, pa.string()), STEPS).to_pylist()
    expected = [t.split(" ") if t else [] for t in normalised]
    assert words.counts.tolist() == [len(e) for e in expected]
    assert words.tokens() == [w for e in expected for w in e]


def test_words_beyond_ascii_equal_normalised_text_split() -> None:
    """The compiled word pass against NFKC + lower case + split on fixed hard cases: combining
    accents, full-width forms, special lower-casing, astral characters, and characters newer
    than Python's Unicode database (U+209D, U+1E030), which Arrow's NFKC changes."""
    texts = [
        "x\u209d y\u209e",
        "\U0001e030abc ok",
        "e\u0301t\u00e9 cafe\u0301",
        "\uff26\uff35\uff2c\uff2c\u3000\uff37\uff29\uff24\uff34\uff28",
        "Stra\u00dfe \u0130stanbul \u03a3\u0391\u03a3",
        "\U0001f600 emoji\U0001f642text \U0001d49c\U0001d4b7",
        "\u2160 \ufb01ne \u00bd",
        "plain ascii, LAST",
    ]
    words = split_words(pa.array(texts, pa.string()))
    normalised = normalize_texts(pa.array(texts, pa.string()), STEPS).to_pylist()
    expected = [t.split(" ") if t else [] for t in normalised]
    assert words.counts.tolist() == [len(e) for e in expected]
    assert words.tokens() == [w for e in expected for w in e]
    for row, e in enumerate(expected):
        start = int(words.offsets[row])
        assert words.text_of(start, len(e)) == " ".join(e)


def test_audit_composition_reports_decontamination(tmp_path: Path) -> None:
    from curate.executor.run import run_recipe

    item = "which planet of the solar system has the largest number of known moons today"
    (tmp_path / "eval.jsonl").write_text(json.dumps({"id": "moons", "q": item}) + "\n")
    docs = [{"text": f"Trivia: {item}?"}] + [{"text": f"Plain document {i}."} for i in range(5)]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    stage = {"against": [{"path": str(tmp_path / "eval.jsonl"), "name": "<b>quiz</b>"}]}
    recipe = parse_recipe(
        {
            "name": "decon-audit",
            "input": {"path": str(tmp_path / "in.jsonl")},
            "stages": [{"use": "decontaminate", "with": {**stage, "fields": ["q"]}}],
            "output": {"path": str(tmp_path / "out")},
            "audit": {},
        }
    )
    run_recipe(recipe)
    audit = tmp_path / "out" / "curate" / "audit"
    report = json.loads((audit / "audit.json").read_text())
    found = report["sections"]["composition"]["decontamination"]
    assert found == [{"stage": "decontaminate", "sets": ["<b>quiz</b>"], "n": 13, "removed": 1}]
    text = (audit / "audit.md").read_text()
    assert "contaminated by &lt;b&gt;quiz&lt;/b&gt; (13-grams) | 1 |" in text


def test_an_evaluation_set_given_as_a_registry_ref(tmp_path: Path) -> None:
    from curate.registry import publish

    item = "name the longest river that flows through the capital city of the country"
    (tmp_path / "quiz.jsonl").write_text(json.dumps({"id": "river", "text": item}) + "\n")
    publish(str(tmp_path / "quiz.jsonl"), "quiz")
    stage = Decontaminate(against=["quiz@1.0.0"])
    texts = [f"Homework: {item}.", "A river flows through the city."]
    out = next(iter(stage([pa.record_batch({schema.ID: ["1", "2"], schema.TEXT: texts})])))
    assert out.column("contaminated_by").to_pylist() == [["quiz@1.0.0"], []]
    assert out.column(schema.DETAIL).to_pylist()[0].startswith("set=quiz@1.0.0 item=river ")
