"""Compiled per-document kernels for the quality signals that NumPy cannot do in a few passes.

The word n-gram repetition signals need, per text and per order, "which n-grams occur more than
once" and "which occurrence is the first": a small hash table per text answers both in one pass,
where array code needs sorts over the whole batch. The kernels are compiled by numba (wheels for
Linux, macOS and Windows; no compiler needed) and cached next to this file, so only the first run
on a machine pays the compilation.

The keys are those of :mod:`curate.quality.repetition` (same salts, same mixing), so both find
the same repeats.

>>> import numpy as np
>>> words = np.array([1, 2, 3, 1, 2, 3, 4], dtype=np.uint64)
>>> out = ngram_ratios(words, np.array([0, 7]), np.ones(7))
>>> float(out[1, 0])  # top 3-gram: 'a b c' twice, 6 of 7 characters
0.8571428571428571
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from curate.compiled import jit as _jit
from curate.compiled import mix as _mix

F64 = npt.NDArray[np.float64]
Int = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]

#: Orders of the top n-gram signals (rows 0-2 of :func:`ngram_ratios`) and of the duplicate
#: n-gram signals (rows 3-8).
TOP_NGRAMS = (2, 3, 4)
DUP_NGRAMS = (5, 6, 7, 8, 9, 10)

_M1 = np.uint64(0x9E3779B97F4A7C15)
_M3 = np.uint64(0x94D049BB133111EB)
_SALT = np.uint64(0xD6E8FEB86659FD93)
_SPREAD = np.uint64(0x9FB21C651E98DF25)


@_jit
def _count(keys: U64, count: int, table: Int, first: Int, seen: Int) -> None:
    """Per key of ``keys[:count]``: index of its first occurrence and, there, how many times."""
    mask = np.uint64(len(table) - 1)
    for i in range(count):
        slot = np.int64(keys[i] & mask)
        while True:
            j = table[slot]
            if j < 0:
                table[slot] = i
                first[i] = i
                seen[i] = 1
                break
            if keys[j] == keys[i]:
                first[i] = j
                seen[j] += 1
                break
            slot = np.int64((np.uint64(slot) + np.uint64(1)) & mask)
    # Leave the table empty for the next order.
    for i in range(count):
        slot = np.int64(keys[i] & mask)
        while table[slot] >= 0:
            table[slot] = -1
            slot = np.int64((np.uint64(slot) + np.uint64(1)) & mask)


@_jit
def _doc_ngrams(
    word: U64, a: int, m: int, chars: F64, doc: int, out: F64, d: int, work: tuple[Any, ...]
) -> None:
    table, starts, keys, first, seen, nxt_starts, nxt_keys, covered = work
    total = 0.0
    for i in range(m):
        total += chars[a + i]
    if total <= 0:
        for r in range(out.shape[0]):
            out[r, d] = np.nan
        return
    salt = np.uint64(doc) * _SALT
    count = 0
    for s in range(m - 1):
        starts[count] = s
        keys[count] = _mix(salt + word[a + s]) ^ (word[a + s + 1] * _SPREAD)
        count += 1
    for n in range(2, 11):
        if n > 2:
            # An n-gram can repeat only where the (n-1)-grams at s and s + 1 both repeated
            # (which also keeps it inside the text).
            new = 0
            for i in range(count - 1):
                s = starts[i]
                if seen[first[i]] > 1 and starts[i + 1] == s + 1 and seen[first[i + 1]] > 1:
                    nxt_starts[new] = s
                    nxt_keys[new] = _mix(keys[i] * _M1 + word[a + s + n - 1])
                    new += 1
            for i in range(new):
                starts[i] = nxt_starts[i]
                keys[i] = nxt_keys[i]
            count = new
        _count(keys, count, table, first, seen)
        for i in range(m):
            covered[i] = False
        if n <= 4:
            # The most frequent repeated n-gram; ties: the most characters, then the first.
            best, best_count, best_chars = -1, 1, -1.0
            for i in range(count):
                if first[i] == i and seen[i] > 1:
                    c = 0.0
                    for k in range(n):
                        c += chars[a + starts[i] + k]
                    if seen[i] > best_count or (seen[i] == best_count and c > best_chars):
                        best, best_count, best_chars = i, seen[i], c
            if best >= 0:
                for i in range(count):
                    if first[i] == best:
                        for k in range(n):
                            covered[starts[i] + k] = True
        else:
            # Every word inside an occurrence after the first of a repeated n-gram.
            for i in range(count):
                if first[i] != i:
                    for k in range(n):
                        covered[starts[i] + k] = True
        got = 0.0
        for i in range(m):
            if covered[i]:
                got += chars[a + i]
        out[n - 2, d] = got / total


@_jit
def _ngram_ratios(word: U64, off: Int, chars: F64, salt_base: int) -> F64:
    n_docs = len(off) - 1
    out = np.zeros((9, n_docs))
    longest = 1
    for d in range(n_docs):
        longest = max(longest, off[d + 1] - off[d])
    size = 1
    while size < 2 * longest:
        size *= 2
    work = (
        np.full(size, -1, dtype=np.int64),
        np.zeros(longest, dtype=np.int64),
        np.zeros(longest, dtype=np.uint64),
        np.zeros(longest, dtype=np.int64),
        np.zeros(longest, dtype=np.int64),
        np.zeros(longest, dtype=np.int64),
        np.zeros(longest, dtype=np.uint64),
        np.zeros(longest, dtype=np.bool_),
    )
    for d in range(n_docs):
        a = off[d]
        _doc_ngrams(word, a, off[d + 1] - a, chars, salt_base + d, out, d, work)
    return out


def ngram_ratios(word: U64, off: Int, chars: F64, salt_base: int = 0) -> F64:
    """Rows: top 2/3/4-gram and duplicate 5..10-gram character ratios; one column per text.

    ``word`` holds the key of every word of every text, ``off`` each text's first word
    (``n + 1`` values) and ``chars`` each word's characters. NaN where a text has no word
    characters.
    """
    return np.asarray(
        _ngram_ratios(
            np.ascontiguousarray(word, dtype=np.uint64),
            np.ascontiguousarray(off, dtype=np.int64),
            np.ascontiguousarray(chars, dtype=np.float64),
            salt_base,
        )
    )


@_jit
def _count_tokens(starts: Int, space: npt.NDArray[np.bool_]) -> int:
    count = 0
    for d in range(len(starts) - 1):
        inside = False
        for p in range(starts[d], starts[d + 1]):
            if space[p]:
                inside = False
            elif not inside:
                inside = True
                count += 1
    return count


@_jit
def _fill_edges(starts: Int, space: npt.NDArray[np.bool_], edges: Int) -> None:
    # Branch-free: every byte writes its position, and only a change of class keeps it.
    k = 0
    for d in range(len(starts) - 1):
        before = True
        for p in range(starts[d], starts[d + 1]):
            now = space[p]
            edges[k] = p
            k += now != before
            before = now
        edges[k] = starts[d + 1]
        k += not before


def tokens(starts: Int, space: npt.NDArray[np.bool_]) -> tuple[Int, Int]:
    """Maximal runs of bytes not marked in ``space``, never crossing a text's start."""
    edges = np.empty(2 * _count_tokens(starts, space) + 1, dtype=np.int64)
    _fill_edges(starts, space, edges)
    return np.ascontiguousarray(edges[0:-1:2]), np.ascontiguousarray(edges[1::2])


