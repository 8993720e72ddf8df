"""The input of a run as one ordered stream of batches, with the tally of every id read.

Unreadable rows go to a ledger list rather than the stream. When the stream is exhausted,
:meth:`InputStream.summary` says what a resumed run needs to know without reading again: the id
tally and the number of unreadable rows (their ledger is written to ``ledger/read.parquet``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from curate import schema
from curate.executor.report import IdTally
from curate.io.reader import InputReader
from curate.io.writer import Compression, write_table_atomic

Progress = Callable[[str, int], None]


class InputStream:
    """Iterate the reader once, tallying ids and setting unreadable rows aside."""

    def __init__(self, reader: InputReader, progress: Progress) -> None:
        self.reader = reader
        self.progress = progress
        self.tally = IdTally()
        self.unreadable: list[pa.RecordBatch] = []
        self.unreadable_rows = 0
        self.exhausted = False
        self._it = self._read()
        self._first = next(self._it, None)

    def _read(self) -> Iterator[pa.RecordBatch]:
        for read in self.reader:
            self.tally.add(read.kept.column(schema.ID))
            if read.unreadable is not None:
                self.tally.add(read.unreadable.column(schema.ID))
                self.unreadable.append(read.unreadable)
            rows = read.kept.num_rows
            if rows:
                yield read.kept
            # Counted once consumed: a first batch read only for the schema counts when used.
            self.progress("read", rows)
        self.unreadable_rows = self.reader.unreadable
        self.exhausted = True

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        if self._first is not None:
            first, self._first = self._first, None
            yield first
        yield from self._it

    def schema(self) -> pa.Schema:
        """The input's schema (known after the first batch; id and text when empty)."""
        return self.reader.schema or self.reader.empty().schema

    def write_ledger(self, path: Path, compression: Compression) -> Path | None:
        """Write the unreadable rows' ledger; None when every row was readable."""
        if not self.unreadable:
            return None
        table = pa.concat_tables(
            [pa.Table.from_batches([b]) for b in self.unreadable], promote_options="default"
        )
        write_table_atomic(table, path, compression=compression)
        return path

    def summary(self) -> dict[str, Any]:
        """What a resumed run restores with :meth:`restore` instead of reading again."""
        return {
            "count": self.tally.count,
            "sum1": int(self.tally.sum1),
            "sum2": int(self.tally.sum2),
            "unreadable": self.unreadable_rows,
        }

    def restore(self, summary: dict[str, Any]) -> None:
        self.tally = IdTally()
        self.tally.count = summary["count"]
        self.tally.sum1 = np.uint64(summary["sum1"])
        self.tally.sum2 = np.uint64(summary["sum2"])
        self.unreadable_rows = summary["unreadable"]
        self.exhausted = True
