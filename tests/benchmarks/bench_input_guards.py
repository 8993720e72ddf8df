"""Cost of the hostile-input guards and of compiled filter expressions, as ratios in one run.

    python tests/benchmarks/bench_input_guards.py --docs 200000

Measures, on a generated corpus of short documents:
- the JSON depth pre-check of each 8 MiB block against pyarrow's parse of the same block;
- the JSONL reader (guards included) against a bare ``pyarrow.json.read_json`` of the file;
- the UTF-8 validation of a Parquet text column against reading the file;
- ``filter`` with the expression compiled from sqlglot against ``pl.sql_expr`` of the same
  expression, evaluated on the same frame; and the validation time of a 3,000-term OR.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import tempfile
import time
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.json as pjson
import pyarrow.parquet as pq

from curate.io import guards
from curate.io.formats import _invalid_utf8
from curate.io.jsonl import CHUNK_BYTES, JsonlReader, _lines
from curate.io.sources import Source
from curate.sqlexpr import parse_where

WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "it",
    "as",
    "was",
    "with",
    "be",
    "by",
    "on",
    "not",
    "he",
    "this",
    "are",
    "or",
    "his",
]


def best(fn: object, repeat: int = 3) -> float:
    assert callable(fn)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=200_000)
    args = parser.parse_args()
    rng = random.Random(0)
    rows = [
        {
            "text": " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 60))),
            "lang": rng.choice(["en", "fr", "de"]),
            "score": rng.random(),
        }
        for _ in range(args.docs)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        source = Source(str(path), "jsonl", "in.jsonl")
        blocks = list(_lines(source))
        parse = best(lambda: [pjson.read_json(io.BytesIO(b)) for b in blocks])
        depth = best(lambda: [guards.too_deep(b) for b in blocks])
        reader = best(lambda: list(JsonlReader(source, text_column="text")))
        table = pa.Table.from_pylist(rows)
        parquet = Path(tmp) / "in.parquet"
        pq.write_table(table, parquet)
        read_pq = best(lambda: pq.read_table(parquet))
        text = pq.read_table(parquet).column("text").combine_chunks()
        utf8 = best(lambda: _invalid_utf8(text))
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    where = "lang IN ('en', 'fr') AND score >= 0.5 AND length(text) > 40"
    compiled = parse_where(where).compile(frame.schema)
    ours = best(lambda: frame.select(compiled))
    polars_sql = best(lambda: frame.select(pl.sql_expr(where)))
    agree = frame.select(compiled).to_series().equals(frame.select(pl.sql_expr(where)).to_series())
    long_or = " OR ".join(f"lang = 'x{i}'" for i in range(3000))
    validate = best(lambda: parse_where(long_or).compile(frame.schema), repeat=1)
    print(
        json.dumps(
            {
                "docs": args.docs,
                "jsonl_mib": round(sum(map(len, blocks)) / 2**20, 1),
                "block_mib": CHUNK_BYTES >> 20,
                "depth_check_vs_parse": round(depth / parse, 3),
                "jsonl_reader_vs_bare_parse": round(reader / parse, 3),
                "utf8_check_vs_parquet_read": round(utf8 / read_pq, 3),
                "filter_compiled_vs_polars_sql": round(ours / polars_sql, 3),
                "filter_results_agree": bool(agree),
                "or_3000_validate_s": round(validate, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
