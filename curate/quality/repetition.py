"""Gopher repetition signals: duplicate lines and paragraphs, top and duplicate word n-grams.

Definitions (all per text; "characters" are characters of words or lines, never whitespace):

* duplicate lines: lines equal to an earlier line of the same text; the ratio by count is over
  all lines, the ratio by characters over the characters of all lines. Paragraphs likewise.
* top n-gram (n = 2, 3, 4): the characters covered by the occurrences of the most frequent
  word n-gram (of several equally frequent ones, the one covering most), over the characters of
  all words. 0 when no n-gram repeats.
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
    line_doc = np.repeat(np.arange(t.n, dtype=np.int64), np.diff(t.line_off))
    chars = t.line_chars.astype(np.float64)
    dup = _later(_salted(t.line_hash, line_doc))
    lines = np.diff(t.line_off).astype(np.float64)
    all_chars = per_doc(chars, t.line_off)
    out = {
        "quality_dup_line_ratio": ratio(per_doc(dup, t.line_off), lines),
        "quality_dup_line_char_ratio": ratio(per_doc(chars * dup, t.line_off), all_chars),
    }
    first = np.flatnonzero(t.paragraph_start)
    if first.size:
        rank = np.arange(len(chars)) - np.repeat(first, np.diff(np.append(first, len(chars))))
        parts = mix(t.line_hash + rank.astype(np.uint64))
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
    salt = doc[starts].astype(np.uint64) * _SALT
    # mix() makes the first word's key uniform; multiplying the second by an odd constant is a
    # bijection that spreads its low bits into the top bits the prefilter below looks at.
    keys[starts] = mix(salt + word[starts]) ^ (word[starts + 1] * _SPREAD)
    starts = starts[_maybe_repeated(keys[starts])]
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

    Among several n-grams sharing the highest count, the one covering the most characters
    counts; overlapping occurrences cover their shared words once.
    """
    covered = np.zeros(len(total))
    if hits.size:
        k = keys[hits]
        order = np.argsort(k, kind="stable")
        ks = k[order]
        is_first = np.concatenate([[True], ks[1:] != ks[:-1]])
        group = np.cumsum(is_first) - 1
        count = np.bincount(group)
        gdoc = doc[hits[order[is_first]]]
        most = np.zeros(len(total), dtype=np.int64)
        np.maximum.at(most, gdoc, count)
        keep = count[group] == most[gdoc[group]]
        pos, grp = hits[order[keep]], group[keep]
        word = (pos[:, None] + np.arange(n)).ravel()
        pair = distinct(np.repeat(grp, n) * (len(cum) + 1) + word)
        pgroup, pword = pair // (len(cum) + 1), pair % (len(cum) + 1)
        chars = cum[pword + 1] - cum[pword]
        per_group = np.bincount(pgroup, weights=chars, minlength=len(count))
        np.maximum.at(covered, gdoc, per_group)
    return np.where(total > 0, ratio(covered, total), np.nan)


def _covered(hits: Int, keys: U64, doc: Int, chars: F64, n: int, total: F64) -> F64:
    covered: F64 = np.zeros(len(total))
    if hits.size:
        later = hits[_later(keys[hits])]
        words = distinct((later[:, None] + np.arange(n)).ravel())
        covered = np.bincount(doc[words], weights=chars[words], minlength=len(total)).astype(float)
    return np.where(total > 0, ratio(covered, total), np.nan)
