"""Column names and Arrow types shared by every stage, reader and writer.

Readers cast to these types so that an empty batch still carries the right schema.
"""

from __future__ import annotations

import pyarrow as pa

ID = "id"
TEXT = "text"

#: Internal columns a stage sets on rows it removes; the executor moves those rows to the ledger.
REASON = "__curate_reason"
DETAIL = "__curate_detail"
INTERNAL = (REASON, DETAIL)

#: Ledger columns written in front of the row's own columns.
LEDGER_STAGE = "stage"
LEDGER_REASON = "reason"
LEDGER_DETAIL = "detail"
LEDGER_ROW = "row"
LEDGER_FILE = "file"

#: Types of the columns built-in stages write. A stage's ``output_fields`` uses these.
TYPES: dict[str, pa.DataType] = {
    ID: pa.string(),
    TEXT: pa.string(),
    "dup_count": pa.int64(),
    "dup_cluster": pa.string(),
    "dup_cluster_size": pa.int64(),
    "lang": pa.string(),
    "lang_score": pa.float64(),
    "lang_mixed": pa.float64(),
    "lang_top": pa.list_(pa.struct([("lang", pa.string()), ("score", pa.float64())])),
    "script": pa.string(),
    "toxicity": pa.float64(),
    "toxicity_supported": pa.bool_(),
    "identities": pa.list_(pa.string()),
    "identity_counts": pa.list_(pa.int64()),
    "pii_count": pa.int64(),
}


def field(name: str) -> pa.Field:
    """The Arrow field of a well-known column.

    >>> field("lang_score")
    pyarrow.Field<lang_score: double>
    """
    return pa.field(name, TYPES[name])


def ledger_schema(row_schema: pa.Schema) -> pa.Schema:
    """Schema of ledger rows: stage, reason, detail, then the removed row's own columns."""
    head = [
        pa.field(LEDGER_STAGE, pa.string()),
        pa.field(LEDGER_REASON, pa.string()),
        pa.field(LEDGER_DETAIL, pa.string()),
    ]
    rest = [
        f
        for f in row_schema
        if f.name not in INTERNAL and f.name not in {LEDGER_STAGE, LEDGER_REASON, LEDGER_DETAIL}
    ]
    return pa.schema(head + rest)
