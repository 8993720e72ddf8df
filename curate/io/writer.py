"""Parquet shards written atomically: under a temporary name, renamed when complete.

An interrupted run never leaves a half-written file under its final name, and a full disk is
reported as an ``OSError`` naming the file being written (see :mod:`curate.io.atomic`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from curate.io.atomic import (
    Compression,
    as_disk_full,
    atomic_path,
    temporary_name,
    write_parquet_atomic,
)

__all__ = ["Compression", "ShardWriter", "copy_with_metadata", "write_table_atomic"]


def write_table_atomic(table: pa.Table, path: Path, *, compression: Compression = "zstd") -> None:
    """Write ``table`` to ``path`` atomically."""
    write_parquet_atomic(table, path, compression=compression)


def copy_with_metadata(
    src: Path, dst: Path, metadata: dict[bytes, bytes], *, compression: Compression = "zstd"
) -> None:
    """Copy the Parquet file ``src`` to ``dst`` atomically, its schema carrying ``metadata``.

    Row groups are copied one at a time and keep their sizes, so equal files stay equal.
    """
    source = pq.ParquetFile(src)
    schema = source.schema_arrow.with_metadata(metadata)
    codec = None if compression == "none" else compression
    with atomic_path(dst) as tmp, pq.ParquetWriter(tmp, schema, compression=codec) as out:
        for i in range(source.num_row_groups):
            group = source.read_row_group(i).replace_schema_metadata(metadata)
            out.write_table(group, row_group_size=max(group.num_rows, 1))


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
        self._tmp = temporary_name(final)
        self._tmp.parent.mkdir(parents=True, exist_ok=True)
        self.paths.append(final)
        self.rows.append(0)
        self._rows = self._bytes = 0
        self._writer = pq.ParquetWriter(self._tmp, self.schema, compression=self.compression)

    def _finish(self) -> None:
        if self._writer is not None and self._tmp is not None:
            self._writer.close()
            os.replace(self._tmp, self.paths[-1])
            self._writer = None

    def _abandon(self, exc: OSError) -> OSError:
        """Drop the file being written after a failed write; the error to raise for it."""
        if self._tmp is not None:
            try:
                if self._writer is not None:
                    self._writer.close()
            except OSError:
                pass
            self._tmp.unlink(missing_ok=True)
        self._writer = None
        return as_disk_full(exc, self.paths[-1] if self.paths else self.prefix)

    def write(self, batch: pa.RecordBatch) -> None:
        try:
            self._write(batch)
        except OSError as exc:
            raised = self._abandon(exc)
            if raised is exc:
                raise
            raise raised from exc

    def _write(self, batch: pa.RecordBatch) -> None:
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
        try:
            if not self.paths:
                self._open()
            self._finish()
        except OSError as exc:
            raised = self._abandon(exc)
            if raised is exc:
                raise
            raise raised from exc
        return list(self.paths)
