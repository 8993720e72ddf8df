"""Tokens and shingles of one text: the definitions the batch path in
:mod:`curate.dedup.shingles` reproduces, and the hash functions both use.

Text is normalised the way near-duplicate detection needs it: lowercase, punctuation to space,
digits to ``0``, accents stripped (from Latin, Greek and Cyrillic letters only: marks of other
scripts carry meaning), whitespace collapsed. A token is a run of letters, digits and combining
marks. Documents written mostly in scripts without spaces between words (Chinese, Japanese,
Thai, Lao, Khmer, Myanmar, Tibetan) are shingled on characters instead of words.

A token hashes to 64-bit FNV-1a of its normalised UTF-8 bytes (simple enough to compute for
many tokens at once with NumPy); a shingle hash combines its tokens' hashes and folds the result
to 32 bits. :func:`shingle_hash` is the token hash function to give
``datasketch.MinHash(hashfunc=...)`` to get the signatures curate computes.

>>> shingles("Hello, World! It's 2024.", ngram=3)
[('hello', 'world', 'it'), ('world', 'it', 's'), ('it', 's', '0000')]
>>> shingles("東京は晴れ", char_ngram=3)
[('東', '京', 'は'), ('京', 'は', '晴'), ('は', '晴', 'れ')]
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

Tokenizer = Literal["auto", "words", "chars"]

#: A document is shingled on characters when at least this share of its letters are in a
#: script written without spaces.
SPACELESS_SHARE = 0.3

MASK64 = (1 << 64) - 1
#: Odd multiplier of the running shingle combination (a bijection per step).
MULT = 0x9E3779B97F4A7C15
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
_ASCII_DIGITS = str.maketrans("123456789", "000000000")
_SPACELESS_RANGES = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x0F00, 0x0FFF),  # Tibetan
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x31F0, 0x31FF),
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),
    (0xFF66, 0xFF9F),  # half-width Katakana
    (0x20000, 0x3FFFF),
)

#: Byte map normalising ASCII tokens: upper to lower case, digits to ``0``.
ASCII_FOLD = np.arange(256, dtype=np.uint8)
ASCII_FOLD[ord("A") : ord("Z") + 1] += 32
ASCII_FOLD[ord("1") : ord("9") + 1] = ord("0")


def is_spaceless(ch: str) -> bool:
    """True for a character of a script written without spaces between words."""
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in _SPACELESS_RANGES)


def _strippable_base(ch: str) -> bool:
    code = ord(ch)
    return code < 0x0530 or 0x1E00 <= code <= 0x1FFF


def normalize_token(token: str) -> str:
    """Lowercase, strip Latin/Greek/Cyrillic accents, map digits to ``0``.

    >>> normalize_token("Ça-Été42")
    'ca-ete00'
    """
    low = token.lower()
    if low.isascii():
        return low.translate(_ASCII_DIGITS)
    out: list[str] = []
    base = ""
    for ch in unicodedata.normalize("NFKD", low):
        if unicodedata.combining(ch):
            if base and _strippable_base(base):
                continue
        else:
            base = ch
        out.append("0" if ch.isdecimal() else ch)
    return unicodedata.normalize("NFC", "".join(out))


def token_hash(token: str) -> int:
    """64-bit FNV-1a of an already normalised token's UTF-8 bytes."""
    h = FNV_OFFSET
    for byte in token.encode("utf-8"):
        h = ((h ^ byte) * FNV_PRIME) & MASK64
    return h


def token_hashes(
    data: npt.NDArray[np.uint8], starts: npt.NDArray[np.int64], lengths: npt.NDArray[np.int64]
) -> npt.NDArray[np.uint64]:
    """:func:`token_hash` of many byte strings ``data[starts[i]:starts[i] + lengths[i]]``.

    One NumPy step per byte position: strings are sorted longest first, so the strings still
    being hashed at position ``k`` are a prefix of the array.
    """
    order = np.argsort(-lengths, kind="stable")
    s, n = starts[order], lengths[order]
    h = np.full(len(s), FNV_OFFSET, dtype=np.uint64)
    longest = int(n[0]) if len(n) else 0
    live = np.searchsorted(-n, -np.arange(longest), side="left")
    for k in range(longest):
        part = h[: live[k]]
        part ^= data[s[: live[k]] + k]
        part *= np.uint64(FNV_PRIME)
    out = np.empty_like(h)
    out[order] = h
    return out


def fmix64_int(h: int) -> int:
    """MurmurHash3's 64-bit finaliser on one integer."""
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & MASK64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & MASK64
    return h ^ (h >> 33)


def shingle_hash(shingle: Sequence[str]) -> int:
    """32-bit hash of one shingle (a sequence of normalised tokens); datasketch's ``hashfunc``."""
    h = 0
    for tok in shingle:
        h = (h * MULT + token_hash(tok)) & MASK64
    return fmix64_int(h) >> 32


def tokens(text: str) -> list[str]:
    """Raw tokens of one text (runs of letters, digits, marks), before normalisation."""
    out: list[str] = []
    cur: list[str] = []
    for ch in text:
        if unicodedata.category(ch)[0] in "LNM":
            cur.append(ch)
        elif cur:
            out.append("".join(cur))
            cur = []
    if cur:
        out.append("".join(cur))
    return out


def _windows(seq: Sequence[str], n: int) -> list[tuple[str, ...]]:
    if not seq:
        return []
    if len(seq) < n:
        return [tuple(seq)]
    return [tuple(seq[i : i + n]) for i in range(len(seq) - n + 1)]


def shingles(
    text: str, *, ngram: int = 5, char_ngram: int = 5, tokenizer: Tokenizer = "auto"
) -> list[tuple[str, ...]]:
    """Shingles of one text, one at a time: the reference the batch path is tested against.

    A text with fewer tokens than ``ngram`` gives one shingle of all its tokens.
    """
    norm = [t for t in (normalize_token(t) for t in tokens(text)) if t]
    letters = sum(len(t) for t in norm)
    spaceless = sum(is_spaceless(c) for t in norm for c in t)
    chars = tokenizer == "chars" or (
        tokenizer == "auto" and letters > 0 and spaceless >= SPACELESS_SHARE * letters
    )
    if chars:
        return _windows([c for t in norm for c in t], char_ngram)
    return _windows(norm, ngram)
