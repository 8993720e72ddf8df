"""Gopher repetition signals: duplicate lines and paragraphs, top and duplicate word n-grams.

Definitions (all per text; "characters" are characters of words or lines, never whitespace):

* duplicate lines: lines equal to an earlier line of the same text; the ratio by count is over
  all lines, the ratio by characters over the characters of all lines. Paragraphs likewise.
* top n-gram (n = 2, 3, 4): the characters covered by the occurrences of the most frequent
  word n-gram (ties: the longest, then the first to occur), over the characters of all words. 0
  when no n-gram repeats.
* duplicate n-gram (n = 5..10): the words covered by an occurrence of an n-gram that already
  occurred earlier in the text, each word counted once; their characters over all word characters.

The n-gram signals run in :mod:`curate.quality.kernels`, one hash table per text; only n-grams
that can repeat are ever hashed and counted there: an n-gram repeats only where both of its
(n-1)-grams repeat, so each order works on the survivors of the one before.

>>> import pyarrow as pa
>>> from curate.quality.text import TextBatch
>>> t = TextBatch.from_arrow(pa.array(["a b c a b c d"]))
>>> ngram_signals(t)["quality_top_3gram_char_ratio"].tolist()
[0.8571428571428571]
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

from curate.quality.hashing import combine, mix
from curate.quality.kernels import DUP_NGRAMS, TOP_NGRAMS, ngram_ratios
from curate.quality.text import TextBatch

F64 = npt.NDArray[np.float64]
Int = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]


def per_doc(values: npt.NDArray[np.generic], off: Int) -> npt.NDArray[np.float64]:
    """Sum of ``values`` over each text's slice ``[off[d], off[d + 1])``."""
    sums = np.zeros(len(off) - 1)
    filled = off[1:] > off[:-1]
    if filled.any():
        sums[filled] = np.add.reduceat(values, off[:-1][filled], dtype=np.float64)
    return sums


def distinct(values: Int) -> Int:
    """Sorted distinct values (by sorting: NumPy's hash-based ``unique`` is slower here)."""
    ordered = np.sort(values)
    return (
        ordered[np.concatenate([[True], ordered[1:] != ordered[:-1]])] if len(ordered) else ordered
    )


def ratio(num: F64, den: F64) -> F64:
    """``num / den``, NaN (null) where ``den`` is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _salted(keys: U64, group: Int) -> U64:
    return combine(mix(group.astype(np.uint64)), keys)


def _repeats(keys: U64) -> npt.NDArray[np.bool_]:
    return np.asarray(pl.Series(keys, dtype=pl.UInt64).is_duplicated().to_numpy())


def _later(keys: U64) -> npt.NDArray[np.bool_]:
    return ~np.asarray(pl.Series(keys, dtype=pl.UInt64).is_first_distinct().to_numpy())


def line_signals(t: TextBatch) -> dict[str, F64]:
    """Duplicate line and paragraph fractions, by count and by characters."""
    line_doc = np.repeat(np.arange(t.n, dtype=np.int64), np.diff(t.lines.off))
    chars = t.lines.chars.astype(np.float64)
    dup = _later(_salted(t.lines.key, line_doc))
    lines = np.diff(t.lines.off).astype(np.float64)
    all_chars = per_doc(chars, t.lines.off)
    out = {
        "quality_dup_line_ratio": ratio(per_doc(dup, t.lines.off), lines),
        "quality_dup_line_char_ratio": ratio(per_doc(chars * dup, t.lines.off), all_chars),
    }
    first = np.flatnonzero(t.lines.paragraph_start)
    if first.size:
        rank = np.arange(len(chars)) - np.repeat(first, np.diff(np.append(first, len(chars))))
        parts = mix(t.lines.key + rank.astype(np.uint64))
        para_hash = np.add.reduceat(parts, first)
        para_chars = np.add.reduceat(chars, first)
        para_doc = line_doc[first]
    else:
        para_hash = np.zeros(0, np.uint64)
        para_chars = np.zeros(0)
        para_doc = np.zeros(0, np.int64)
    para_off = np.searchsorted(para_doc, np.arange(t.n + 1))
    pdup = _later(_salted(para_hash, para_doc))
    out["quality_dup_para_ratio"] = ratio(per_doc(pdup, para_off), np.diff(para_off) * 1.0)
    out["quality_dup_para_char_ratio"] = ratio(per_doc(para_chars * pdup, para_off), all_chars)
    return out


def ngram_signals(t: TextBatch) -> dict[str, F64]:
    """Top 2/3/4-gram and duplicate 5..10-gram character fractions (a compiled kernel)."""
    rows = ngram_ratios(t.word_key, t.word_off, t.word_chars.astype(np.float64))
    names = [f"quality_top_{n}gram_char_ratio" for n in TOP_NGRAMS]
    names += [f"quality_dup_{n}gram_char_ratio" for n in DUP_NGRAMS]
    return {name: rows[i] for i, name in enumerate(names)}
