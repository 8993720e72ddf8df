"""``open_dataset``: one entry point for every DATASET form the commands accept.

A DATASET is a ``curate run`` output folder, Parquet / JSONL(.gz, .zst) / Arrow / CSV files or
globs, a ``datasets.save_to_disk`` folder, a registry ref ``NAME@X.Y.Z``,
``hf://datasets/ORG/NAME``, or any of the file and folder forms behind a URL fsspec reads
(``s3://``, ``gs://``...). A run output behind a URL gives its data only: its report and ledger
are read from local run folders.

>>> import pyarrow as pa, pyarrow.parquet as pq, tempfile, os
>>> d = tempfile.mkdtemp(); path = os.path.join(d, "x.parquet")
>>> pq.write_table(pa.table({"text": ["a", "b"]}), path)
>>> ds = open_dataset(path)
>>> [b.num_rows for b in ds.iter_batches()], ds.schema.names
([2], ['id', 'text'])
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from curate import schema
from curate.io.reader import InputReader
from curate.io.sources import Resolved, resolve


@dataclass
class Dataset:
    """A resolved dataset: its files, and for run outputs, the run's report and ledger."""

    resolved: Resolved
    text_column: str = schema.TEXT
    id_column: str | None = None

    @property
    def files(self) -> list[str]:
        return [s.path for s in self.resolved.sources]

    @property
    def run_dir(self) -> Path | None:
        return self.resolved.run_dir

    def _reader(self, limit: int | None = None) -> InputReader:
        return InputReader(
            self.resolved.sources,
            text_column=self.text_column,
            id_column=self.id_column,
            limit=limit,
        )

    @property
    def schema(self) -> pa.Schema:
        """The canonical schema (``id``, ``text``, other columns), read from the first rows."""
        reader = self._reader(limit=1)
        for _ in reader:
            break
        return reader.schema or reader.empty().schema

    def iter_batches(self, columns: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
        """Stream the rows; ``columns`` selects columns (``id`` and ``text`` when asked)."""
        for read in self._reader():
            batch = read.kept
            if columns is not None:
                batch = batch.select([c for c in columns if c in batch.schema.names])
            if batch.num_rows:
                yield batch

    def ledger_files(self) -> list[Path]:
        """The run's removal ledger files, empty when this is not a run output."""
        if self.run_dir is None:
            return []
        return sorted((self.run_dir / "curate" / "removed").glob("*.parquet"))

    def run_report(self) -> dict[str, Any] | None:
        """The run's ``curate/run.json``, or None when this is not a run output."""
        if self.run_dir is None:
            return None
        path = self.run_dir / "curate" / "run.json"
        if not path.exists():
            return None
        report: dict[str, Any] = json.loads(path.read_text())
        return report


def open_dataset(
    spec: str | Path | Sequence[str | Path],
    *,
    text_column: str = schema.TEXT,
    id_column: str | None = None,
    split: str | None = None,
) -> Dataset:
    """Resolve ``spec`` (see the module doc) into a :class:`Dataset`; ``split`` chooses one
    split of an input that has several."""
    return Dataset(resolve(spec, split=split), text_column=text_column, id_column=id_column)
