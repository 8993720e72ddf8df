"""64-bit keys of many byte ranges of one buffer at once, and of runs of such keys.

A range is read eight bytes at a time through an overlapping ``uint64`` view of the buffer. A
range of at most eight bytes is its own key (its bytes, zero-padded: exact, and free); longer
ranges are hashed. Equal ranges always get equal keys; different ranges collide with probability
about 2**-64 per pair, far below anything the quality signals could show.

>>> import numpy as np
>>> w = Window(np.frombuffer(b"the cat The cat", dtype=np.uint8))
>>> k = w.keys(np.array([0, 4, 8, 12]), np.array([3, 7, 11, 15]))
>>> bool(k[1] == k[3]), bool(k[0] == k[2])
(True, False)
>>> f = w.folded(np.array([0, 8]), np.array([3, 11]))
>>> bool(f[0] == f[1])
True
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
Int = npt.NDArray[np.int64]

_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)
_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_HIGH = np.uint64(0x8080808080808080)
_GE_A = np.uint64(0x3F3F3F3F3F3F3F3F)  # 0x80 - ord("A") in every byte
_GT_Z = np.uint64(0x2525252525252525)  # 0x80 - (ord("Z") + 1) in every byte
_MASKS = np.array([0, *((1 << (8 * k)) - 1 for k in range(1, 8)), (1 << 64) - 1], dtype=np.uint64)


def mix(x: U64) -> U64:
    """A bijective scramble of 64-bit values (the splitmix64 finaliser)."""
    x = (x ^ (x >> np.uint64(30))) * _M2
    x = (x ^ (x >> np.uint64(27))) * _M3
    return np.asarray(x ^ (x >> np.uint64(31)), dtype=np.uint64)


def combine(h: U64, x: U64) -> U64:
    """Key of the sequence ``(..., x)`` from the key ``h`` of ``(...)``; order matters."""
    return mix(h * _M1 + x)


def lower_ascii(chunk: U64) -> U64:
    """Lower-case the ASCII capitals among the eight bytes of each value; other bytes stay."""
    low = chunk & _LOW7
    upper = (low + _GE_A) & ~(low + _GT_Z) & ~chunk & _HIGH
    return np.asarray(chunk | (upper >> np.uint64(2)), dtype=np.uint64)


class Window:
    """Eight-byte reads at any position of a byte buffer (zero past its end)."""

    def __init__(self, data: npt.NDArray[np.uint8]) -> None:
        padded = np.zeros(len(data) + 8, dtype=np.uint8)
        padded[: len(data)] = data
        self._padded = padded
        self.view = np.ndarray(shape=(len(data) + 1,), dtype="<u8", buffer=padded, strides=(1,))

    def head(self, starts: Int, ends: Int) -> U64:
        """The first (up to) eight bytes of each range, zero-padded."""
        return np.asarray(self.view[starts] & _MASKS[np.minimum(ends - starts, 8)], dtype=np.uint64)

    def keys(self, starts: Int, ends: Int, head: U64 | None = None) -> U64:
        """A key per range: its bytes when at most eight, else a hash of bytes and length.

        ``head`` may pass ``self.head(starts, ends)`` when the caller already has it.
        """
        lengths = ends - starts
        out = (self.head(starts, ends) if head is None else head).copy()
        todo = np.flatnonzero(lengths > 8)
        if todo.size:
            pos, left = starts[todo], lengths[todo]
            h = combine(mix(left.astype(np.uint64) ^ _M3), out[todo])
            more = np.arange(len(todo))
            step = 1
            while more.size:
                chunk = (
                    self.view[pos[more] + 8 * step] & _MASKS[np.minimum(left[more] - 8 * step, 8)]
                )
                h[more] = combine(h[more], chunk)
                step += 1
                more = more[left[more] > 8 * step]
            out[todo] = h
        return np.asarray(out, dtype=np.uint64)

    def folded(self, starts: Int, ends: Int, head: U64 | None = None) -> U64:
        """Keys of ranges of at most eight bytes with ASCII letters lower-cased; 0 for longer."""
        first = self.head(starts, ends) if head is None else head
        return np.asarray(np.where((ends - starts) <= 8, lower_ascii(first), 0), dtype=np.uint64)
