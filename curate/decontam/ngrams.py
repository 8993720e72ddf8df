"""Word n-gram hashes of many texts at once, for decontamination.

Texts are normalised the way ``dedup.exact`` can be asked to (NFKC, lower case, punctuation to
spaces, whitespace collapsed), split into words, and every word hashed once to ``w``
(:mod:`curate.decontam.kernels`: one compiled pass over the batch's UTF-8 bytes). The hash
of the n-gram starting at word ``i`` is the polynomial ``sum(w[i + j] * B**j for j < n)``
modulo 2**64 with a fixed odd ``B``. With prefix sums ``S[k] = sum(w[m] * B**m for m < k)`` it
is ``(S[i + n] - S[i]) * B**-i`` (odd numbers are invertible modulo 2**64): a handful of
vectorised passes whatever ``n``, and every length from the same prefix sums, which is how
items shorter than ``n`` words are matched whole. Two n-grams that differ in one word never
collide.

>>> import pyarrow as pa
>>> words = split_words(pa.array(["The cat, the HAT!", "the hat"]))
>>> words.counts.tolist(), words.tokens()
([4, 2], ['the', 'cat', 'the', 'hat', 'the', 'hat'])
>>> grams = words.gram_hashes(2)
>>> bool(grams[2] == grams[4]), words.valid(2).tolist()
(True, [True, True, True, False, True, False])
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from curate.decontam import MAX_N as MAX_N  # where curate.decontam.index looks for it
from curate.decontam.kernels import prefix_sums, split_hash, unknown_to_python, words_of
from curate.dedup.textnorm import Step

#: Normalisation of texts before they are split into words (as ``dedup.exact`` names the steps).
STEPS: tuple[Step, ...] = ("nfkc", "lowercase", "punctuation", "whitespace")
#: The polynomial's base (odd) and its inverse modulo 2**64.
BASE = 0x9E3779B97F4A7C15
INVERSE = pow(BASE, -1, 2**64)

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
    """The words of a batch of texts: ``hashes`` in order, ``counts`` words per text.

    Text ``r`` is ``data[lo[r]:hi[r]]`` (UTF-8, normalised but for ASCII case), kept to give
    back the words of a match.
    """

    hashes: U64
    counts: npt.NDArray[np.int64]
    data: npt.NDArray[np.uint8]
    lo: npt.NDArray[np.int64]
    hi: npt.NDArray[np.int64]

    def __post_init__(self) -> None:
        self.offsets = np.concatenate([[0], np.cumsum(self.counts)]).astype(np.int64)
        self._sums: U64 | None = None

    def owner(self, positions: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """The text each word position belongs to."""
        found: npt.NDArray[np.int64] = np.searchsorted(self.offsets, positions, side="right") - 1
        return found

    def prefix_sums(self) -> U64:
        """``S[k] = sum(w[m] * B**m for m < k)`` for ``k <= len(hashes)``."""
        if self._sums is None:
            self._sums = prefix_sums(self.hashes, _powers(BASE, len(self.hashes)))
        return self._sums

    def inverse_powers(self) -> U64:
        """``B**-i`` for every word position ``i``."""
        return _powers(INVERSE, len(self.hashes))

    def gram_hashes(self, n: int) -> U64:
        """Hash of the ``n`` words starting at each word (meaningful where :meth:`valid`)."""
        size = len(self.hashes)
        sums = self.prefix_sums()
        out = np.zeros(size, dtype=np.uint64)
        if n <= size:
            np.subtract(sums[n:], sums[: size + 1 - n], out=out[: size + 1 - n])
            out *= self.inverse_powers()
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
        row = int(self.owner(np.array([start]))[0])
        local = start - int(self.offsets[row])
        return " ".join(words_of(self.data, int(self.lo[row]), int(self.hi[row]), local, n))

    def tokens(self) -> list[str]:
        """Every word of every text, in order."""
        return [
            w
            for r in range(len(self.counts))
            for w in words_of(self.data, int(self.lo[r]), int(self.hi[r]))
        ]


def split_words(texts: pa.Array | pa.ChunkedArray) -> Words:
    """Normalise ``texts`` and split them into words; nulls have none.

    The same words as normalising with :data:`STEPS` and splitting on spaces: a word is a run
    of characters that are not punctuation, symbols or spaces. Texts that are all ASCII need
    only lower-casing, which the word pass does; the others are put in NFKC and lower-cased
    first.
    """
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    plain = pc.fill_null(texts.cast(pa.string()), "")
    ascii_rows = pc.string_is_ascii(plain)
    ascii_only = len(plain) == 0 or bool(pc.all(ascii_rows).as_py())
    data, lo, hi = _bytes(plain)
    if not ascii_only:
        # Only texts with other characters need NFKC (most of those are NFKC already, which a
        # quick check tells) and Unicode lower-casing; their bytes go after the batch's.
        others = np.flatnonzero(~ascii_rows.to_numpy(zero_copy_only=False))
        texts = pc.take(plain, pa.array(others)).to_pylist()
        # Python's quick check, except for texts holding characters its Unicode is too old
        # for; NFKC itself is Arrow's, as in dedup.exact.
        newer = unknown_to_python(data, lo[others], hi[others])
        changed = [
            i for i, t in enumerate(texts) if newer[i] or not unicodedata.is_normalized("NFKC", t)
        ]
        if changed:
            done = pc.utf8_normalize(pa.array([texts[i] for i in changed], pa.string()), "NFKC")
            for i, t in zip(changed, done.to_pylist()):
                texts[i] = t
        lowered = pl.Series(texts, dtype=pl.String).str.to_lowercase().to_arrow()
        extra, extra_lo, extra_hi = _bytes(lowered.cast(pa.string()))
        lo, hi = lo.copy(), hi.copy()
        lo[others], hi[others] = extra_lo + len(data), extra_hi + len(data)
        data = np.concatenate([data, extra])
    hashes, counts = split_hash(data, lo, hi, ascii_only=ascii_only)
    return Words(hashes, counts, data, lo, hi)


def _bytes(
    texts: pa.Array,
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The UTF-8 bytes of a string array and each text's start and end in them."""
    buffers = texts.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int32)[
        texts.offset : texts.offset + len(texts) + 1
    ]
    bounds = offsets.astype(np.int64)
    data = (
        np.frombuffer(buffers[2], dtype=np.uint8)
        if buffers[2] is not None
        else np.zeros(0, dtype=np.uint8)
    )
    return data, bounds[:-1], bounds[1:]
