"""A hashed n-gram index of evaluation sets, and matching documents against it.

Every text field of every evaluation item contributes its word n-gram hashes (see
:mod:`curate.decontam.ngrams`). Items shorter than ``n`` words but at least ``min_words`` long
are indexed whole, as one gram of their own length; shorter ones are too common to mean
anything ("yes", "Paris") and are counted as skipped. Memory is about 12 bytes per distinct
n-gram: sorted ``uint64`` keys with the ordinal of the first item holding each, plus a bitmap
of about 16 bits per key that lets most document n-grams be ruled out without a binary search.

>>> import pyarrow as pa
>>> index = NgramIndex(n=3, min_words=2)
>>> index.add("quiz", ["q1", "q2"], [pa.array(["What is the capital of France?", "Hi"])])
>>> index.finish()
>>> m = index.match(pa.array(["so, what is the CAPITAL of Spain", "nothing here at all"]))
>>> m.counts.tolist(), m.first[0]
([3, 0], ('quiz', 'q1', 'what is the'))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from curate.decontam.kernels import probe
from curate.decontam.ngrams import MAX_N, U64, Words, split_words


@dataclass
class Matches:
    """What matched in each document of a batch."""

    #: Distinct matching grams per document.
    counts: npt.NDArray[np.int64]
    #: Names of the sets each matching document matched, sorted.
    sets: dict[int, list[str]] = field(default_factory=dict)
    #: For a matching document, its first match: (set, item id, the matching normalised words).
    first: dict[int, tuple[str, str, str]] = field(default_factory=dict)

    def sets_column(self, where: npt.NDArray[np.bool_]) -> pa.Array:
        """``list<string>``: each document's sets where ``where`` holds, else empty."""
        rows = [d for d in sorted(self.sets) if where[d]]
        sizes = np.zeros(len(self.counts), dtype=np.int32)
        sizes[rows] = [len(self.sets[d]) for d in rows]
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int32)
        values = pa.array([name for d in rows for name in self.sets[d]], pa.string())
        return pa.ListArray.from_arrays(pa.array(offsets), values)


