"""Reading the removal ledger of a run: every removed row, the stage that removed it and why.

Ledger files of different stages carry different columns (a row removed after scoring has the
score columns), so they are concatenated diagonally: missing columns are null.

>>> import pyarrow as pa, pyarrow.parquet as pq, tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp()); (d / "curate" / "removed").mkdir(parents=True)
>>> pq.write_table(pa.table({"stage": ["filter"], "reason": ["filtered"], "detail": [None],
...     "id": ["a:0"], "text": ["x"]}), d / "curate" / "removed" / "0.parquet")
>>> read_ledger(d).select("id", "stage", "reason").rows()
[('a:0', 'filter', 'filtered')]
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from curate import schema


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
