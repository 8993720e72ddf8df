"""The run report (``curate/run.json``) and its pieces: software versions, input fingerprints,
the id tally of the accounting check."""

from __future__ import annotations

import hashlib
import platform
from collections.abc import Iterable, Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate import schema
from curate.io.reader import id_hashes
from curate.io.sources import Source

LIBRARIES = (
    "pyarrow",
    "polars",
    "numpy",
    "datasets",
    "pydantic",
    "datasketch",
    "fasttext-wheel",
    "alt-profanity-check",
    "scikit-learn",
    "torch",
    "detoxify",
    "transformers",
    "ray",
)


def versions(models: dict[str, str] | None = None) -> dict[str, Any]:
    """Versions of curate, Python and the key libraries that are installed."""
    out: dict[str, Any] = {"python": platform.python_version()}
    for name in ("llmos-curate", *LIBRARIES):
        try:
            out["curate" if name == "llmos-curate" else name] = version(name)
        except PackageNotFoundError:
            continue
    out["models"] = dict(sorted((models or {}).items()))
    return out


def fingerprint(
    sources: Sequence[Source], identities: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Paths, sizes and digests of the input, and one fingerprint over all of them.

    ``identities`` are the sources' :func:`~curate.io.urls.file_identity` records, as the run
    key holds them, so no input file is read twice.
    """
    files = []
    overall = hashlib.sha256()
    for s, ident in zip(sources, identities, strict=True):
        if s.format == "hf":
            entry: dict[str, Any] = {"path": s.path, "name": s.name}
        else:
            entry = {
                "path": s.path,
                "name": s.name,
                "bytes": ident["bytes"],
                "digest": ident["digest"],
            }
        overall.update(repr(sorted(entry.items() - {("path", s.path)})).encode())
        files.append(entry)
    return {"paths": [s.path for s in sources], "files": files, "fingerprint": overall.hexdigest()}


class IdTally:
    """An order-independent multiset digest of ids: count plus wrapping sums of two hashes.

    Equal tallies of input and output mean every id is accounted for exactly once (up to a
    2^-128 chance), in constant memory.
    """

    def __init__(self) -> None:
        self.count = 0
        self.sum1 = np.uint64(0)
        self.sum2 = np.uint64(0)

    def add(self, ids: pa.Array | pa.ChunkedArray) -> None:
        if len(ids) == 0:
            return
        h = id_hashes(ids)
        with np.errstate(over="ignore"):
            self.sum1 = np.uint64(self.sum1 + h.sum(dtype=np.uint64))
            self.sum2 = np.uint64(
                self.sum2
                + (h * np.uint64(0x9E3779B97F4A7C15) ^ (h >> np.uint64(29))).sum(dtype=np.uint64)
            )
        self.count += len(ids)

    def add_files(self, paths: Iterable[Path]) -> None:
        for p in paths:
            self.add(pq.read_table(p, columns=[schema.ID]).column(schema.ID))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IdTally) and (self.count, self.sum1, self.sum2) == (
            other.count,
            other.sum1,
            other.sum2,
        )

    __hash__ = None  # type: ignore[assignment]


def run_report(
    *,
    recipe: dict[str, Any],
    inputs: dict[str, Any],
    models: dict[str, str],
    stages: list[dict[str, Any]],
    rows_in: int,
    rows_out: int,
    limit: int | None,
    seconds: float,
    created: str,
    data: Sequence[Path],
    removed: Sequence[Path],
    ledger_text: str,
) -> dict[str, Any]:
    """The run report. ``partial`` is true when ``--limit`` cut the input short: such an
    output is a sample, not the curated dataset (``curate publish`` refuses it).
    """
    return {
        "recipe": recipe,
        "versions": versions(models),
        "input": inputs,
        "rows_in": rows_in,
        "rows_out": rows_out,
        "rows_removed": rows_in - rows_out,
        "limit": limit,
        "partial": limit is not None,
        "seconds": round(seconds, 3),
        "created": created,
        "stages": stages,
        "output": {
            "data": [p.name for p in data],
            "removed": [p.name for p in removed],
            "ledger_text": ledger_text,
        },
    }
