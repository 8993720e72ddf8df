"""The compiled kernels give every quality signal exactly as the NumPy code they replaced.

``NumpyTextBatch``, ``numpy_find_lines`` and ``numpy_ngram_signals`` below are the array code of
curate 591afb0 (the last version before :mod:`curate.quality.kernels`), kept as the reference:
with them swapped into :func:`curate.quality.signals.compute`, every column must be bit-for-bit
the same on the sample corpus, the bench corpus and generated text.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.quality import repetition, signals
from curate.quality import unicode as uc
from curate.quality.hashing import _M1, Window, combine, lower_ascii, mix
from curate.quality.lines import Lines
from curate.quality.repetition import distinct, per_doc, ratio
from curate.quality.text import _ASCII_CLASS, TextBatch, _width

Int = npt.NDArray[np.int64]
SAMPLE = Path(__file__).resolve().parents[1] / "recipes" / "sample" / "web-sample.jsonl"


def run_keys(keys: npt.NDArray[np.uint64], first: Int, lengths: Int) -> npt.NDArray[np.uint64]:
    """One order-dependent key per run ``keys[first[i]:first[i] + lengths[i]]`` (may be empty)."""
    rank = np.arange(len(keys), dtype=np.int64) - np.repeat(first, lengths)
    parts = mix(keys + rank.astype(np.uint64) * _M1)
    cum = np.concatenate([np.zeros(1, dtype=np.uint64), np.cumsum(parts, dtype=np.uint64)])
    return mix((cum[first + lengths] - cum[first]) ^ lengths.astype(np.uint64))


def numpy_find_lines(t: TextBatch) -> Lines:
    ntok = len(t.tok_s)
    breaks = np.bincount(np.searchsorted(t.tok_s, t.newlines), minlength=ntok + 1)[:ntok]
    tok_doc = np.repeat(np.arange(t.n, dtype=np.int64), np.diff(t.tok_off))
    line_no = np.cumsum(breaks) + tok_doc
    first = np.flatnonzero(np.diff(line_no, prepend=-1) != 0) if ntok else np.zeros(0, np.int64)
    after = np.append(first[1:], ntok)[: len(first)]
    s, e = t.tok_s[first], np.asarray(t.tok_e[after - 1], dtype=np.int64)
    off = np.searchsorted(s, t.starts)
    chars = t.chars_in(s, e)
    first_word = np.searchsorted(t.word_s, s)
    words = np.diff(np.append(first_word, t.n_words))
    key = combine(run_keys(t.word_key, first_word, words), chars.astype(np.uint64))
    start = breaks[first] >= 2
    start[off[:-1][np.diff(off) > 0]] = True
    return Lines(s, e, off, after - first, chars, key, start)


class NumpyTextBatch(TextBatch):
    """Tokens and words found with whole-batch array operations (the replaced code)."""

    def _tokenize(self) -> None:
        space = self.data <= 32
        wide = self.lead_pos[(self.lead_cls & uc.SPACE) != 0]
        if wide.size:
            width = _width(self.data[wide])
            for k in range(4):
                space[wide[width > k] + k] = True
        size = len(space)
        edges = np.flatnonzero(space[1:] != space[:-1]) + 1
        if size and not space[0]:
            edges = np.concatenate([[0], edges])
        if size and not space[-1]:
            edges = np.concatenate([edges, [size]])
        tok_s, tok_e = edges[0::2], edges[1::2]
        inner = self.starts[1:-1] if len(tok_s) else np.zeros(0, dtype=np.int64)
        owner = np.searchsorted(tok_s, inner, side="right") - 1
        cut = (owner >= 0) & (inner > tok_s[np.maximum(owner, 0)])
        cut &= inner < tok_e[np.maximum(owner, 0)]
        if cut.any():
            points = np.unique(inner[cut])
            tok_s = np.insert(tok_s, np.searchsorted(tok_s, points), points)
            tok_e = np.insert(tok_e, np.searchsorted(tok_e, points), points)
        self.tok_s, self.tok_e = tok_s, tok_e

    def _has(self, pos: Int, flag: int) -> npt.NDArray[np.bool_]:
        byte = self.data[pos]
        found = (_ASCII_CLASS[byte] & flag) != 0
        multi = np.flatnonzero(byte >= 0xC0)
        if multi.size:
            found[multi] = (self.lead_cls[np.searchsorted(self.lead_pos, pos[multi])] & flag) != 0
        return np.asarray(found, dtype=bool)

    def _ends_in_punct(self, end: Int) -> npt.NDArray[np.bool_]:
        byte = self.data[end - 1]
        punct = (_ASCII_CLASS[byte] & uc.PUNCT) != 0
        multi = np.flatnonzero(byte >= 0x80)
        if multi.size:
            lead = np.searchsorted(self.lead_pos, end[multi] - 1, side="right") - 1
            punct[multi] = (self.lead_cls[lead] & uc.PUNCT) != 0
        return np.asarray(punct, dtype=bool)

    @cached_property
    def _words(self) -> tuple[Int, Int]:  # type: ignore[override]
        s, e = self.tok_s.copy(), self.tok_e.copy()
        todo = np.flatnonzero(self._has(s, uc.PUNCT))
        while todo.size:
            s[todo] += _width(self.data[s[todo]])
            todo = todo[s[todo] < e[todo]]
            todo = todo[self._has(s[todo], uc.PUNCT)]
        todo = np.flatnonzero((s < e) & self._ends_in_punct(e))
        while todo.size:
            e[todo] = self.last_char_start(e[todo])
            todo = todo[s[todo] < e[todo]]
            todo = todo[self._ends_in_punct(e[todo])]
        keep = s < e
        return s[keep], e[keep]

    @cached_property
    def word_chars(self) -> Int:  # type: ignore[override]
        return self.chars_in(self.word_s, self.word_e)

    @cached_property
    def _word_head(self) -> npt.NDArray[np.uint64]:
        return Window(self.data).head(self.word_s, self.word_e)

    @cached_property
    def word_key(self) -> npt.NDArray[np.uint64]:  # type: ignore[override]
        return Window(self.data).keys(self.word_s, self.word_e, self._word_head)

    def folded(self, words: Int) -> npt.NDArray[np.uint64]:
        return lower_ascii(self._word_head[words])

    @cached_property
    def lines(self) -> Lines:
        return numpy_find_lines(self)

    @cached_property
    def word_alpha(self) -> npt.NDArray[np.bool_]:  # type: ignore[override]
        alpha = self._has(self.word_s, uc.LETTER)
        todo = np.flatnonzero(~alpha)
        pos = self.word_s[todo]
        while todo.size:
            pos = pos + _width(self.data[pos])
            inside = pos < self.word_e[todo]
            todo, pos = todo[inside], pos[inside]
            letter = self._has(pos, uc.LETTER)
            alpha[todo[letter]] = True
            todo, pos = todo[~letter], pos[~letter]
        return alpha


_SALT = np.uint64(0xD6E8FEB86659FD93)
_SPREAD = np.uint64(0x9FB21C651E98DF25)
_M2 = np.uint64(0xC2B2AE3D27D4EB4F)
TOP_NGRAMS = (2, 3, 4)
DUP_NGRAMS = (5, 6, 7, 8, 9, 10)


def _repeats(keys: npt.NDArray[np.uint64]) -> npt.NDArray[np.bool_]:
    return np.asarray(pl.Series(keys, dtype=pl.UInt64).is_duplicated().to_numpy())


def _later(keys: npt.NDArray[np.uint64]) -> npt.NDArray[np.bool_]:
    return ~np.asarray(pl.Series(keys, dtype=pl.UInt64).is_first_distinct().to_numpy())


def _maybe_repeated(keys: npt.NDArray[np.uint64]) -> npt.NDArray[np.bool_]:
    """A superset of the keys occurring more than once: those sharing their top bits.

    Each key's low bits are replaced by its position and the whole array is sorted once (a
    SIMD sort, much cheaper than a hash table); neighbours with equal top bits are candidates
    for the exact test, which then sees the real repeats and very few others.
    """
    n = len(keys)
    shift = max(1, int(n - 1).bit_length())
    low = np.uint64((1 << shift) - 1)
    ordered = np.sort((keys & ~low) | np.arange(n, dtype=np.uint64))
    same = (ordered[1:] >> np.uint64(shift)) == (ordered[:-1] >> np.uint64(shift))
    maybe = np.zeros(n, dtype=bool)
    maybe[(ordered[1:][same] & low).astype(np.int64)] = True
    maybe[(ordered[:-1][same] & low).astype(np.int64)] = True
    return maybe


def numpy_ngram_signals(t: TextBatch) -> dict[str, npt.NDArray[np.float64]]:
    """Top 2/3/4-gram and duplicate 5..10-gram character fractions."""
    n_words = t.n_words
    chars = t.word_chars.astype(np.float64)
    cum = np.concatenate([[0.0], np.cumsum(chars)])
    total = per_doc(chars, t.word_off)
    doc = t.word_doc
    word = t.word_key
    out: dict[str, npt.NDArray[np.float64]] = {}
    keys = np.zeros(n_words, dtype=np.uint64)
    # Positions of the 2-grams inside one text; later orders keep only the starts whose
    # (n-1)-gram and the (n-1)-gram after it both repeat.
    starts = np.flatnonzero(doc[1:] == doc[:-1]) if n_words > 1 else np.zeros(0, np.int64)
    # The prefilter only needs equal 2-grams to get equal values with well-spread top bits:
    # multiplying by odd constants spreads every bit of a key into the top ones, cheaply.
    first, second = word[starts], word[starts + 1]
    rough = (first * _SPREAD + doc[starts].astype(np.uint64) * _SALT) ^ (second * _M2)
    starts = starts[_maybe_repeated(rough)]
    # Exact keys, for the candidates only: mix() makes the first word's key uniform, and the
    # multiplication by an odd constant keeps distinct second words distinct.
    salt = doc[starts].astype(np.uint64) * _SALT
    keys[starts] = mix(salt + word[starts]) ^ (word[starts + 1] * _SPREAD)
    hits = np.zeros(0, dtype=np.int64)
    for n in range(2, max(DUP_NGRAMS) + 1):
        if n > 2:
            starts = hits[:-1][np.diff(hits) == 1]
            last = starts + n - 1
            starts = starts[(last < n_words) & (doc[np.minimum(last, n_words - 1)] == doc[starts])]
            keys[starts] = combine(keys[starts], word[starts + n - 1])
        hits = starts[_repeats(keys[starts])] if starts.size else starts
        if n in TOP_NGRAMS:
            out[f"quality_top_{n}gram_char_ratio"] = _top(hits, keys, doc, cum, n, total)
        elif n in DUP_NGRAMS:
            out[f"quality_dup_{n}gram_char_ratio"] = _covered(hits, keys, doc, chars, n, total)
    return out


def _top(
    hits: Int,
    keys: npt.NDArray[np.uint64],
    doc: Int,
    cum: npt.NDArray[np.float64],
    n: int,
    total: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Per text: characters covered by its most frequent repeated n-gram, over all characters.

    Ties go to the longer n-gram, then to the one occurring first; overlapping occurrences
    cover their shared words once.
    """
    covered = np.zeros(len(total))
    if hits.size:
        k = keys[hits]
        order = np.argsort(k, kind="stable")  # stable: each group starts at its first occurrence
        ks = k[order]
        is_first = np.concatenate([[True], ks[1:] != ks[:-1]])
        group = np.cumsum(is_first) - 1
        count = np.bincount(group)
        first = hits[order[is_first]]
        gdoc, gchars = doc[first], cum[first + n] - cum[first]
        by = np.lexsort((-first, gchars, count, gdoc))
        chosen = np.zeros(len(count), dtype=bool)
        chosen[by[np.append(gdoc[by][1:] != gdoc[by][:-1], True)]] = True
        occurrences = np.sort(hits[order[chosen[group]]])
        covered = _cover(occurrences, n, doc, np.diff(cum), len(total))
    return np.where(total > 0, ratio(covered, total), np.nan)


