"""Bucket files of tokenized documents, the first pass of ``curate export``.

Each document goes to one of ``B`` buckets by a seeded hash of its id. The input is cut into
parts (:mod:`curate.tokens.parts`) that may be tokenized in separate processes, so every part
writes its own files per bucket, ``bucket-BBBBB-part-PPPPP``: tokens (uint32), lengths (int64)
and ids (JSON lines). A part is finished when its marker ``part-PPPPP.json`` exists; a rerun
tokenizes only the parts without one. Reading a bucket's parts in part order gives its documents
in input order whatever process wrote them, so the shuffle, and every byte written after it,
does not depend on the number of workers. ``spill.json`` is written when every part is done,
with the key of what was tokenized, so an export interrupted later skips straight to shuffling.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt
import xxhash

from curate.errors import DataError
from curate.io.atomic import write_json_atomic

DONE = "spill.json"
PLAN = "plan.json"
KINDS = ("tok", "len", "ids")


def _stem(work: Path, bucket: int, part: int) -> Path:
    return work / f"bucket-{bucket:05d}-part-{part:05d}"


def _marker(work: Path, part: int) -> Path:
    return work / f"part-{part:05d}.json"


class PartWriter:
    """The bucket files of one part; a bucket's files are created when a document reaches it."""

    def __init__(self, work: Path, part: int, buckets: int, seed: int) -> None:
        self.work, self.part, self.buckets, self.seed = work, part, buckets, seed
        self.documents = self.tokens = 0
        self._files: dict[int, tuple[BinaryIO, ...]] = {}

    def _open(self, bucket: int) -> tuple[BinaryIO, ...]:
        files = self._files.get(bucket)
        if files is None:
            stem = _stem(self.work, bucket, self.part)
            # Open across batches, until close(); a context manager would close them per batch.
            files = tuple(Path(f"{stem}.{kind}").open("wb") for kind in KINDS)  # noqa: SIM115
            self._files[bucket] = files
        return files

    def add(self, ids: list[str], encoded: list[list[int]], eos: int) -> None:
        lengths = np.fromiter((len(e) + 1 for e in encoded), dtype=np.int64, count=len(encoded))
        ends = np.cumsum(lengths)
        # EOS everywhere, then the documents' tokens in every other place, in one copy.
        flat = np.full(int(ends[-1]) if len(ends) else 0, eos, dtype=np.uint32)
        body = np.ones(len(flat), dtype=bool)
        body[ends - 1] = False
        flat[body] = np.fromiter(
            itertools.chain.from_iterable(encoded), dtype=np.uint32, count=len(flat) - len(ends)
        )
        bucket = np.fromiter(
            (xxhash.xxh64_intdigest(i.encode(), seed=self.seed) % self.buckets for i in ids),
            dtype=np.int64,
            count=len(ids),
        )
        for b in np.unique(bucket).tolist():
            rows = np.flatnonzero(bucket == b)
            tok, lens, names = self._open(b)
            tok.write(flat[spans(ends - lengths, lengths, rows)].tobytes())
            lens.write(lengths[rows].tobytes())
            names.write("".join(json.dumps(ids[r]) + "\n" for r in rows.tolist()).encode())
        self.documents += len(ids)
        self.tokens += len(flat)

    def close(self) -> dict[str, int]:
        """Close the files and mark the part finished; its document and token counts."""
        for files in self._files.values():
            for f in files:
                f.close()
        counts = {"part": self.part, "documents": self.documents, "tokens": self.tokens}
        write_json_atomic(_marker(self.work, self.part), counts)
        return counts


class Spill:
    """The bucket files of every part, read back one bucket at a time."""

    def __init__(self, work: Path, buckets: int, seed: int, parts: int) -> None:
        self.work, self.buckets, self.seed, self.parts = work, buckets, seed, parts

    @classmethod
    def finished(cls, work: Path, key: dict[str, Any]) -> Spill | None:
        """The complete spill of an earlier attempt with the same ``key``, if there is one."""
        done = _read(work / DONE)
        if done is None or done.get("key") != key:
            return None
        return cls(work, int(done["buckets"]), int(key["seed"]), int(done["parts"]))

    @classmethod
    def start(cls, work: Path, key: dict[str, Any], buckets: int, parts: list[Any]) -> Spill:
        """The spill for ``key`` and ``parts`` (what each part reads): an interrupted attempt's
        folder when it was planned the same way (its finished parts are kept), else a new one."""
        plan = {"key": key, "buckets": buckets, "parts": parts}
        if _read(work / PLAN) != plan:
            if work.exists():
                for old in work.iterdir():
                    old.unlink()
            work.mkdir(parents=True, exist_ok=True)
            write_json_atomic(work / PLAN, plan)
        return cls(work, buckets, int(key["seed"]), len(parts))

    def pending(self) -> list[int]:
        """The parts not yet finished."""
        return [p for p in range(self.parts) if not _marker(self.work, p).exists()]

    def complete(self, key: dict[str, Any]) -> None:
        """Record the pass as complete for ``key``."""
        write_json_atomic(
            self.work / DONE, {"key": key, "buckets": self.buckets, "parts": self.parts}
        )

    def _bucket(self, b: int) -> tuple[list[str], npt.NDArray[np.uint32], npt.NDArray[np.int64]]:
        """Bucket ``b``'s documents in input order: the parts' files, one after another."""
        ids: list[str] = []
        tokens, lengths = [], []
        for p in range(self.parts):
            stem = _stem(self.work, b, p)
            if not Path(f"{stem}.len").exists():
                continue
            lengths.append(np.fromfile(f"{stem}.len", dtype=np.int64))
            tokens.append(np.fromfile(f"{stem}.tok", dtype=np.uint32))
            ids.extend(json.loads(line) for line in Path(f"{stem}.ids").read_text().splitlines())
        if not lengths:
            return [], np.zeros(0, np.uint32), np.zeros(0, np.int64)
        return ids, np.concatenate(tokens), np.concatenate(lengths)

    def shuffled(
        self,
    ) -> Iterator[tuple[list[str], npt.NDArray[np.uint32], npt.NDArray[np.int64]]]:
        """Each bucket's documents in a seeded random order: ids, their tokens, their lengths."""
        for b in range(self.buckets):
            ids, tokens, lengths = self._bucket(b)
            if not len(lengths):
                continue
            _unique(ids)
            order = np.random.default_rng([self.seed, b]).permutation(len(lengths))
            starts = np.cumsum(lengths) - lengths
            yield (
                [ids[i] for i in order.tolist()],
                tokens[spans(starts, lengths, order)],
                lengths[order],
            )


def _unique(ids: list[str]) -> None:
    """Refuse a repeated id: parts read apart each check only their own rows, but every copy
    of an id hashes to the same bucket, so the whole input is checked here."""
    if len(set(ids)) == len(ids):
        return
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise DataError(
                f"duplicate id {i!r} in the export's input (in two different input files)",
                hint="ids must be unique: fix the id column, or export a `curate run` output, "
                "whose ids are",
            )
        seen.add(i)


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


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
