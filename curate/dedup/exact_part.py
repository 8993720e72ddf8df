"""Per-part work of ``dedup.exact`` and ``dedup.paragraphs``: compact hashes of normalised text.

Runs in a worker process. ``dedup.exact`` keeps a 128-bit xxh3 hash per document (16 bytes plus
its 8-byte index: the only per-document state, spilled sorted by hash so that readers can take
one hash range at a time). ``dedup.paragraphs`` hashes every paragraph (or line) to 64 bits.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xxhash

from curate.core.parts import ROW_GROUP, Part, write_atomic
from curate.dedup.textnorm import Step, normalize_texts

#: Row group size of sorted hash files (readers prune row groups by hash range).
HASH_ROW_GROUP = 1 << 16

#: Paragraph separators: a blank line (possibly holding spaces) or, for lines, a newline.
SEPARATORS = {"paragraph": r"\n[^\S\n]*\n\s*", "line": r"\n"}
JOINERS = {"paragraph": "\n\n", "line": "\n"}


def hash_strings(values: pa.Array) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """128-bit xxh3 of each string's UTF-8 bytes, as (high, low) 64-bit halves."""
    values = pc.fill_null(values.cast(pa.large_string()), "")
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int64)[
        values.offset : values.offset + len(values) + 1
    ]
    data = memoryview(values.buffers()[2] or b"")
    digests = [
        xxhash.xxh3_128_intdigest(data[offsets[i] : offsets[i + 1]]) for i in range(len(values))
    ]
    high = np.array([d >> 64 for d in digests], dtype=np.uint64)
    low = np.array([d & 0xFFFFFFFFFFFFFFFF for d in digests], dtype=np.uint64)
    return high, low


def exact_path(out_dir: Path, part: Part) -> Path:
    return out_dir / f"hashes-{part.path.stem}.parquet"


def hash_part(part: Part, steps: Sequence[Step], out_dir: Path, text_column: str = "text") -> int:
    """Write (h1, h2, doc) of every document of ``part``, sorted by hash; return the row count."""
    tables = []
    start = part.start
    for batch in pq.ParquetFile(part.path, pre_buffer=False).iter_batches(
        batch_size=ROW_GROUP, columns=[text_column]
    ):
        high, low = hash_strings(normalize_texts(batch.column(text_column), steps))
        docs = np.arange(start, start + batch.num_rows, dtype=np.int64)
        tables.append(pa.table({"h1": high, "h2": low, "doc": docs}))
        start += batch.num_rows
    table = (
        pa.concat_tables(tables)
        if tables
        else pa.table(
            {
                "h1": pa.array([], pa.uint64()),
                "h2": pa.array([], pa.uint64()),
                "doc": pa.array([], pa.int64()),
            }
        )
    )
    order = np.lexsort((table.column("h2").to_numpy(), table.column("h1").to_numpy()))
    write_atomic(
        table.take(pa.array(order)), exact_path(out_dir, part), row_group_size=HASH_ROW_GROUP
    )
    return int(table.num_rows)


def split_units(texts: pa.Array, unit: str) -> pa.Array:
    """Each text's paragraphs (or lines), as a list array."""
    return pc.split_pattern_regex(pc.fill_null(texts.cast(pa.string()), ""), SEPARATORS[unit])


def paragraph_paths(out_dir: Path, part: Part) -> tuple[Path, Path]:
    """(per-document paragraph hashes, distinct (hash, doc) pairs sorted by hash)."""
    return (
        out_dir / f"paras-{part.path.stem}.parquet",
        out_dir / f"counts-{part.path.stem}.parquet",
    )


def paragraph_part(
    part: Part,
    steps: Sequence[Step],
    unit: str,
    min_chars: int,
    out_dir: Path,
    text_column: str = "text",
) -> int:
    """Hash the paragraphs of ``part``; return how many paragraphs it has.

    A paragraph whose normalised text is shorter than ``min_chars`` gets hash 0, which is never
    counted and never removed.
    """
    per_doc: list[pa.Table] = []
    pairs: list[pa.Table] = []
    start = part.start
    total = 0
    for batch in pq.ParquetFile(part.path, pre_buffer=False).iter_batches(
        batch_size=ROW_GROUP, columns=[text_column]
    ):
        units = split_units(batch.column(text_column), unit)
        flat = normalize_texts(units.flatten(), steps)
        high, _ = hash_strings(flat)
        short = pc.less(pc.utf8_length(flat), max(1, min_chars)).to_numpy(zero_copy_only=False)
        high[short] = 0
        lengths = pc.list_value_length(units).to_numpy(zero_copy_only=False).astype(np.int64)
        docs = np.arange(start, start + batch.num_rows, dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
        per_doc.append(
            pa.table(
                {
                    "doc": docs,
                    "hashes": pa.ListArray.from_arrays(pa.array(offsets), pa.array(high)),
                }
            )
        )
        owner = np.repeat(docs, lengths)
        live = high != 0
        pairs.append(pa.table({"hash": high[live], "doc": owner[live]}))
        start += batch.num_rows
        total += len(high)
    write_atomic(pa.concat_tables(per_doc), paragraph_paths(out_dir, part)[0])
    distinct = pa.concat_tables(pairs).group_by(["hash", "doc"]).aggregate([])
    order = np.argsort(distinct.column("hash").to_numpy(), kind="stable")
    write_atomic(
        distinct.take(pa.array(order)),
        paragraph_paths(out_dir, part)[1],
        row_group_size=HASH_ROW_GROUP,
    )
    return total
