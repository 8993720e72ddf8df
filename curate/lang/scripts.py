"""The main Unicode script of each text (Latin, Cyrillic, Han, Arabic, ...), vectorised.

Each character is mapped to a script by its Unicode block; the script with the most characters
wins (ties go to the script listed first in :data:`SCRIPTS`). Digits, punctuation, symbols and
characters of scripts not listed do not count; a text without any counted character gets null.
Hiragana and Katakana count together as ``Kana``, Hangul syllables and jamo as ``Hangul``.

The work happens on the UTF-8 bytes of the whole Arrow array at once with NumPy: lead bytes are
decoded to code points, looked up in a table, and counted per text.

>>> import pyarrow as pa
>>> main_scripts(pa.array(["Hello", "Привет мир", "你好，世界", "مرحبا", "123", None])).to_pylist()
['Latin', 'Cyrillic', 'Han', 'Arabic', None, None]
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

#: Script name -> inclusive code point ranges (Unicode blocks, letters only where cheap).
SCRIPTS: dict[str, tuple[tuple[int, int], ...]] = {
    "Latin": (
        (0x41, 0x5A), (0x61, 0x7A), (0xC0, 0xD6), (0xD8, 0xF6), (0xF8, 0x24F), (0x250, 0x2AF),
        (0x1E00, 0x1EFF), (0x2C60, 0x2C7F), (0xA720, 0xA7FF), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A),
    ),
    "Cyrillic": ((0x400, 0x52F), (0x1C80, 0x1C8F), (0x2DE0, 0x2DFF), (0xA640, 0xA69F)),
    "Greek": ((0x370, 0x3FF), (0x1F00, 0x1FFF)),
    "Armenian": ((0x531, 0x58F),),
    "Georgian": ((0x10A0, 0x10FF), (0x1C90, 0x1CBF), (0x2D00, 0x2D2F)),
    "Hebrew": ((0x591, 0x5FF), (0xFB1D, 0xFB4F)),
    "Arabic": (
        (0x600, 0x65F), (0x66E, 0x6FF), (0x750, 0x77F), (0x8A0, 0x8FF), (0xFB50, 0xFDFF),
        (0xFE70, 0xFEFF),
    ),
    "Syriac": ((0x700, 0x74F),),
    "Thaana": ((0x780, 0x7BF),),
    "Devanagari": ((0x900, 0x963), (0x966, 0x97F), (0xA8E0, 0xA8FF)),
    "Bengali": ((0x980, 0x9FF),),
    "Gurmukhi": ((0xA00, 0xA7F),),
    "Gujarati": ((0xA80, 0xAFF),),
    "Oriya": ((0xB00, 0xB7F),),
    "Tamil": ((0xB80, 0xBFF),),
    "Telugu": ((0xC00, 0xC7F),),
    "Kannada": ((0xC80, 0xCFF),),
    "Malayalam": ((0xD00, 0xD7F),),
    "Sinhala": ((0xD80, 0xDFF),),
    "Thai": ((0xE01, 0xE3A), (0xE40, 0xE4E)),
    "Lao": ((0xE80, 0xEFF),),
    "Tibetan": ((0xF00, 0xFFF),),
    "Myanmar": ((0x1000, 0x109F),),
    "Ethiopic": ((0x1200, 0x139F),),
    "Cherokee": ((0x13A0, 0x13FF),),
    "Canadian_Aboriginal": ((0x1400, 0x167F),),
    "Khmer": ((0x1780, 0x17FF),),
    "Mongolian": ((0x1800, 0x18AF),),
    "Hangul": ((0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xAC00, 0xD7FF)),
    "Kana": ((0x3041, 0x309F), (0x30A0, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F)),
    "Han": (
        (0x2E80, 0x2FDF), (0x3005, 0x3007), (0x3021, 0x3029), (0x3400, 0x4DBF),
        (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3134F),
    ),
}  # fmt: skip

NAMES: tuple[str, ...] = tuple(SCRIPTS)
_NONE = len(NAMES)
_TABLE_SIZE = 0x10000


@cache
def _tables() -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64], npt.NDArray[np.uint8]]:
    """A script id per BMP code point, plus sorted (start, id) pairs for the astral planes."""
    bmp = np.full(_TABLE_SIZE, _NONE, dtype=np.uint8)
    starts: list[tuple[int, int, int]] = []
    for sid, ranges in enumerate(SCRIPTS.values()):
        for lo, hi in ranges:
            if hi < _TABLE_SIZE:
                bmp[lo : hi + 1] = sid
            else:
                starts.append((lo, hi, sid))
    bounds = np.array([b for lo, hi, _ in starts for b in (lo, hi + 1)], dtype=np.int64)
    ids = np.array([v for _, _, sid in starts for v in (sid, _NONE)], dtype=np.uint8)
    return bmp, bounds, ids


def script_counts(texts: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.int64]:
    """Characters of each script in each text: shape ``(len(texts), len(NAMES))``."""
    arr = texts.combine_chunks() if isinstance(texts, pa.ChunkedArray) else texts
    arr = pc.fill_null(arr.cast(pa.large_string()), "")
    n = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64, count=n + 1, offset=arr.offset * 8)
    start, stop = int(offsets[0]), int(offsets[-1])
    if stop == start:
        return np.zeros((n, _NONE), dtype=np.int64)
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[start:stop]
    bmp, bounds, ids = _tables()
    # Bytes are looked up as if they were code points: right for ASCII, and every byte >= 0x80
    # maps to "none" (the table has nothing below U+00C0 there) until its lead byte is decoded.
    sid = bmp[:256][data]
    sid[data >= 0x80] = _NONE
    lead = np.flatnonzero(data >= 0xC0)
    if lead.size:
        codes = decode_leads(data, lead)
        found = bmp[np.minimum(codes, _TABLE_SIZE - 1)]
        astral = codes >= _TABLE_SIZE
        if astral.any():
            # ids alternate (script, none) per range, so a code point outside every range lands
            # on "none", including index -1.
            found[astral] = ids[np.searchsorted(bounds, codes[astral], side="right") - 1]
        sid[lead] = found
    # Only lead bytes can carry a non-ASCII script, so the scripts present are cheap to find.
    present = set(np.flatnonzero(np.bincount(sid[lead], minlength=_NONE + 1)[:_NONE]).tolist())
    latin = 0
    if latin not in present and np.any(sid == latin):
        present.add(latin)
    counts = np.zeros((n, _NONE), dtype=np.int64)
    starts = offsets[:-1] - start
    nonempty = offsets[1:] > offsets[:-1]
    for script in sorted(present):
        per_doc = np.add.reduceat((sid == script).view(np.uint8), starts[nonempty], dtype=np.int64)
        counts[nonempty, script] = per_doc
    return counts


def decode_leads(data: npt.NDArray[np.uint8], lead: npt.NDArray[np.intp]) -> npt.NDArray[np.int32]:
    """Code points of the multi-byte UTF-8 sequences starting at byte positions ``lead``."""
    first = data[lead]

    def decode(pos: npt.NDArray[np.intp], width: int, mask: int) -> npt.NDArray[np.int32]:
        value = (data[pos] & mask).astype(np.int32)
        for i in range(1, width):
            value = (value << 6) | (np.take(data, pos + i, mode="clip") & 0x3F)
        return value

    # Three-byte sequences (most of CJK, Indic, Thai) first for every lead, then the others.
    codes = decode(lead, 3, 0x0F)
    for width, which in ((2, first < 0xE0), (4, first >= 0xF0)):
        idx = np.flatnonzero(which)
        if idx.size:
            codes[idx] = decode(lead[idx], width, 0x1F if width == 2 else 0x07)
    return codes


def main_scripts(texts: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The script with the most characters in each text (null when none counts)."""
    counts = script_counts(texts)
    if counts.shape[0] == 0:
        return pa.array([], type=pa.string())
    best = counts.argmax(axis=1)
    names = np.array(NAMES, dtype=object)[best]
    return pa.array(names, type=pa.string(), mask=counts.max(axis=1) == 0)
