"""Tokenisation and word association, with association values worked out by hand."""

from __future__ import annotations

import math
import re

import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.audit.association import WordTally, association_section
from curate.audit.tally import group_pairs
from curate.audit.tokens import tokenize


def test_tokenize_counts_whitespace_words_and_normalises() -> None:
    t = tokenize(pa.array(["  Don't STOP—now!  ", "naïve\u00a0café\tau lait", "", "12 34"]))
    # Unicode whitespace (no-break space, tab) splits words; leading/trailing space does not
    # make words.
    assert t.lengths.tolist() == [2, 4, 0, 2]
    words = t.words.to_pylist()
    assert "don't" in words and "naïve" in words and "café" in words and "lait" in words
    assert "12" not in words and "au" in words
    # A dash between letters other than a hyphen separates words.
    assert "stop" in words and "now" in words and "stop—now" not in words
    assert sorted(set(t.doc.tolist())) == [0, 1]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet=" \n\tab.,'Éé", max_size=30), min_size=1, max_size=20))
def test_lengths_match_str_split(texts: list[str]) -> None:
    t = tokenize(pa.array(texts))
    assert t.lengths.tolist() == [len(x.split()) for x in texts]


def _tally(copies: int) -> WordTally:
    """10 female documents "knitting knitting garden", 29 "garden football", one other
    "knitting garden"; the whole corpus repeated ``copies`` times."""
    texts = (
        ["knitting knitting garden"] * 10 + ["garden football"] * 29 + ["knitting garden"]
    ) * copies
    identities = ([["gender/female"]] * 10 + [[]] * 30) * copies
    batch = pa.record_batch(
        {"text": texts, "identities": pa.array(identities, pa.list_(pa.string()))}
    )
    tally = WordTally()
    tally.update(tokenize(batch.column("text")), group_pairs(batch))
    return tally


def test_association_hand_values() -> None:
    tally = _tally(20)
    section = association_section(tally, eligible=["gender/female"])
    female = section["groups"]["gender/female"]
    # Document frequencies: 200 female documents each hold knitting and garden once (400
    # pairs), 580 others garden + football, 20 others knitting + garden: 1600 pairs in all.
    assert female["tokens"] == 400 and section["tokens"] == 1600
    npmi = {w["word"]: w["score"] for w in female["npmi"]}
    # log((200/1600) / ((220/1600) (400/1600))) / -log(200/1600)
    expected = math.log((200 / 1600) / ((220 / 1600) * (400 / 1600))) / -math.log(200 / 1600)
    assert npmi["knitting"] == pytest.approx(expected)
    assert npmi["knitting"] == pytest.approx(0.620832, abs=1e-6)
    # Prior a = 1000 x 220/1600 = 137.5: omega_i = 337.5 / 1062.5, omega_j = 157.5 / 2042.5,
    # delta = 1.415690, sd = sqrt(1/337.5 + 1/157.5) -> z = 14.670426.
    over = {w["word"]: w for w in female["log_odds"]["over"]}
    assert over["knitting"]["score"] == pytest.approx(14.670426, abs=1e-5)
    assert over["knitting"]["count"] == 200 and over["knitting"]["other_count"] == 20
    under = [w["word"] for w in female["log_odds"]["under"]]
    assert under[0] == "football"


def test_association_controls_false_discoveries() -> None:
    # One copy: knitting's z is far smaller (the prior dominates) and not significant.
    section = association_section(_tally(1), eligible=["gender/female"])
    assert section["groups"]["gender/female"]["log_odds"]["over"] == []


def test_possessives_handles_and_entities_do_not_leak() -> None:
    # 40 documents mention gender/female through "wife"; they also say "wife's", "wives'",
    # carry a handle and an HTML entity. None of these may top the group's list.
    texts = ["my wife's wives' garden @wifeguy &amp; knitting"] * 40 + ["garden football"] * 60
    identities = [["gender/female"]] * 40 + [[]] * 60
    batch = pa.record_batch({"text": texts, "identities": pa.array(identities)})
    tally = WordTally()
    tally.update(tokenize(batch.column("text")), group_pairs(batch))
    own = {"gender/female": {"wife", "wives"}}
    section = association_section(tally, eligible=["gender/female"], own_terms=own)
    words = [w["word"] for w in section["groups"]["gender/female"]["log_odds"]["over"]]
    assert "knitting" in words
    assert not {"wife's", "wives'", "wifeguy", "amp"} & set(words)


def test_own_terms_are_excluded() -> None:
    section = association_section(
        _tally(20), eligible=["gender/female"], own_terms={"gender/female": {"knitting"}}
    )
    words = [w["word"] for w in section["groups"]["gender/female"]["log_odds"]["over"]]
    assert "knitting" not in words


def test_vocabulary_stays_bounded() -> None:
    tally = WordTally(max_vocab=50)
    for start in range(0, 2000, 100):
        texts = [
            f"w{chr(97 + i % 26)}{chr(97 + (i // 26) % 26)}x common"
            for i in range(start, start + 100)
        ]
        batch = pa.record_batch(
            {"text": texts, "identities": pa.array([[]] * 100, pa.list_(pa.string()))}
        )
        tally.update(tokenize(batch.column("text")), group_pairs(batch))
    counts = tally.counts()
    background = counts.filter(pl.col("group") == "")
    assert background.height <= 2 * 50
    assert "common" in background.get_column("word").to_list()
    assert tally.total_tokens == 4000  # 2000 documents, two distinct words each


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from(["cat", "dog", "a-b", "x—y", "Dog!", "7", "  "]), max_size=6),
            st.lists(st.sampled_from(["g/a", "g/b", "h/c"]), max_size=3),
        ),
        min_size=1,
        max_size=15,
    )
)
def test_word_counts_match_a_naive_count(docs: list[tuple[list[str], list[str]]]) -> None:
    texts = [" ".join(words) for words, _ in docs]
    batch = pa.record_batch(
        {
            "text": texts,
            "identities": pa.array([groups for _, groups in docs], pa.list_(pa.string())),
        }
    )
    tally = WordTally()
    tally.update(tokenize(batch.column("text")), group_pairs(batch))
    expected: dict[tuple[str, str], int] = {}
    for text, (_, groups) in zip(texts, docs):
        words = [w for w in re.findall(r"[^\W\d_]+(?:[-'][^\W\d_]+)*", text.lower()) if len(w) > 1]
        for word in set(words):  # document frequency: once per document
            for group in ["", *sorted(set(groups))]:
                expected[(group, word)] = expected.get((group, word), 0) + 1
    got = {(g, w): n for g, w, n in tally.counts().iter_rows()}
    assert got == expected
