"""Output shards per split, for a run that carries several splits (see :mod:`curate.io.splits`).

Work shards hold rows of any split (a shard is cut by size, and a global stage mixes its
input), each row tagged in the reserved split column. At finalize every work shard is split by
that column into one output file per split it holds, named as the Hub names them:
``data/{split}-{k:05d}-of-{n:05d}.parquet``, ``k`` counting the split's files in work-shard
order, without the reserved column. A split left with no rows gets no file (``datasets``
refuses to load a split without rows, and would fail the whole folder), unless every split is
empty: then the first gets one empty file, as a single-split run does. The ledger keeps each
removed row's split, as ``split``.

>>> import pyarrow as pa
>>> t = pa.table({"id": ["a", "b"], "__curate_split": ["test", "train"]})
>>> ledger_split_column(t).column_names
['id', 'split']
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.executor.state import RunState
from curate.io.atomic import atomic_path, write_parquet_atomic
from curate.io.features import output_metadata
from curate.io.splits import COLUMN, LEDGER_COLUMN
from curate.io.writer import Compression


def plan_split_shards(
    state: RunState,
    files: Sequence[Path],
    splits: Sequence[str],
    empty_schema: pa.Schema,
    compression: Compression,
) -> list[list[str]]:
    """``[work shard, output name, split]`` for every split of every work shard, split by split
    in ``splits`` order; an empty work shard stands for the first split when no split has rows."""
    held: list[tuple[Path, list[str]]] = []
    for path in files:
        values = pq.read_table(path, columns=[COLUMN]).column(COLUMN)
        present = set(pc.unique(values).to_pylist())
        held.append((path, [s for s in splits if s in present]))
    entries: list[list[str]] = []
    for split in splits:
        mine = [path for path, names in held if split in names]
        if not mine and (held or split != splits[0]):
            continue
        if not mine:
            empty = state.work / "empty" / f"{split}.parquet"
            empty_schema = _with_split_column(empty_schema)
            write_parquet_atomic(empty_schema.empty_table(), empty, compression=compression)
            mine = [empty]
        entries.extend(
            [state.rel(path), f"{split}-{k:05d}-of-{len(mine):05d}.parquet", split]
            for k, path in enumerate(mine)
        )
    return entries


def _with_split_column(schema: pa.Schema) -> pa.Schema:
    if COLUMN in schema.names:
        return schema
    return schema.append(pa.field(COLUMN, pa.string()))


def write_split_shards(
    src: Path,
    targets: Sequence[tuple[str, Path]],
    compression: Compression,
    features: Mapping[str, Any] | None,
) -> None:
    """Write ``src``'s rows of each ``(split, path)`` in ``targets`` to that path, without the
    split column, with the input's Hugging Face features in the schema metadata."""
    table = pq.read_table(src)
    values = table.column(COLUMN)
    for split, path in targets:
        part = table.filter(pc.equal(values, split)).drop_columns([COLUMN])
        meta = output_metadata(features, part.schema)
        if meta:
            part = part.replace_schema_metadata(meta)
        if part.num_rows:
            write_parquet_atomic(part, path, compression=compression)
            continue
        # No row group at all: ``datasets`` cannot read a file whose first row group is empty.
        codec = None if compression == "none" else compression
        with atomic_path(path) as tmp, pq.ParquetWriter(tmp, part.schema, compression=codec):
            pass


def ledger_split_column(table: pa.Table) -> pa.Table:
    """The ledger with the split column named ``split`` (unless the input has its own)."""
    if COLUMN not in table.column_names or LEDGER_COLUMN in table.column_names:
        return table
    return table.rename_columns([LEDGER_COLUMN if n == COLUMN else n for n in table.column_names])


def split_counts(
    data: Sequence[Path], removed: Sequence[Path], splits: Sequence[str]
) -> dict[str, dict[str, int]]:
    """Rows kept and removed per split, from the output's file footers and the ledger."""
    kept: Counter[str] = Counter()
    for path in data:
        kept[path.name.rsplit("-", 3)[0]] += pq.read_metadata(path).num_rows
    gone: Counter[str] = Counter()
    for path in removed:
        names = pq.read_schema(path).names
        column = COLUMN if COLUMN in names else LEDGER_COLUMN
        if column in names:
            counts = pc.value_counts(pq.read_table(path, columns=[column]).column(column))
            gone.update({c["values"]: c["counts"] for c in counts.to_pylist()})
    return {
        s: {"rows_in": kept[s] + gone[s], "rows_out": kept[s], "rows_removed": gone[s]}
        for s in splits
    }
