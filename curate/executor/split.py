"""Moving marked rows out of the stream and into ledger rows."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from curate import schema


def split_removed(
    batch: pa.RecordBatch, label: str
) -> tuple[pa.RecordBatch, pa.RecordBatch | None, dict[str, int]]:
    """Return (kept rows without internal columns, ledger rows or None, counts by reason)."""
    names = batch.schema.names
    if schema.REASON not in names:
        return batch, None, {}
    reasons = batch.column(schema.REASON)
    keep_cols = [n for n in names if n not in schema.INTERNAL]
    if reasons.null_count == batch.num_rows:
        return batch.select(keep_cols), None, {}
    removed_mask = pc.is_valid(reasons)
    kept = batch.filter(pc.invert(removed_mask)).select(keep_cols)
    gone = batch.filter(removed_mask)
    gone_reasons = gone.column(schema.REASON)
    details = (
        gone.column(schema.DETAIL)
        if schema.DETAIL in names
        else pa.nulls(gone.num_rows, pa.string())
    )
    counts = pc.value_counts(gone_reasons).to_pylist()
    ledger = pa.RecordBatch.from_arrays(
        [
            pa.array([label] * gone.num_rows, pa.string()),
            gone_reasons.cast(pa.string()),
            details.cast(pa.string()),
            *[gone.column(n) for n in keep_cols],
        ],
        names=[schema.LEDGER_STAGE, schema.LEDGER_REASON, schema.LEDGER_DETAIL, *keep_cols],
    )
    return kept, ledger, {c["values"]: c["counts"] for c in counts}
