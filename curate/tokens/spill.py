"""Bucket files of tokenized documents, the first pass of ``curate export``.

Each document goes to one of ``B`` buckets by a seeded hash of its id; a bucket is three files:
tokens (uint32), lengths (int64) and ids (JSON lines). ``spill.json`` is written when the pass is
complete, with the key of what was tokenized, so an interrupted export that is run again with
the same input, tokenizer and seed skips straight to shuffling and writing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import xxhash

from curate.io.atomic import write_json_atomic

DONE = "spill.json"


class Spill:
    """Bucket files of tokenized documents: tokens (uint32), lengths (int64) and ids."""

    def __init__(self, work: Path, buckets: int, seed: int) -> None:
        self.work, self.buckets, self.seed = work, buckets, seed
        self._files: list[tuple[Any, ...]] = []

    @classmethod
    def finished(cls, work: Path, key: dict[str, Any]) -> Spill | None:
        """The complete spill of an earlier attempt with the same ``key``, if there is one."""
        try:
            done = json.loads((work / DONE).read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(done, dict) or done.get("key") != key:
            return None
        return cls(work, int(done["buckets"]), int(key["seed"]))

    def open(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        self._files = [
            tuple(
                (self.work / f"bucket-{b:05d}.{kind}").open("wb") for kind in ("tok", "len", "ids")
            )
            for b in range(self.buckets)
        ]

    def add(self, ids: list[str], encoded: list[list[int]], eos: int) -> None:
        lengths = np.fromiter((len(e) + 1 for e in encoded), dtype=np.int64, count=len(encoded))
        joined: list[int] = []
        for ids_of_doc in encoded:
            joined.extend(ids_of_doc)
            joined.append(eos)
        flat = np.array(joined, dtype=np.uint32)
        bucket = np.fromiter(
            (xxhash.xxh64_intdigest(i.encode(), seed=self.seed) % self.buckets for i in ids),
            dtype=np.int64,
            count=len(ids),
        )
        ends = np.cumsum(lengths)
        for b in np.unique(bucket).tolist():
            rows = np.flatnonzero(bucket == b)
            tok, lens, names = self._files[b]
            tok.write(flat[spans(ends - lengths, lengths, rows)].tobytes())
            lens.write(lengths[rows].tobytes())
            names.write("".join(json.dumps(ids[r]) + "\n" for r in rows.tolist()).encode())

    def close(self, key: dict[str, Any]) -> None:
        """Close the bucket files and record the pass as complete for ``key``."""
        for files in self._files:
            for f in files:
                f.close()
        write_json_atomic(self.work / DONE, {"key": key, "buckets": self.buckets})

    def shuffled(
        self,
    ) -> Iterator[tuple[list[str], npt.NDArray[np.uint32], npt.NDArray[np.int64]]]:
        """Each bucket's documents in a seeded random order: ids, their tokens, their lengths."""
        for b in range(self.buckets):
            stem = self.work / f"bucket-{b:05d}"
            lengths = np.fromfile(f"{stem}.len", dtype=np.int64)
            if not len(lengths):
                continue
            tokens = np.fromfile(f"{stem}.tok", dtype=np.uint32)
            ids = [json.loads(line) for line in Path(f"{stem}.ids").read_text().splitlines()]
            order = np.random.default_rng([self.seed, b]).permutation(len(lengths))
            starts = np.cumsum(lengths) - lengths
            yield (
                [ids[i] for i in order.tolist()],
                tokens[spans(starts, lengths, order)],
                lengths[order],
            )


def spans(
    starts: npt.NDArray[np.int64], lengths: npt.NDArray[np.int64], rows: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Positions of the elements of spans ``rows`` (each ``starts[r]`` for ``lengths[r]``)."""
    lens = lengths[rows]
    total = int(lens.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    shift = starts[rows] - (np.cumsum(lens) - lens)
    return np.repeat(shift, lens) + np.arange(total, dtype=np.int64)
