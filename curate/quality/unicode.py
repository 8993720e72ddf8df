"""Character classes for quality signals, as lookup tables over code points.

Classes are bit flags built from Unicode general categories:

* ``SPACE``: separators (``Z*``) and control characters; they split words.
* ``PUNCT``: punctuation and symbols (``P*``, ``S*``); they are trimmed from the ends of words.
* ``LETTER``: letters (``L*``); a word with one counts as alphabetic.
* ``SOLO``: Han, Kana and Thai characters, which are written without spaces between words; each
  one is a word of its own (a Thai consonant or vowel together with its combining marks).

>>> char_class("a") == LETTER, char_class("。") == PUNCT, bool(char_class("中") & SOLO)
(True, True, True)
"""

from __future__ import annotations

import unicodedata
from functools import cache

import numpy as np
import numpy.typing as npt

from curate.lang.scripts import SCRIPTS

SPACE, PUNCT, LETTER, SOLO = 1, 2, 4, 8
BMP = 0x10000

#: Byte put around each SOLO character so that splitting on whitespace splits them; it is a
#: control character, hence a separator, and is never counted as a character.
SEPARATOR = "\x1f"

_THAI_BASE = ((0x0E01, 0x0E30), (0x0E32, 0x0E33), (0x0E3F, 0x0E46), (0x0E4F, 0x0E5B))
_THAI_MARKS = ((0x0E31, 0x0E31), (0x0E34, 0x0E3A), (0x0E47, 0x0E4E))
SOLO_RANGES: tuple[tuple[int, int], ...] = (*SCRIPTS["Han"], *SCRIPTS["Kana"], *_THAI_BASE)


def _char_class_of(cp: int) -> int:
    cat = unicodedata.category(chr(cp))
    # Control characters (tab, newline, the separator above) split words like spaces do, and so
    # does the zero-width space that Thai and Khmer text uses between words.
    if cat[0] == "Z" or cat == "Cc" or cp == 0x200B:
        return SPACE
    if cat[0] in "PS":
        return PUNCT
    return LETTER if cat[0] == "L" else 0


@cache
def table() -> npt.NDArray[np.uint8]:
    """Class flags of every code point of the Basic Multilingual Plane."""
    out = np.array([_char_class_of(cp) for cp in range(BMP)], dtype=np.uint8)
    for lo, hi in SOLO_RANGES:
        if lo < BMP:
            out[lo : min(hi, BMP - 1) + 1] |= SOLO
    return out


def classify(codes: npt.NDArray[np.int32]) -> npt.NDArray[np.uint8]:
    """Class flags of an array of code points (outside the BMP: looked up one by one)."""
    flags = table()[np.minimum(codes, BMP - 1)]
    astral = codes >= BMP
    if astral.any():
        values, inverse = np.unique(codes[astral], return_inverse=True)
        found = [
            _char_class_of(int(cp)) | (SOLO if any(lo <= cp <= hi for lo, hi in SOLO_RANGES) else 0)
            for cp in values
        ]
        flags[astral] = np.array(found, dtype=np.uint8)[inverse]
    return flags


def char_class(ch: str) -> int:
    """Class flags of one character."""
    return int(classify(np.array([ord(ch)], dtype=np.int32))[0])


def solo_pattern() -> str:
    """An RE2 pattern matching one SOLO character, with the Thai marks that follow it."""

    def cls(ranges: tuple[tuple[int, int], ...]) -> str:
        return "".join(f"\\x{{{lo:04X}}}-\\x{{{hi:04X}}}" for lo, hi in ranges)

    cjk = (*SCRIPTS["Han"], *SCRIPTS["Kana"])
    return f"([{cls(cjk)}]|[{cls(_THAI_BASE)}][{cls(_THAI_MARKS)}]*)"
