"""The per-part work of ``dedup.minhash``: shingles, signatures and band keys of one spilled part.

Runs in a worker process. Reads the part's text (and the keep-policy column), and writes two
Parquet files next to it: ``bands-N`` (band, key, doc), sorted by band then key so that readers
can prune row groups to one band and key range, and ``sigs-N`` (doc, full signature, length,
score), in document order. Documents without a single token get no signature and no band: they
cannot be near duplicates of anything (empty texts are ``dedup.exact``'s business).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.core.parts import Part, write_atomic, write_groups
from curate.dedup.shingles import Shingler
from curate.dedup.signatures import band_keys, permutations, signatures
from curate.dedup.tokens import Tokenizer

#: Documents shingled at once: bounds the working set (about 80 bytes per token) per worker.
SIGN_BATCH = 1024


@dataclass(frozen=True)
class SignConfig:
    """Everything a worker needs to sign a part; a pure value, so results never depend on it
    running in this or another process."""

    ngram: int
    char_ngram: int
    tokenizer: Tokenizer
    num_perm: int
    seed: int
    bands: int
    rows: int
    text_column: str = "text"
    score_column: str | None = None


_SHINGLERS: dict[tuple[int, int, str], Shingler] = {}


def _shingler(config: SignConfig) -> Shingler:
    key = (config.ngram, config.char_ngram, config.tokenizer)
    if key not in _SHINGLERS:
        _SHINGLERS[key] = Shingler(
            ngram=config.ngram, char_ngram=config.char_ngram, tokenizer=config.tokenizer
        )
    return _SHINGLERS[key]


def band_path(out_dir: Path, part: Part) -> Path:
    return out_dir / f"bands-{part.path.stem}.parquet"


def sig_path(out_dir: Path, part: Part) -> Path:
    return out_dir / f"sigs-{part.path.stem}.parquet"


def _score(batch: pa.RecordBatch, column: str | None) -> pa.Array:
    if column is None or column not in batch.schema.names:
        return pa.nulls(batch.num_rows, pa.float64())
    return batch.column(column).cast(pa.float64())


def sign_part(part: Part, config: SignConfig, out_dir: Path) -> int:
    """Write the band and signature files of ``part``; return how many documents were signed."""
    shingler = _shingler(config)
    a, b = permutations(config.num_perm, config.seed)
    width = 4 * config.num_perm
    columns = [config.text_column]
    source = pq.ParquetFile(part.path, pre_buffer=False)
    if config.score_column and config.score_column in source.schema_arrow.names:
        columns.append(config.score_column)
    band_tables: list[pa.Table] = []
    sig_tables: list[pa.Table] = []
    start = part.start
    for batch in source.iter_batches(batch_size=SIGN_BATCH, columns=columns):
        text = batch.column(config.text_column)
        hashes, counts = shingler(text)
        has = counts > 0
        sig = signatures(hashes, counts, a, b)[has]
        docs = start + np.flatnonzero(has).astype(np.int64)
        keys = band_keys(sig, config.bands, config.rows)
        band_tables.append(
            pa.table(
                {
                    "band": np.repeat(np.arange(config.bands, dtype=np.int32), len(docs)),
                    "key": keys.T.ravel(),
                    "doc": np.tile(docs, config.bands),
                }
            )
        )
        mask = pa.array(has)
        sig_tables.append(
            pa.table(
                {
                    "doc": docs,
                    "sig": pa.FixedSizeBinaryArray.from_buffers(
                        pa.binary(width), len(docs), [None, pa.py_buffer(np.ascontiguousarray(sig))]
                    ),
                    "length": pc.filter(pc.utf8_length(pc.fill_null(text, "")), mask).cast(
                        pa.int64()
                    ),
                    "score": pc.filter(_score(batch, config.score_column), mask),
                }
            )
        )
        start += batch.num_rows
    bands = pa.concat_tables(band_tables) if band_tables else _empty_bands()
    order = np.lexsort((bands.column("key").to_numpy(), bands.column("band").to_numpy()))
    bands = bands.take(pa.array(order))
    # One row group per band, sorted by key: a reader of one band (and key range) skips the rest.
    per_band = len(order) // config.bands
    groups = [bands.slice(b * per_band, per_band) for b in range(config.bands)]
    write_groups(groups if per_band else [bands], band_path(out_dir, part))
    if sig_tables:
        write_atomic(pa.concat_tables(sig_tables), sig_path(out_dir, part))
    return sum(t.num_rows for t in sig_tables)


def _empty_bands() -> pa.Table:
    return pa.table(
        {
            "band": pa.array([], pa.int32()),
            "key": pa.array([], pa.uint64()),
            "doc": pa.array([], pa.int64()),
        }
    )