def _covered(
    hits: Int,
    keys: npt.NDArray[np.uint64],
    doc: Int,
    chars: npt.NDArray[np.float64],
    n: int,
    total: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    covered: npt.NDArray[np.float64] = np.zeros(len(total))
    if hits.size:
        covered = _cover(hits[_later(keys[hits])], n, doc, chars, len(total))
    return np.where(total > 0, ratio(covered, total), np.nan)


def _cover(
    starts: Int, n: int, doc: Int, chars: npt.NDArray[np.float64], n_docs: int
) -> npt.NDArray[np.float64]:
    """Per text, characters of the words inside any ``[s, s + n)`` (each word once)."""
    if starts.size * n <= len(chars) // 4:
        words = distinct((starts[:, None] + np.arange(n)).ravel())
    else:
        # Many repeats (spam): mark where coverage starts and stops instead of listing words.
        edge = np.zeros(len(chars) + n + 1, dtype=np.int32)
        edge[starts] += 1
        edge[starts + n] -= 1
        words = np.flatnonzero(np.cumsum(edge[: len(chars)]) > 0)
    return np.bincount(doc[words], weights=chars[words], minlength=n_docs).astype(np.float64)


def reference(texts: pa.Array, monkeypatch: pytest.MonkeyPatch) -> dict[str, pa.Array]:
    """Every signal as the replaced NumPy code computed it."""
    with monkeypatch.context() as m:
        m.setattr(signals, "TextBatch", NumpyTextBatch)
        m.setattr(signals, "ngram_signals", numpy_ngram_signals)
        return signals.compute(texts)


def assert_same(texts: list[str | None], monkeypatch: pytest.MonkeyPatch) -> None:
    arr = pa.array(texts, pa.large_string())
    expected = reference(arr, monkeypatch)
    got = signals.compute(arr)
    assert list(got) == list(expected)
    for name, values in expected.items():
        assert got[name].equals(values), name


def test_reference_is_the_replaced_code(monkeypatch: pytest.MonkeyPatch) -> None:
    # The swap must really happen, or the comparisons below compare the kernels with themselves.
    calls: list[int] = []
    with monkeypatch.context() as m:
        m.setattr(
            NumpyTextBatch, "_tokenize", lambda self: calls.append(1) or TextBatch._tokenize(self)
        )
        reference(pa.array(["a b"]), monkeypatch)
    assert calls
    assert repetition.ngram_signals is not numpy_ngram_signals


def test_sample_corpus(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [json.loads(line)["text"] for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    assert len(texts) == 300
    assert_same(texts, monkeypatch)


@pytest.mark.slow
def test_bench_corpus(shared_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = pq.read_table(shared_dir / "bench" / "neardup-20k.parquet", columns=["text"])
    column = texts.column("text").combine_chunks()
    for start in range(0, len(column), 5_000):
        assert_same(column.slice(start, 5_000).to_pylist(), monkeypatch)


def test_spam_and_edge_documents(monkeypatch: pytest.MonkeyPatch) -> None:
    line = "Buy cheap watches now at the best price online today!\n"
    assert_same(
        [
            line * 300,
            ("word " * 5000).strip(),
            "a b " * 2000 + "c d e f g h i j k l " * 50,
            "",
            None,
            "...!!!",
            "中文" * 500 + " ok ok ok ok ok ok",
            "x" * 100 + " " + "x" * 100 + " " + "x" * 100,
            "Ünïcödé wörds, «quoted» — and … trailing…",
        ],
        monkeypatch,
    )


PIECES = [
    "a", "b", "ab", "The", "cat", "é", "Ça", "1", "3.5", "中", "文", "ส", "ั", "ดี", "の",
    " ", " ", "  ", "\n", "\n\n", "\t", "\u00a0", "\u3000", ".", ",", "#", "…", "...", "—",
    "(", ")", "'", "«", "»", "•", "{", "\u200b", "😀", "\x7f", "\x85", "longerthaneightbytes",
    "αβγδεζηθικλμ", "\U0001d400bc",
]  # fmt: skip
texts = st.lists(st.sampled_from(PIECES), max_size=60).map("".join)
repetitive = st.lists(st.sampled_from(["a", "b", "c", " ", "\n"]), max_size=200).map("".join)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(texts, repetitive, st.text(max_size=80), st.none()), min_size=1, max_size=6)
)
def test_generated_text(batch: list[str | None]) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert_same(batch, monkeypatch)
