"""Compiled word splitting and hashing for decontamination, over the UTF-8 bytes of a batch.

One pass per batch decodes UTF-8, looks every code point up in a table saying whether it can
be part of a word, lower-cases ASCII letters and hashes each word's bytes (FNV-1a, then a
64-bit finaliser). What the old regular expression pass did with ``[^\\p{P}\\p{S}\\s]+`` the
table does per code point; the table is filled from that same expression (Polars' regex
engine), for ASCII at import and for other code points the first time a batch holds them, so
both always agree. Compiled by numba and cached on disk next to this module.

>>> import numpy as np
>>> data = np.frombuffer("Hi, the Cat".encode(), dtype=np.uint8)
>>> hashes, counts = split_hash(data, np.array([0, 2]), np.array([2, 11]))
>>> alone, _ = split_hash(np.frombuffer(b"hi", np.uint8), np.array([0]), np.array([2]))
>>> counts.tolist(), bool(hashes[0] == alone[0]), words_of(data, 2, 11)
([1, 2], True, ['the', 'cat'])
"""

from __future__ import annotations

import unicodedata

import numpy as np
import numpy.typing as npt
import polars as pl

from curate.compiled import jit as _jit
from curate.compiled import mix as _mix

U64 = npt.NDArray[np.uint64]
Int = npt.NDArray[np.int64]
Bytes = npt.NDArray[np.uint8]

#: A word: a run of characters that are not punctuation, symbols or white space.
WORD = r"[^\p{P}\p{S}\s]+"
CODE_POINTS = 0x110000
_OFFSET = np.uint64(0xCBF29CE484222325 ^ 0x5EED_DEC0)
_PRIME = np.uint64(0x100000001B3)


def _classify(points: Int) -> npt.NDArray[np.bool_]:
    """Whether each code point matches :data:`WORD` (surrogates never do)."""
    chars = pl.Series([chr(int(c)) if not 0xD800 <= c < 0xE000 else "" for c in points])
    found: npt.NDArray[np.bool_] = chars.str.contains(f"^{WORD}$").to_numpy()
    return found


#: Code points classified so far, which of them are word characters, and which are unassigned
#: in Python's Unicode database (so its NFKC quick check cannot vouch for them).
_KNOWN = np.zeros(CODE_POINTS, dtype=np.bool_)
_WORDLIKE = np.zeros(CODE_POINTS, dtype=np.bool_)
_UNKNOWN_TO_PYTHON = np.zeros(CODE_POINTS, dtype=np.bool_)
_KNOWN[:128] = True
_WORDLIKE[:128] = _classify(np.arange(128))


@_jit
def _decode(data: Bytes, i: int) -> tuple[int, int]:
    """The code point starting at byte ``i`` and its length in bytes (input is valid UTF-8)."""
    b = np.int64(data[i])
    if b < 0x80:
        return b, 1
    if b < 0xE0:
        return ((b & 0x1F) << 6) | (np.int64(data[i + 1]) & 0x3F), 2
    if b < 0xF0:
        c = ((b & 0x0F) << 12) | ((np.int64(data[i + 1]) & 0x3F) << 6)
        return c | (np.int64(data[i + 2]) & 0x3F), 3
    c = ((b & 0x07) << 18) | ((np.int64(data[i + 1]) & 0x3F) << 12)
    c |= (np.int64(data[i + 2]) & 0x3F) << 6
    return c | (np.int64(data[i + 3]) & 0x3F), 4


@_jit
def _mark(data: Bytes, seen: npt.NDArray[np.bool_]) -> None:
    i = 0
    while i < len(data):
        if data[i] < 0x80:
            i += 1
            continue
        c, size = _decode(data, i)
        seen[c] = True
        i += size


@_jit
def _split_hash(
    data: Bytes, lo: Int, hi: Int, wordlike: npt.NDArray[np.bool_], hashes: U64, counts: Int
) -> int:
    w = 0
    for r in range(len(lo)):
        first = w
        inside = False
        h = _OFFSET
        i = lo[r]
        stop = hi[r]
        while i < stop:
            b = data[i]
            if b < 0x80:
                c, size = np.int64(b), 1
            else:
                c, size = _decode(data, i)
            if wordlike[c]:
                if not inside:
                    inside = True
                    h = _OFFSET
                for k in range(size):
                    byte = np.int64(data[i + k])
                    if 65 <= byte <= 90:
                        byte += 32
                    h = (h ^ np.uint64(byte)) * _PRIME
            elif inside:
                hashes[w] = _mix(h)
                w += 1
                inside = False
            i += size
        if inside:
            hashes[w] = _mix(h)
            w += 1
        counts[r] = w - first
    return w


@_jit
def _spans(data: Bytes, lo: int, hi: int, wordlike: npt.NDArray[np.bool_]) -> Int:
    out = np.empty(hi - lo + 1, dtype=np.int64)
    n = 0
    inside = False
    i = lo
    while i < hi:
        c, size = _decode(data, i)
        if wordlike[c] != inside:
            out[n] = i
            n += 1
            inside = not inside
        i += size
    if inside:
        out[n] = hi
        n += 1
    return out[:n]


