"""Reading the removal ledger of a run: every removed row, the stage that removed it and why.

Ledger files of different stages carry different columns (a row removed after scoring has the
score columns), so they are concatenated diagonally: missing columns are null.

>>> import pyarrow as pa, pyarrow.parquet as pq, tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp()); (d / "curate" / "removed").mkdir(parents=True)
>>> pq.write_table(pa.table({"stage": ["filter"], "reason": ["filtered"], "detail": [None],
...     "id": ["a:0"], "text": ["x"]}), d / "curate" / "removed" / "0.parquet")
>>> read_ledger(d).select("id", "stage", "reason").rows()
[('a:0', 'filter', 'filtered')]

What the ledger keeps of a removed document's text is the recipe's ``output.ledger_text``:
``redact`` (the default) passes it through the recipe's ``redact.pii`` redactor, with that
stage's parameters, when the recipe has one, so the ledger holds no more personal data than the
dataset; ``keep`` keeps it as read; ``drop`` leaves the text null.

>>> from curate.pii import Redactor
>>> rewrite = ledger_rewrite("redact", Redactor())
>>> rewrite(pa.table({"id": ["a:1"], "text": ["mail bob@corp.io"]})).column("text").to_pylist()
['mail <EMAIL>']
>>> ledger_rewrite("redact", None) is None
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import polars as pl
import pyarrow as pa

from curate import schema
from curate.pii import Redactor

LedgerText = Literal["redact", "keep", "drop"]


def ledger_files(run_dir: str | Path) -> list[Path]:
    """The ledger files of a ``curate run`` output folder, in order."""
    return sorted((Path(run_dir) / "curate" / "removed").glob("*.parquet"))


def read_ledger(
    source: str | Path | Sequence[str | Path], *, columns: Sequence[str] | None = None
) -> pl.DataFrame:
    """All ledger rows of a run folder (or of the given ledger files) as one frame."""
    paths = (
        ledger_files(source)
        if isinstance(source, (str, Path)) and Path(source).is_dir()
        else [Path(source)]
        if isinstance(source, (str, Path))
        else [Path(p) for p in source]
    )
    frames = [pl.read_parquet(p, columns=list(columns) if columns else None) for p in paths]
    if not frames:
        return pl.DataFrame(
            schema={
                schema.LEDGER_STAGE: pl.String,
                schema.LEDGER_REASON: pl.String,
                schema.LEDGER_DETAIL: pl.String,
                schema.ID: pl.String,
                schema.TEXT: pl.String,
            }
        )
    return pl.concat(frames, how="diagonal_relaxed")


def ledger_text_kept(mode: LedgerText, redactor: Redactor | None) -> str:
    """What the ledger's ``text`` column holds, as the run report states it."""
    if mode == "drop":
        return "dropped"
    return "redacted" if mode == "redact" and redactor is not None else "as read"


def ledger_rewrite(
    mode: LedgerText, redactor: Redactor | None
) -> Callable[[pa.Table], pa.Table] | None:
    """How ledger tables are rewritten for ``output.ledger_text``; None when they are kept."""
    if mode == "keep" or (mode == "redact" and redactor is None):
        return None

    def rewrite(table: pa.Table) -> pa.Table:
        if schema.TEXT not in table.column_names:
            return table
        i = table.column_names.index(schema.TEXT)
        column = table.column(i)
        if mode == "drop" or redactor is None:
            text = pa.nulls(len(table), type=column.type)
        else:
            text = redactor.redact_arrow(column)[0].cast(column.type)
        return table.set_column(i, table.field(i), text)

    return rewrite
