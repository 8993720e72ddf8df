"""Stop words per language, for the Gopher stop-word signal, and a vectorised counter.

English uses the eight words of the Gopher rule (a document must contain at least two of them).
The other lists follow the same idea, written for this project: each language's articles and its
most frequent prepositions, conjunctions and forms of "be" and "have". Chinese and Japanese text
is split into single characters (see :mod:`curate.quality.text`), so their lists hold the most
frequent single-character function words. Matching ignores ASCII case.

>>> sorted(STOP_WORDS)[:4]
['de', 'en', 'es', 'fr']
>>> "the" in STOP_WORDS["en"], "der" in STOP_WORDS["de"], "的" in STOP_WORDS["zh"]
(True, True, True)
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt

from curate.quality.hashing import Window

_LISTS = {
    "en": "the be to of and that have with",
    "de": "der die das und zu von mit ist sein haben den dem nicht ein eine",
    "fr": "le la les de des du et à être avoir que est un une avec pour",
    "es": "el la los las de del y que ser haber es con en un una por",
    "it": "il lo la gli le di e che essere avere è con un una per",
    "pt": "o a os as de do da e que ser ter é com um uma para",
    "nl": "de het een en van te dat zijn hebben is met",
    "ru": "и в не на что с быть он как это по",
    "zh": "的 了 是 在 和 有 我 不 这 就 也 都 他 与 之",
    "ja": "の に は を た が で て と も",
}

STOP_WORDS: dict[str, frozenset[str]] = {lang: frozenset(w.split()) for lang, w in _LISTS.items()}

# Words are matched by their first eight bytes (see curate.quality.hashing.Window.folded).
assert all(len(w.encode()) <= 8 for words in STOP_WORDS.values() for w in words)


@cache
def _table(lang: str) -> tuple[np.uint64, npt.NDArray[np.uint64]]:
    """A collision-free multiplicative hash table of the folded keys of ``lang``'s stop words."""
    words = sorted(STOP_WORDS[lang])
    encoded = [w.encode() for w in words]
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    ends = np.cumsum([len(b) for b in encoded], dtype=np.int64)
    starts = ends - np.array([len(b) for b in encoded], dtype=np.int64)
    keys = Window(data).folded(starts, ends)
    rng = np.random.default_rng(0)
    while True:
        factor = np.uint64(int(rng.integers(1, 2**62)) * 2 + 1)
        slots = (keys * factor) >> np.uint64(64 - _BITS)
        if len(set(slots.tolist())) == len(keys):
            # Slot 0 of an empty table entry holds 0, which no word's key equals.
            table = np.zeros(1 << _BITS, dtype=np.uint64)
            table[slots.astype(np.int64)] = keys
            return factor, table


_BITS = 8


def longest(lang: str) -> int:
    """Bytes of the longest stop word of ``lang``: longer words need no lookup."""
    return max(len(w.encode()) for w in STOP_WORDS[lang])


def is_stop_word(folded: npt.NDArray[np.uint64], lang: str) -> npt.NDArray[np.bool_]:
    """Which of the case-folded word keys are stop words of ``lang``."""
    factor, table = _table(lang)
    slots = ((folded * factor) >> np.uint64(64 - _BITS)).astype(np.intp)
    return np.asarray(table[slots] == folded)