class NgramIndex:
    """Word n-grams of evaluation items: build with :meth:`add` and :meth:`finish`, then match."""

    def __init__(self, *, n: int, min_words: int) -> None:
        if not 1 <= min_words <= n <= MAX_N:
            raise ValueError(f"need 1 <= min_words <= n <= {MAX_N}")
        self.n = n
        self.min_words = min_words
        self.set_names: list[str] = []
        self.item_set: list[int] = []
        self.item_ids: list[str] = []
        #: Items per set that were indexed, and that were too short to index.
        self.items: dict[str, int] = {}
        self.skipped: dict[str, int] = {}
        self._parts: dict[int, list[tuple[U64, npt.NDArray[np.int64]]]] = {}
        self._keys: dict[int, U64] = {}
        self._owners: dict[int, npt.NDArray[np.int64]] = {}
        self._bits: npt.NDArray[np.uint8] = np.zeros(1, dtype=np.uint8)
        self._shift = np.uint64(63)

    def add(self, name: str, ids: Sequence[str], fields: Sequence[pa.Array]) -> None:
        """Index items ``ids`` of set ``name``; ``fields`` are aligned string or list columns."""
        if name not in self.set_names:
            self.set_names.append(name)
            self.items[name] = self.skipped[name] = 0
        set_no = self.set_names.index(name)
        base = len(self.item_ids)
        self.item_ids.extend(ids)
        self.item_set.extend([set_no] * len(ids))
        long_enough = np.zeros(len(ids), dtype=bool)
        for column in fields:
            texts, rows = _flatten(column)
            words = split_words(texts)
            long_enough[rows[words.counts >= self.min_words]] = True
            self._add_words(words, rows + base)
        self.items[name] += int(long_enough.sum())
        self.skipped[name] += int((~long_enough).sum())

    def _add_words(self, words: Words, owners: npt.NDArray[np.int64]) -> None:
        full = np.flatnonzero(words.valid(self.n))
        grams = words.gram_hashes(self.n)
        self._parts.setdefault(self.n, []).append((grams[full], owners[words.owner(full)]))
        short = np.flatnonzero((words.counts >= self.min_words) & (words.counts < self.n))
        for length in np.unique(words.counts[short]).tolist():
            texts = short[words.counts[short] == length]
            hashes = words.gram_hashes(length)[words.offsets[texts]]
            self._parts.setdefault(length, []).append((hashes, owners[texts]))

    def finish(self) -> None:
        """Sort and de-duplicate the keys of every length; build the bitmap."""
        total = 0
        for length, parts in self._parts.items():
            keys = np.concatenate([k for k, _ in parts]) if parts else np.zeros(0, np.uint64)
            owners = np.concatenate([o for _, o in parts]) if parts else np.zeros(0, np.int64)
            order = np.lexsort((owners, keys))
            keys, owners = keys[order], owners[order]
            first = np.ones(len(keys), dtype=bool)
            first[1:] = keys[1:] != keys[:-1]
            self._keys[length], self._owners[length] = keys[first], owners[first]
            total += int(first.sum())
        self._parts.clear()
        bits = max(16, min(32, int(np.ceil(np.log2(max(total, 1) * 16)))))
        self._shift = np.uint64(64 - bits)
        self._bits = np.zeros(1 << (bits - 3), dtype=np.uint8)
        for keys in self._keys.values():
            slot = keys >> self._shift
            np.bitwise_or.at(self._bits, slot >> np.uint64(3), _bit(slot))

    @property
    def grams(self) -> int:
        """Distinct grams indexed, over every length."""
        return sum(len(k) for k in self._keys.values())

    def lengths(self) -> list[int]:
        """Gram lengths present in the index, longest first."""
        return sorted(self._keys, reverse=True)

    def match(self, texts: pa.Array | pa.ChunkedArray) -> Matches:
        """Which documents of ``texts`` share grams with the index, and their first match."""
        words = split_words(texts)
        docs = len(words.counts)
        found_doc: list[npt.NDArray[np.int64]] = []
        found_pos: list[npt.NDArray[np.int64]] = []
        found_len: list[npt.NDArray[np.int64]] = []
        found_item: list[npt.NDArray[np.int64]] = []
        found_key: list[U64] = []
        lengths = self.lengths()
        for length in lengths if len(words.hashes) else []:
            doc, pos, at = probe(
                words.prefix_sums(),
                words.inverse_powers(),
                words.offsets,
                length,
                self._bits,
                self._shift,
                self._keys[length],
            )
            found_doc.append(doc)
            found_pos.append(pos)
            found_len.append(np.full(len(pos), length, dtype=np.int64))
            found_item.append(self._owners[length][at])
            found_key.append(self._keys[length][at])
        counts = np.zeros(docs, dtype=np.int64)
        matches = Matches(counts)
        if not found_doc or not sum(len(d) for d in found_doc):
            return matches
        doc = np.concatenate(found_doc)
        pos = np.concatenate(found_pos)
        length_of = np.concatenate(found_len)
        item = np.concatenate(found_item)
        key = np.concatenate(found_key)
        distinct = np.unique(
            np.stack([doc.astype(np.uint64), length_of.astype(np.uint64), key]), axis=1
        )
        np.add.at(counts, distinct[0].astype(np.int64), 1)
        item_set = np.asarray(self.item_set, dtype=np.int64)[item]
        for d, s in np.unique(np.stack([doc, item_set]), axis=1).T.tolist():
            matches.sets.setdefault(d, []).append(self.set_names[s])
        for names in matches.sets.values():
            names.sort()
        order = np.lexsort((-length_of, pos))
        doc, pos, length_of, item = doc[order], pos[order], length_of[order], item[order]
        # Sorted by position, a document's matches are contiguous and its first comes first.
        _, first = np.unique(doc, return_index=True)
        for i in first.tolist():
            it = int(item[i])
            matches.first[int(doc[i])] = (
                self.set_names[self.item_set[it]],
                self.item_ids[it],
                words.text_of(int(pos[i]), int(length_of[i])),
            )
        return matches


def _bit(slot: U64) -> npt.NDArray[np.uint8]:
    bits: npt.NDArray[np.uint8] = np.left_shift(np.uint8(1), (slot & np.uint64(7)).astype(np.uint8))
    return bits


def _flatten(column: pa.Array) -> tuple[pa.Array, npt.NDArray[np.int64]]:
    """String values of a string or list-of-strings column, and the row each came from."""
    if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        rows = pc.list_parent_indices(column).to_numpy().astype(np.int64)
        return pc.list_flatten(column).cast(pa.string()), rows
    return column.cast(pa.string()), np.arange(len(column), dtype=np.int64)
