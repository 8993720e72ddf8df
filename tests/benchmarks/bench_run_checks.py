"""What the run's safety checks cost, as ratios measured side by side in one process.

    python tests/benchmarks/bench_run_checks.py --docs 1000000 --shards 10

Builds N documents of ~2.3 KB (words drawn at random) in S zstd Parquet shard files, as a run's
output would hold them, then times, best of three each, alternated:

* ``tally``: the accounting check as it was (the order-independent digest of every id);
* ``accounting``: the check now, digest plus distinct-id count (:class:`curate.io.idset.IdSet`);
* ``read_ids``: reading the id column alone, the floor of both;
* ``record``: the size + SHA-256 that each progress record keeps of the files it names, over
  every shard (paid once per file when its unit finishes, again once when resuming);
* ``read_shards``: reading the same shards whole with pyarrow, which every stage must do.

Prints one JSON line: seconds and the ratios ``accounting / tally`` and ``record / read_shards``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate import schema
from curate.executor.damage import file_record
from curate.executor.finalize import check_accounting
from curate.executor.report import IdTally


def _shards(folder: Path, docs: int, shards: int) -> list[Path]:
    rng = np.random.default_rng(0)
    words = np.array([f"w{i}" for i in range(5000)])
    paths = []
    per = docs // shards
    for k in range(shards):
        ids = pa.array([f"web/part-{k:03d}.jsonl:{i}" for i in range(per)])
        picks = words[rng.integers(0, len(words), size=(per, 400))]
        text = pa.array([" ".join(row) for row in picks[: min(per, 2000)]] * (per // 2000 + 1))
        table = pa.table({schema.ID: ids, schema.TEXT: text.slice(0, per)})
        path = folder / f"train-{k:05d}.parquet"
        pq.write_table(table, path, compression="zstd")
        paths.append(path)
    return paths


def _best(fn: Callable[[], object], times: dict[str, list[float]], name: str) -> None:
    start = time.perf_counter()
    fn()
    times.setdefault(name, []).append(time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--shards", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = _shards(Path(tmp), args.docs, args.shards)
        tally = IdTally()
        tally.add_files(paths)

        def tally_only() -> None:
            seen = IdTally()
            seen.add_files(paths)
            assert seen == tally

        def read_ids() -> None:
            for p in paths:
                pq.read_table(p, columns=[schema.ID])

        def read_shards() -> None:
            for p in paths:
                pq.read_table(p)

        runs: dict[str, Callable[[], object]] = {
            "read_ids": read_ids,
            "tally": tally_only,
            "accounting": lambda: check_accounting(tally, paths, []),
            "read_shards": read_shards,
            "record": lambda: [file_record(p) for p in paths],
        }
        times: dict[str, list[float]] = {}
        for _ in range(3):
            for name, fn in runs.items():
                _best(fn, times, name)
        best = {k: round(min(v), 3) for k, v in times.items()}
        size = sum(p.stat().st_size for p in paths)
    print(
        json.dumps(
            {
                "docs": args.docs,
                "shards": args.shards,
                "shard_mb": round(size / 2**20, 1),
                "seconds": best,
                "accounting_over_tally": round(best["accounting"] / best["tally"], 2),
                "record_over_read_shards": round(best["record"] / best["read_shards"], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
