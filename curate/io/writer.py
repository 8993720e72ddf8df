"""Atomic Parquet writing: write to a temporary name, rename when complete.

An interrupted run never leaves a half-written file under its final name.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.parquet as pq

Compression = Literal["zstd", "snappy", "gzip", "none"]


def write_table_atomic(table: pa.Table, path: Path, *, compression: Compression = "zstd") -> None:
    """Write ``table`` to ``path`` atomically."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, tmp, compression=None if compression == "none" else compression)
    os.replace(tmp, path)


class ShardWriter:
    """Write batches into ``<prefix>-<k>.parquet`` files, starting a new file at a row or byte cap.

    Files are written under temporary names and renamed by :meth:`close`, which returns the
    finished paths in order.
    """

    def __init__(
        self,
        prefix: Path,
        schema: pa.Schema,
        *,
        max_rows: int,
        max_bytes: int,
        compression: Compression = "zstd",
    ) -> None:
        self.prefix = prefix
        self.schema = schema
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self.compression: str | None = None if compression == "none" else compression
        self.paths: list[Path] = []
        self.rows: list[int] = []
        self._writer: pq.ParquetWriter | None = None
        self._tmp: Path | None = None
        self._rows = 0
        self._bytes = 0

    def _open(self) -> None:
        final = Path(f"{self.prefix}-{len(self.paths):03d}.parquet")
        self._tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
        self._tmp.parent.mkdir(parents=True, exist_ok=True)
        self._writer = pq.ParquetWriter(self._tmp, self.schema, compression=self.compression)
        self.paths.append(final)
        self.rows.append(0)
        self._rows = self._bytes = 0

    def _finish(self) -> None:
        if self._writer is not None and self._tmp is not None:
            self._writer.close()
            os.replace(self._tmp, self.paths[-1])
            self._writer = None

    def write(self, batch: pa.RecordBatch) -> None:
        start = 0
        while start < batch.num_rows:
            if self._writer is None:
                self._open()
            take = min(batch.num_rows - start, self.max_rows - self._rows)
            part = batch.slice(start, take)
            assert self._writer is not None
            self._writer.write_batch(part)
            self._rows += take
            self._bytes += part.nbytes
            self.rows[-1] += take
            start += take
            if self._rows >= self.max_rows or self._bytes >= self.max_bytes:
                self._finish()

    @property
    def finished(self) -> int:
        """How many of :attr:`paths` are complete under their final names."""
        return len(self.paths) - (self._writer is not None)

    def close(self) -> list[Path]:
        """Finish the current file; with no rows at all, write one empty file with the schema."""
        if not self.paths:
            self._open()
        self._finish()
        return list(self.paths)
