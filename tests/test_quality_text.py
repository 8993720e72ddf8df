"""The vectorised word, line and repetition code against a plain-Python reference.

The reference below implements the documented definitions one character at a time; hypothesis
feeds both the same texts (several per batch, so boundaries between texts are exercised too).
"""

from __future__ import annotations

import unicodedata
from collections import Counter

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.quality.signals import compute
from curate.quality.text import TextBatch
from curate.quality.unicode import SOLO_RANGES

THAI_MARKS = {0x0E31, *range(0x0E34, 0x0E3B), *range(0x0E47, 0x0E4F)}


def is_space(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat[0] == "Z" or cat == "Cc" or ch == "\u200b"


def is_punct(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "PS"


def is_solo(ch: str) -> bool:
    return any(lo <= ord(ch) <= hi for lo, hi in SOLO_RANGES)


def ref_tokens(line: str) -> list[str]:
    tokens: list[str] = []
    current = ""
    thai = False  # the current token is a Thai character, which absorbs following marks
    for ch in line:
        if is_space(ch) or is_solo(ch) or (current and is_solo(current[0])):
            absorbs = thai and ord(ch) in THAI_MARKS
            if not absorbs:
                tokens += [current] if current else []
                current, thai = "", False
                if is_space(ch):
                    continue
                thai = 0x0E01 <= ord(ch) <= 0x0E5B
        current += ch
    return tokens + ([current] if current else [])


def ref_words(line: str) -> list[str]:
    words = []
    for tok in ref_tokens(line):
        while tok and is_punct(tok[0]):
            tok = tok[1:]
        while tok and is_punct(tok[-1]):
            tok = tok[:-1]
        if tok:
            words.append(tok)
    return words


def ref_lines(text: str) -> list[str]:
    out = []
    for raw in text.split("\n"):
        start, end = 0, len(raw)
        while start < end and is_space(raw[start]):
            start += 1
        while end > start and is_space(raw[end - 1]):
            end -= 1
        if start < end:
            out.append(raw[start:end])
    return out


def ref_later(items: list[object]) -> list[bool]:
    seen: set[object] = set()
    later = []
    for item in items:
        later.append(item in seen)
        seen.add(item)
    return later


def ref_ngrams(words: list[str]) -> dict[str, float | None]:
    total = sum(len(w) for w in words)
    out: dict[str, float | None] = {}
    for n in (2, 3, 4):
        grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
        counts = Counter(grams)
        repeated = [g for g, c in counts.items() if c > 1]
        best = 0
        if repeated:
            # most frequent, then longest, then first to occur (Counter keeps insertion order)
            top = max(repeated, key=lambda g: (counts[g], sum(map(len, g)), -grams.index(g)))
            starts = [i for i, g in enumerate(grams) if g == top]
            covered = {i + k for i in starts for k in range(n)}
            best = sum(len(words[i]) for i in covered)
        out[f"quality_top_{n}gram_char_ratio"] = best / total if total else None
    for n in range(5, 11):
        grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
        covered = {i + k for i, later in enumerate(ref_later(grams)) if later for k in range(n)}
        chars = sum(len(words[i]) for i in covered)
        out[f"quality_dup_{n}gram_char_ratio"] = chars / total if total else None
    return out


PIECES = [
    "a", "b", "ab", "The", "cat", "é", "Ça", "1", "3.5", "中", "文", "ส", "ั", "ดี", "の",
    " ", " ", "  ", "\n", "\n\n", "\t", "\u00a0", "\u3000", ".", ",", "#", "…", "...", "—",
    "(", ")", "'", "«", "»", "•", "{", "\u200b", "😀",
]  # fmt: skip
texts = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(texts, min_size=1, max_size=4))
def test_words_and_lines_match_reference(batch: list[str]) -> None:
    t = TextBatch.from_arrow(pa.array(batch))
    got_words = [t.word_text(i) for i in range(t.n_words)]
    want_words = [w for text in batch for line in text.split("\n") for w in ref_words(line)]
    assert got_words == want_words
    assert t.word_chars.tolist() == [len(w) for w in want_words]
    assert t.word_off.tolist()[-1] == len(want_words)
    lines = [line for text in batch for line in ref_lines(text)]
    assert t.lines.chars.tolist() == [len(line) for line in lines]
    assert t.lines.tokens.tolist() == [len(ref_tokens(line)) for line in lines]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["a", "b", "cc", "中", "\n", "\n\n", " ", "."]),
                         max_size=60).map(" ".join), min_size=1, max_size=3))  # fmt: skip
def test_repetition_matches_reference(batch: list[str]) -> None:
    cols = compute(pa.array(batch), "en")
    for i, text in enumerate(batch):
        words = [w for line in text.split("\n") for w in ref_words(line)]
        for name, want in ref_ngrams(words).items():
            got = cols[name][i].as_py()
            assert (got is None and want is None) or got == pytest.approx(want), name
        lines = ref_lines(text)
        keys = [(tuple(ref_words(line)), len(line)) for line in lines]
        dup = ref_later(keys)
        got_dup = cols["quality_dup_line_ratio"][i].as_py()
        assert got_dup == (pytest.approx(sum(dup) / len(lines)) if lines else None)


@settings(max_examples=200, deadline=None)
@given(st.lists(texts, min_size=1, max_size=4))
def test_word_and_line_signals_match_reference(batch: list[str]) -> None:
    cols = compute(pa.array(batch), "en")
    for i, text in enumerate(batch):
        lines = ref_lines(text)
        words = [w for line in lines for w in ref_words(line)]
        n = len(words)
        symbols = max(text.count("#"), text.count("...") + text.count("…"))
        want = {
            "quality_word_count": n,
            "quality_mean_word_length": sum(map(len, words)) / n if n else None,
            "quality_symbol_word_ratio": symbols / n if n else None,
            "quality_alpha_words_ratio": (
                sum(any(unicodedata.category(c)[0] == "L" for c in w) for w in words) / n
                if n
                else None
            ),
            "quality_newline_word_ratio": text.count("\n") / n if n else None,
            "quality_short_lines_ratio": (
                sum(len(line) <= 30 for line in lines) / len(lines) if lines else None
            ),
            "quality_ellipsis_lines_ratio": (
                sum(line.endswith(("...", "…")) for line in lines) / len(lines) if lines else None
            ),
            "quality_curly_bracket": "{" in text,
        }
        for name, value in want.items():
            got = cols[name][i].as_py()
            assert (got is None and value is None) or got == pytest.approx(value), name


@settings(max_examples=100, deadline=None)
@given(st.lists(texts, min_size=1, max_size=5))
def test_ratios_are_fractions(batch: list[str]) -> None:
    for name, col in compute(pa.array(batch), "en").items():
        per_word = ("quality_newline_word_ratio", "quality_symbol_word_ratio")  # not fractions
        if name.endswith("_ratio") and name not in per_word:
            values = [v for v in col.to_pylist() if v is not None]
            assert all(0.0 <= v <= 1.0 + 1e-9 for v in values), name
