"""Gopher repetition signals: duplicate lines and paragraphs, top and duplicate word n-grams.

Definitions (all per text; "characters" are characters of words or lines, never whitespace):

* duplicate lines: lines equal to an earlier line of the same text; the ratio by count is over
  all lines, the ratio by characters over the characters of all lines. Paragraphs likewise.
* top n-gram (n = 2, 3, 4): the characters covered by the occurrences of the most frequent
  word n-gram (ties: the longest, then the first to occur), over the characters of all words. 0
  when no n-gram repeats.
* duplicate n-gram (n = 5..10): the words covered by an occurrence of an n-gram that already
  occurred earlier in the text, each word counted once; their characters over all word characters.

Only n-grams that can repeat are ever hashed and counted: an n-gram repeats only where both of
its (n-1)-grams repeat, so each order works on the survivors of the one before.

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
from curate.quality.text import TextBatch

F64 = npt.NDArray[np.float64]
Int = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]

TOP_NGRAMS = (2, 3, 4)
_SALT = np.uint64(0xD6E8FEB86659FD93)
_SPREAD = np.uint64(0x9FB21C651E98DF25)
_M2 = np.uint64(0xC2B2AE3D27D4EB4F)
DUP_NGRAMS = (5, 6, 7, 8, 9, 10)


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


def _maybe_repeated(keys: U64) -> npt.NDArray[np.bool_]:
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


def ngram_signals(t: TextBatch) -> dict[str, F64]:
    """Top 2/3/4-gram and duplicate 5..10-gram character fractions."""
    n_words = t.n_words
    chars = t.word_chars.astype(np.float64)
    cum = np.concatenate([[0.0], np.cumsum(chars)])
    total = per_doc(chars, t.word_off)
    doc = t.word_doc
    word = t.word_key
    out: dict[str, F64] = {}
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


def _top(hits: Int, keys: U64, doc: Int, cum: F64, n: int, total: F64) -> F64:
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


def _covered(hits: Int, keys: U64, doc: Int, chars: F64, n: int, total: F64) -> F64:
    covered: F64 = np.zeros(len(total))
    if hits.size:
        covered = _cover(hits[_later(keys[hits])], n, doc, chars, len(total))
    return np.where(total > 0, ratio(covered, total), np.nan)


def _cover(starts: Int, n: int, doc: Int, chars: F64, n_docs: int) -> F64:
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
