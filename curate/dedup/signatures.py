"""MinHash signatures for many documents at once, equal to ``datasketch.MinHash`` (scheme
``affine32``, its default since 2.0) given the same token hash function.

datasketch draws its permutations ``h -> a * h + b mod 2**32`` (``a`` odd) from
``numpy.random.RandomState(seed)`` and pre-mixes every input hash with MurmurHash3's 32-bit
finaliser; this module draws the same parameters the same way and applies them one permutation
at a time over the concatenated shingle hashes of a whole batch, reducing each document's slice
with ``np.minimum.reduceat``: a few NumPy calls per permutation, none per shingle.

>>> from typing import Any

import numpy as np
>>> a, b = permutations(4, seed=1)
>>> sig = signatures(np.array([7, 9, 7], dtype=np.uint32), np.array([2, 0, 1]), a, b)
>>> sig.shape, bool((sig[1] == EMPTY).all()), bool((sig[0] <= sig[2]).all())
((3, 4), True, True)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from curate.dedup.shingles import fmix64

U32 = npt.NDArray[np.uint32]
I64 = npt.NDArray[np.int64]

#: Signature value of a document without shingles (datasketch's initial hash values).
EMPTY = np.uint32(0xFFFFFFFF)


def permutations(num_perm: int, seed: int = 1) -> tuple[U32, U32]:
    """The ``(a, b)`` datasketch's affine32 scheme draws for ``num_perm`` and ``seed``."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a.astype(np.uint32), b.astype(np.uint32)


def fmix32(h: U32) -> U32:
    """MurmurHash3's 32-bit finaliser on a copy of ``h``."""
    h = h.copy()
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return h


def signatures(hashes: U32, counts: I64, a: U32, b: U32) -> U32:
    """Signature matrix ``(documents, permutations)`` from shingle hashes laid back to back.

    ``counts[i]`` is the number of shingles of document ``i``; documents without shingles get
    :data:`EMPTY` everywhere, as an empty ``datasketch.MinHash`` has.
    """
    counts = np.asarray(counts, dtype=np.int64)
    out = np.full((len(counts), len(a)), EMPTY, dtype=np.uint32)
    has = counts > 0
    if not has.any():
        return out
    starts = (np.cumsum(counts) - counts)[has]
    mixed = fmix32(hashes)
    tmp = np.empty_like(mixed)
    rows = np.flatnonzero(has)
    for p in range(len(a)):
        np.multiply(mixed, a[p], out=tmp)
        tmp += b[p]
        out[rows, p] = np.minimum.reduceat(tmp, starts)
    return out


def band_keys(sig: U32, bands: int, rows: int) -> npt.NDArray[np.uint64]:
    """64-bit key of each band (``rows`` consecutive signature values) of every signature.

    Two documents share band ``i``'s key when their values in that band are equal (a 64-bit hash
    of 32 x ``rows`` bits: an accidental collision is about as likely as 2**-64 per pair).
    """
    keys = np.empty((sig.shape[0], bands), dtype=np.uint64)
    for band in range(bands):
        h = np.full(sig.shape[0], band, dtype=np.uint64)
        for j in range(band * rows, (band + 1) * rows):
            h *= np.uint64(0x9E3779B97F4A7C15)
            h += sig[:, j].astype(np.uint64)
        keys[:, band] = fmix64(h)
    return keys


def jaccard(
    left: npt.NDArray[np.unsignedinteger[Any]], right: npt.NDArray[np.unsignedinteger[Any]]
) -> npt.NDArray[np.float64]:
    """Estimated Jaccard similarity of paired signature rows (share of equal values)."""
    return np.asarray((left == right).mean(axis=1), dtype=np.float64)
