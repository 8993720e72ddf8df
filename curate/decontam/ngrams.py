"""Word n-gram hashes of many texts at once, for decontamination.

Texts are normalised the way ``dedup.exact`` can be asked to (NFKC, lower case, punctuation to
spaces, whitespace collapsed), split into words, and every word hashed once to ``w``. The hash
of the n-gram starting at word ``i`` is the polynomial ``sum(w[i + j] * B**j for j < n)``
modulo 2**64 with a fixed odd ``B``. With prefix sums ``S[k] = sum(w[m] * B**m for m < k)`` it
is ``(S[i + n] - S[i]) * B**-i`` (odd numbers are invertible modulo 2**64): a handful of
vectorised passes whatever ``n``, and every length from the same prefix sums, which is how
items shorter than ``n`` words are matched whole. Two n-grams that differ in one word never
collide.

>>> import pyarrow as pa
>>> words = split_words(pa.array(["The cat, the HAT!", "the hat"]))
>>> words.counts.tolist(), words.tokens.to_list()
([4, 2], ['the', 'cat', 'the', 'hat', 'the', 'hat'])
>>> grams = words.gram_hashes(2)
>>> bool(grams[2] == grams[4]), words.valid(2).tolist()
(True, [True, True, True, False, True, False])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from curate.dedup.textnorm import Step

#: Normalisation of texts before they are split into words (as ``dedup.exact`` names the steps).
STEPS: tuple[Step, ...] = ("nfkc", "lowercase", "punctuation", "whitespace")
WORD = r"[^\p{P}\p{S}\s]+"
#: Seed of the word hash; fixed so an index and the texts it is matched against agree.
SEED = 0x5EED_DEC0
#: The polynomial's base (odd) and its inverse modulo 2**64.
BASE = 0x9E3779B97F4A7C15
INVERSE = pow(BASE, -1, 2**64)
MAX_N = 64

U64 = npt.NDArray[np.uint64]
_POWERS: dict[int, U64] = {}


def _powers(base: int, size: int) -> U64:
    """``base**m`` modulo 2**64 for ``m < size``, grown by doubling and kept."""
    have = _POWERS.get(base)
    if have is None or len(have) < size:
        grow = max(size, 2 * len(have) if have is not None else 1 << 16)
        steps = np.full(grow, base, dtype=np.uint64)
        steps[0] = 1
        # Integer overflow wraps around, which is the arithmetic modulo 2**64 wanted here.
        with np.errstate(over="ignore"):
            have = np.cumprod(steps, dtype=np.uint64)
        _POWERS[base] = have
    return have[:size]


@dataclass
class Words:
    """The words of a batch of texts: ``tokens`` in order, ``counts`` words per text."""

    tokens: pl.Series
    counts: npt.NDArray[np.int64]

    def __post_init__(self) -> None:
        self.offsets = np.concatenate([[0], np.cumsum(self.counts)]).astype(np.int64)
        self.hashes: U64 = self.tokens.hash(seed=SEED).to_numpy().astype(np.uint64, copy=False)
        self._sums: U64 | None = None

    def owner(self, positions: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """The text each word position belongs to."""
        found: npt.NDArray[np.int64] = np.searchsorted(self.offsets, positions, side="right") - 1
        return found

    def gram_hashes(self, n: int) -> U64:
        """Hash of the ``n`` words starting at each word (meaningful where :meth:`valid`)."""
        size = len(self.hashes)
        if self._sums is None:
            sums = np.zeros(size + 1, dtype=np.uint64)
            np.cumsum(self.hashes * _powers(BASE, size), out=sums[1:])
            self._sums = sums
        out = np.zeros(size, dtype=np.uint64)
        if n <= size:
            np.subtract(self._sums[n:], self._sums[: size + 1 - n], out=out[: size + 1 - n])
            out *= _powers(INVERSE, size)
        return out

    def valid(self, n: int) -> npt.NDArray[np.bool_]:
        """Where an ``n``-gram starting at that word stays inside its own text."""
        ok = np.ones(len(self.hashes), dtype=bool)
        ends = self.offsets[1:][self.counts > 0]
        starts = self.offsets[:-1][self.counts > 0]
        for back in range(1, n):
            at = ends - back
            ok[at[at >= starts]] = False
        return ok

    def text_of(self, start: int, n: int) -> str:
        """The ``n`` normalised words starting at word ``start``, joined by spaces."""
        return " ".join(self.tokens.slice(start, n).to_list())


def split_words(texts: pa.Array | pa.ChunkedArray) -> Words:
    """Normalise ``texts`` and split them into words; nulls have none.

    The same words as normalising with :data:`STEPS` and splitting on spaces, in one regular
    expression pass: a word is a run of characters that are not punctuation, symbols or spaces.
    """
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    plain = pc.fill_null(texts.cast(pa.string()), "")
    ascii_rows = pc.string_is_ascii(plain)
    if not pc.all(ascii_rows).as_py():
        mask = pc.invert(ascii_rows)
        plain = pc.replace_with_mask(plain, mask, pc.utf8_normalize(pc.filter(plain, mask), "NFKC"))
    lists = pl.Series(plain).str.to_lowercase().str.extract_all(WORD)
    counts = lists.list.len().to_numpy().astype(np.int64)
    tokens = lists.explode().drop_nulls()
    return Words(tokens, counts)