def learn(data: Bytes) -> None:
    """Classify the non-ASCII code points of ``data`` not seen before."""
    if not len(data):
        return
    seen = np.zeros(CODE_POINTS, dtype=np.bool_)
    _mark(data, seen)
    new = np.flatnonzero(seen & ~_KNOWN)
    if len(new):
        _WORDLIKE[new] = _classify(new)
        _UNKNOWN_TO_PYTHON[new] = [unicodedata.category(chr(int(c))) == "Cn" for c in new]
        _KNOWN[new] = True


@_jit
def _holding(
    data: Bytes, lo: Int, hi: Int, flagged: npt.NDArray[np.bool_]
) -> npt.NDArray[np.bool_]:
    out = np.zeros(len(lo), dtype=np.bool_)
    for r in range(len(lo)):
        i = lo[r]
        while i < hi[r]:
            c, size = _decode(data, i)
            if flagged[c]:
                out[r] = True
                break
            i += size
    return out


def unknown_to_python(data: Bytes, lo: Int, hi: Int) -> npt.NDArray[np.bool_]:
    """Which texts ``data[lo[r]:hi[r]]`` hold a code point Python's Unicode database does not
    know: Arrow's NFKC (a newer Unicode) may change those where ``unicodedata`` says not."""
    learn(data)
    return _holding(data, lo, hi, _UNKNOWN_TO_PYTHON)


def split_hash(data: Bytes, lo: Int, hi: Int, *, ascii_only: bool = False) -> tuple[U64, Int]:
    """The hash of every word of the texts ``data[lo[r]:hi[r]]`` (ASCII letters lower-cased,
    other characters as given), in order, and the number of words of each text."""
    if not ascii_only:
        learn(data)
    counts = np.zeros(len(lo), dtype=np.int64)
    # Untouched pages of the upper bound are never allocated by the operating system.
    hashes = np.empty((len(data) + 1) // 2 + len(lo), dtype=np.uint64)
    found = _split_hash(data, lo, hi, _WORDLIKE, hashes, counts)
    return hashes[:found].copy(), counts


def words_of(data: Bytes, lo: int, hi: int, first: int = 0, count: int | None = None) -> list[str]:
    """The words of the text ``data[lo:hi]`` (``count`` of them from word ``first``, default
    all), ASCII letters lower-cased."""
    learn(data[lo:hi])
    edges = (_spans(data, lo, hi, _WORDLIKE) - lo).tolist()
    stop = len(edges) if count is None else min(len(edges), 2 * (first + count))
    raw = data[lo:hi].tobytes()
    return [
        _ascii_lower(raw[edges[k] : edges[k + 1]]).decode("utf-8")
        for k in range(2 * first, stop, 2)
    ]


@_jit
def _prefix(hashes: U64, powers: U64, sums: U64) -> None:
    total = np.uint64(0)
    sums[0] = total
    for i in range(len(hashes)):
        total += hashes[i] * powers[i]
        sums[i + 1] = total


def prefix_sums(hashes: U64, powers: U64) -> U64:
    """``S[k] = sum(hashes[m] * powers[m] for m < k)`` modulo 2**64, ``k <= len(hashes)``."""
    sums = np.empty(len(hashes) + 1, dtype=np.uint64)
    _prefix(hashes, powers, sums)
    return sums


@_jit
def _probe(
    sums: U64,
    inverse: U64,
    offsets: Int,
    n: int,
    bits: Bytes,
    shift: np.uint64,
    keys: U64,
    out: Int,
) -> int:
    found = 0
    for d in range(len(offsets) - 1):
        for i in range(offsets[d], offsets[d + 1] - n + 1):
            h = (sums[i + n] - sums[i]) * inverse[i]
            slot = h >> shift
            if bits[slot >> np.uint64(3)] & (np.uint8(1) << np.uint8(slot & np.uint64(7))):
                at = np.searchsorted(keys, h)
                if at < len(keys) and keys[at] == h:
                    out[3 * found] = d
                    out[3 * found + 1] = i
                    out[3 * found + 2] = at
                    found += 1
    return found


def probe(
    sums: U64, inverse: U64, offsets: Int, n: int, bits: Bytes, shift: np.uint64, keys: U64
) -> tuple[Int, Int, Int]:
    """Every ``n``-word gram inside a text that is in ``keys`` (sorted), found from the word
    prefix sums (:mod:`curate.decontam.ngrams`) and ruled out first by the bitmap ``bits``:
    the text, the word position and the key's index of each."""
    out = np.empty(3 * max(len(sums), 1), dtype=np.int64)
    found = _probe(sums, inverse, offsets, n, bits, shift, keys, out)
    hits = out[: 3 * found].reshape(found, 3)
    return hits[:, 0].copy(), hits[:, 1].copy(), hits[:, 2].copy()


def _ascii_lower(word: bytes) -> bytes:
    return word.translate(_LOWER)


_LOWER = bytes(range(65)) + bytes(range(97, 123)) + bytes(range(91, 256))
