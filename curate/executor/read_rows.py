"""Running one read task in a worker: its rows of a Parquet file in canonical form.

The rows come as :mod:`curate.executor.read_tasks` planned them (a file and a row range, with
the later rows of repeated ids the driver's duplicate-id check found); readable rows go to the
first segment's map stages, unreadable ones and repeated ids to the ledger, as the stream
reader would put them.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate import schema
from curate.executor.read_tasks import ReadTask, raw_batches
from curate.io.formats import ROW, Chunk, _split_null_text
from curate.io.reader import InputReader, ReadBatch
from curate.io.sources import Source


def _duplicate_ledger(
    source: Source, batch: pa.RecordBatch, id_col: str, text_column: str
) -> pa.RecordBatch:
    """Ledger rows for repeated ids, as the stream reader writes them."""
    generated = pc.binary_join_element_wise(
        pa.scalar(source.name), pc.cast(batch.column(ROW), pa.string()), ":"
    )
    ids = pc.cast(batch.column(id_col), pa.string())
    n = batch.num_rows
    return pa.record_batch(
        {
            schema.LEDGER_STAGE: pa.array(["read"] * n, pa.string()),
            schema.LEDGER_REASON: pa.array(["duplicate-id"] * n, pa.string()),
            schema.LEDGER_DETAIL: pc.binary_join_element_wise(
                "id ", ids, " seen before; row ", generated, ""
            ),
            schema.ID: generated,
            schema.TEXT: pc.cast(batch.column(text_column), pa.string()),
        }
    )


def read_rows(task: ReadTask) -> Iterator[ReadBatch]:
    """Run one read task: its readable rows in canonical form, and its ledger rows."""
    opts = task.options
    assert opts is not None, "a read task is planned with its options"
    source = task.source
    reader = InputReader(
        [source],
        text_column=opts.text_column,
        id_column=opts.id_column,
        columns=list(opts.columns) if opts.columns is not None else None,
        on_error="skip" if opts.on_error == "skip" else "error",
        **dict(opts.limits),
    )
    reader.schema, reader._schema_from = opts.schema, opts.schema_from
    # From a buffer: pa.array of a tuple would import pandas (43 MB) in every worker.
    dups = np.asarray(task.duplicates, dtype=np.int64)
    drop = pa.Array.from_buffers(pa.int64(), len(dups), [None, pa.py_buffer(dups)])
    first = task.first_row
    for raw in raw_batches(task, text_column=opts.text_column):
        chunk = _split_null_text(source, raw, opts.text_column, first)
        first += raw.num_rows
        dup_ledger = None
        if len(drop):
            mask = pc.is_in(chunk.batch.column(ROW), value_set=drop)
            if pc.any(mask).as_py():
                id_col = reader._id_source(chunk.batch.schema.names)
                assert id_col is not None
                dup_ledger = reader.with_split(
                    source,
                    _duplicate_ledger(source, chunk.batch.filter(mask), id_col, opts.text_column),
                )
                chunk = Chunk(chunk.batch.filter(pc.invert(mask)), chunk.bad)
        out = reader._chunk(source, chunk)
        if dup_ledger is not None:
            if out is None:
                out = ReadBatch(reader.empty())
            ledgers = [b for b in (out.unreadable, dup_ledger) if b is not None]
            out.unreadable = (
                pa.concat_tables(
                    [pa.Table.from_batches([b]) for b in ledgers], promote_options="default"
                )
                .combine_chunks()
                .to_batches()[0]
            )
        if out is not None:
            yield out
