"""Bounded memory of the default toxicity model on long texts, with unchanged scores.

The linear model tokenizes texts in groups of at most ``PIECE_CHARS`` characters and a longer
text piece by piece (cut after whitespace); these tests check that this changes no score, against
tokenizing everything at once and against scikit-learn on the chunks built by hand, and that a
50 MB document is scored in a small, fixed amount of memory.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.toxicity import chunks
from curate.toxicity.chunks import pieces
from curate.toxicity.linear import LinearToxicity, _read_joblib, data_dir

HOWS = ("mean", "max", "share")


def _texts(shared: Path) -> list[str]:
    """Jigsaw comments (some toxic), and long documents made of them and of bench prose."""
    comments = (
        pl.read_csv(shared / "data" / "jigsaw-toxic-sample" / "test.csv")
        .get_column("comment_text")
        .head(400)
        .to_list()
    )
    prose = pl.read_parquet(shared / "bench" / "neardup-20k.parquet", columns=["text"])
    books = prose.get_column("text").head(60).to_list()
    long_docs = ["\n\n".join(books[i : i + 20]) + "\n" + comments[i] for i in range(0, 40, 20)]
    half = len(comments) // 2
    return [*comments[:half], *long_docs, "", *comments[half:]]


def _scores(texts: list[str], piece_chars: int, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.setattr(chunks, "PIECE_CHARS", piece_chars)
    model = LinearToxicity.load()
    return {how: model.score(texts, how=how)["toxicity"] for how in HOWS}


def test_pieces_and_groups_change_no_score(
    shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = _texts(shared_dir)
    assert max(len(t) for t in texts) > 20_000
    at_once = _scores(texts, 10**12, monkeypatch)
    for piece_chars in (500, 20_000):
        bounded = _scores(texts, piece_chars, monkeypatch)
        for how in HOWS:
            np.testing.assert_allclose(bounded[how], at_once[how], rtol=0, atol=1e-12)


def test_streamed_long_document_matches_scikit_learn_on_its_chunks(
    shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Independent computation: chunks of 64 word tokens cut by hand, scored by scikit-learn."""
    texts = _texts(shared_dir)
    doc = max(texts, key=len)
    monkeypatch.setattr(chunks, "PIECE_CHARS", 777)
    got = LinearToxicity.load().score([doc], how="mean")["toxicity"][0]
    tokens = re.findall(r"\w\w+", doc.lower())
    by_hand = [tokens[i : i + 64] for i in range(0, len(tokens), 64)]
    vectorizer, model = _read_joblib(data_dir())
    probs = model.predict_proba(vectorizer.transform([" ".join(c) for c in by_hand]))[:, 1]
    expected = np.average(probs, weights=[len(c) for c in by_hand])
    assert len(by_hand) > 10
    assert got == pytest.approx(expected, abs=1e-9)


_WORDS = st.sampled_from(
    ["idiot", "stupid", "the", "a", "ΣΟΦΙΑΣ", "naïve", "x_y", "42", "you", "lovely", "Straße"]
)
_SEPARATORS = st.sampled_from([" ", "\n", "\t", ", ", ". ", "'", "-", "\n\n", "  "])


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.lists(st.tuples(_WORDS, _SEPARATORS), max_size=80), min_size=1, max_size=6),
    st.integers(min_value=1, max_value=120),
)
def test_any_piece_size_gives_the_same_scores(
    docs: list[list[tuple[str, str]]], piece_chars: int
) -> None:
    texts = ["".join(w + s for w, s in doc) for doc in docs]
    model = LinearToxicity.load(max_length=7)
    original = chunks.PIECE_CHARS
    try:
        chunks.PIECE_CHARS = 10**12
        at_once = {how: model.score(texts, how=how)["toxicity"] for how in HOWS}
        chunks.PIECE_CHARS = piece_chars
        for text in texts:
            parts = list(pieces(text))
            assert "".join(parts) == text
            assert all(p[-1] in " \n\t\r" for p in parts[:-1])
        for how in HOWS:
            got = model.score(texts, how=how)["toxicity"]
            np.testing.assert_allclose(got, at_once[how], rtol=0, atol=1e-12)
    finally:
        chunks.PIECE_CHARS = original


_MEMORY = """
import json, sys
import pyarrow.parquet as pq
from curate.toxicity.linear import LinearToxicity

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024

model = LinearToxicity.load()
model.score(["a warm-up text"])
prose = pq.read_table(sys.argv[1], columns=["text"]).column("text").to_pylist()
block = "\\n\\n".join(prose)
doc = (block * (50 * 10**6 // len(block) + 1))[: 50 * 10**6]
del block, prose
before = status("VmRSS")
open("/proc/self/clear_refs", "w").write("5")
score = float(model.score([doc])["toxicity"][0])
print(json.dumps({"growth_mb": status("VmHWM") - before, "score": score}))
"""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc")
def test_a_50_mb_document_is_scored_in_bounded_memory(shared_dir: Path) -> None:
    """Measured in a fresh process: the peak RSS while scoring, above the RSS before it.

    Tokenizing the whole document at once grew by about 800 MB here (16 bytes per character);
    pieces of a million characters need about 35 MB whatever the document's length.
    """
    corpus = shared_dir / "bench" / "neardup-20k.parquet"
    done = subprocess.run(
        [sys.executable, "-c", _MEMORY, str(corpus)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert 0.0 < figures["score"] < 0.5
    assert figures["growth_mb"] < 200, figures


def _tiny_hf(folder: Path) -> Path:
    """A random two-label BERT of a few words, saved as an ``hf:`` model folder."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "you", "are", "nice", "bad", "ok"]
    transformers.BertTokenizer(vocab={w: i for i, w in enumerate(words)}).save_pretrained(folder)
    config = transformers.BertConfig(
        vocab_size=len(words),
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        max_position_embeddings=16,
        num_labels=2,
        id2label={0: "neutral", 1: "toxic"},
        label2id={"neutral": 0, "toxic": 1},
    )
    torch.manual_seed(3)
    model = transformers.BertForSequenceClassification(config)
    with torch.no_grad():
        model.classifier.weight.normal_(0.0, 3.0)
    model.save_pretrained(folder)
    return folder


def test_transformer_windows_are_read_piece_by_piece(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from curate.toxicity import load_scorer

    scorer = load_scorer(f"hf:{_tiny_hf(tmp_path)}", label="toxic", max_length=8)
    # 8 positions hold 6 words; a piece of two "you are nice bad ok are " runs is 12 words,
    # so pieces end on window boundaries and the windows are those of the whole text.
    text = "you are nice bad ok are " * 40
    texts = ["ok you are bad", text, "nice", text[:48]]
    at_once = {how: scorer.score(texts, how=how)["toxicity"] for how in HOWS}
    seen: list[int] = []
    tokenize = type(scorer.tokenizer).__call__

    def recording(self: object, batch: list[str], **kwargs: object) -> object:
        seen.append(sum(len(t) for t in batch))
        return tokenize(self, batch, **kwargs)

    monkeypatch.setattr(chunks, "PIECE_CHARS", 48)
    monkeypatch.setattr(type(scorer.tokenizer), "__call__", recording)
    for how in HOWS:
        got = scorer.score(texts, how=how)["toxicity"]
        np.testing.assert_allclose(got, at_once[how], rtol=0, atol=1e-6)
    assert seen and max(seen) <= 48