@_jit
def _words(
    data: npt.NDArray[np.uint8],
    tok_s: Int,
    tok_e: Int,
    lead_pos: Int,
    lead_cls: npt.NDArray[np.uint8],
    ascii_cls: npt.NDArray[np.uint8],
    punct: int,
    letter: int,
    out: tuple[Any, ...],
) -> int:
    word_s, word_e, chars, alpha, head, key = out
    n_leads = len(lead_pos)
    size = len(data)
    li = 0
    k = 0
    for t in range(len(tok_s)):
        s, e = tok_s[t], tok_e[t]
        while li < n_leads and lead_pos[li] < s:
            li += 1
        # Leading punctuation and symbols: step over whole characters.
        first = li
        while s < e:
            b = data[s]
            if b < 0x80:
                if not ascii_cls[b] & punct:
                    break
                s += 1
            else:
                if not lead_cls[first] & punct:
                    break
                s += 2 if b < 0xE0 else (3 if b < 0xF0 else 4)
                first += 1
        if s >= e:
            continue
        # Trailing ones: the last lead before e starts the last multi-byte character.
        last = li
        while last < n_leads and lead_pos[last] < e:
            last += 1
        while s < e:
            b = data[e - 1]
            if b < 0x80:
                if not ascii_cls[b] & punct:
                    break
                e -= 1
            else:
                if not lead_cls[last - 1] & punct:
                    break
                e = lead_pos[last - 1]
                last -= 1
        if s >= e:
            continue
        n_chars = 0
        has_letter = False
        lead = first
        for p in range(s, e):
            b = data[p]
            if b < 0x80:
                n_chars += 1
                if ascii_cls[b] & letter:
                    has_letter = True
            elif b >= 0xC0:
                n_chars += 1
                if lead_cls[lead] & letter:
                    has_letter = True
                lead += 1
        length = e - s
        h = np.uint64(0)
        for j in range(min(length, 8)):
            h |= np.uint64(data[s + j]) << np.uint64(8 * j)
        head[k] = h
        if length > 8:
            h = _mix(_mix(np.uint64(length) ^ _M3) * _M1 + h)
            step = 1
            while length > 8 * step:
                chunk = np.uint64(0)
                at = s + 8 * step
                for j in range(min(length - 8 * step, 8)):
                    if at + j < size:
                        chunk |= np.uint64(data[at + j]) << np.uint64(8 * j)
                h = _mix(h * _M1 + chunk)
                step += 1
        key[k] = h
        word_s[k], word_e[k], chars[k], alpha[k] = s, e, n_chars, has_letter
        k += 1
    return k


def words(
    data: npt.NDArray[np.uint8],
    tok_s: Int,
    tok_e: Int,
    lead_pos: Int,
    lead_cls: npt.NDArray[np.uint8],
    ascii_cls: npt.NDArray[np.uint8],
    *,
    punct: int,
    letter: int,
) -> tuple[Int, Int, Int, npt.NDArray[np.bool_], U64, U64]:
    """Words of the tokens: start, end, characters, has-a-letter, first eight bytes, key.

    A word is a token with leading and trailing characters of class ``punct`` removed (tokens
    that are nothing else are dropped); its key is its bytes when at most eight, else a hash of
    its bytes and length (the keys of :class:`curate.quality.hashing.Window`).
    """
    n = len(tok_s)
    out = (
        np.empty(n, dtype=np.int64),
        np.empty(n, dtype=np.int64),
        np.empty(n, dtype=np.int64),
        np.empty(n, dtype=np.bool_),
        np.empty(n, dtype=np.uint64),
        np.empty(n, dtype=np.uint64),
    )
    k = _words(data, tok_s, tok_e, lead_pos, lead_cls, ascii_cls, punct, letter, out)
    s, e, chars, alpha, head, key = out
    return s[:k], e[:k], chars[:k], alpha[:k], head[:k], key[:k]


@_jit
def _line_spans(
    tok_s: Int, starts: Int, newlines: Int, first: Int, para: npt.NDArray[np.bool_]
) -> int:
    lines, nl, doc = 0, 0, 0
    for i in range(len(tok_s)):
        breaks = 0
        while nl < len(newlines) and newlines[nl] < tok_s[i]:
            nl += 1
            breaks += 1
        new_doc = i == 0
        while starts[doc + 1] <= tok_s[i]:
            doc += 1
            new_doc = True
        if breaks or new_doc:
            first[lines] = i
            para[lines] = new_doc or breaks >= 2
            lines += 1
    return lines


def line_spans(tok_s: Int, starts: Int, newlines: Int) -> tuple[Int, npt.NDArray[np.bool_]]:
    """First token of every line (a newline or a text's start begins one) and whether it also
    begins a paragraph (after a blank line, or first in its text)."""
    first = np.empty(len(tok_s), dtype=np.int64)
    para = np.empty(len(tok_s), dtype=np.bool_)
    count = _line_spans(tok_s, starts, newlines, first, para)
    return first[:count], para[:count]


@_jit
def _line_keys(word_key: U64, first_word: Int, words: Int, chars: Int, out: U64) -> None:
    for line in range(len(first_word)):
        h = np.uint64(0)
        at = first_word[line]
        for r in range(words[line]):
            h += _mix(word_key[at + r] + np.uint64(r) * _M1)
        h = _mix(h ^ np.uint64(words[line]))
        out[line] = _mix(h * _M1 + np.uint64(chars[line]))


def line_keys(word_key: U64, first_word: Int, words: Int, chars: Int) -> U64:
    """Per line: a key of its words in order and of its length in characters.

    Order-dependent: the sum of ``mix(key + rank * M1)`` over the line's words, mixed with the
    word count, then combined with the characters as :func:`curate.quality.hashing.combine`.
    """
    out = np.empty(len(first_word), dtype=np.uint64)
    _line_keys(word_key, first_word, words, chars, out)
    return out
