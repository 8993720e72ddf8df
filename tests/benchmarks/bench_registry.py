"""Registry speed: publish and load, against a plain copy and ``datasets.load_dataset``.

Builds a run-like folder (Parquet shards + run report), then times, side by side in one process:

- ``copy``: ``shutil.copytree`` of the folder (what publishing must at least do),
- ``publish``: ``curate.registry.publish`` (hash, store, card, manifest, commit),
- ``republish``: publishing the same content again (hash only, returns the existing version),
- ``verify``: recomputing every checksum of the version,
- ``load``: ``curate.registry.load`` (verify checksums, then ``datasets``) with a cold cache,
- ``load_unverified``: the same with ``verify=False``,
- ``hf_load``: ``datasets.load_dataset("parquet", data_files=...)`` of the same files, cold cache.

Loads are interleaved three times after a warm-up, and the medians reported.

Prints one JSON line. Usage: ``python tests/benchmarks/bench_registry.py [--rows N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def build(folder: Path, rows: int, shards: int) -> int:
    rng = np.random.default_rng(0)
    vocab = np.array([f"w{i}" for i in range(20_000)])
    per = rows // shards
    (folder / "data").mkdir(parents=True)
    for k in range(shards):
        lengths = rng.integers(20, 120, per)
        words = vocab[rng.integers(0, len(vocab), int(lengths.sum()))]
        cuts = np.cumsum(lengths)[:-1]
        texts = [" ".join(chunk) for chunk in np.split(words, cuts)]
        table = pa.table(
            {
                "id": [f"doc-{k}-{i}" for i in range(per)],
                "text": texts,
                "lang": rng.choice(["en", "fr", "de"], per),
                "toxicity": rng.random(per),
            }
        )
        pq.write_table(table, folder / "data" / f"train-{k:05d}-of-{shards:05d}.parquet")
    (folder / "curate").mkdir()
    run = {"recipe": {"name": "bench", "card": {"license": "cc0-1.0"}}, "rows_in": rows}
    (folder / "curate" / "run.json").write_text(json.dumps(run))
    return sum(p.stat().st_size for p in (folder / "data").glob("*.parquet"))


def timed(fn: object) -> float:
    assert callable(fn)
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=400_000)
    parser.add_argument("--shards", type=int, default=4)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-registry-"))
    os.environ["CURATE_REGISTRY"] = str(work / "registry")
    os.environ["CURATE_CACHE"] = str(work / "cache")
    os.environ["HF_DATASETS_DISABLE_PROGRESS_BARS"] = "1"
    import datasets

    import curate.registry as registry

    datasets.disable_progress_bars()
    try:
        source = work / "run"
        size = build(source, args.rows, args.shards)
        files = sorted(str(p) for p in (source / "data").glob("*.parquet"))
        copy_s = timed(lambda: shutil.copytree(source, work / "copy"))
        publish_s = timed(lambda: registry.publish(source, "bench"))
        republish_s = timed(lambda: registry.publish(source, "bench"))
        verify_s = timed(lambda: registry.Registry().verify("bench@1.0.0"))

        def hf_load() -> None:
            datasets.load_dataset(
                "parquet", data_files={"train": files}, split="train", cache_dir=str(work / "hf")
            )

        hf_load()  # warm-up: imports and builder set-up, so no contender pays them
        loads: dict[str, list[float]] = {"load": [], "load_unverified": [], "hf_load": []}
        for _ in range(3):  # interleaved, each from a cold Arrow cache
            for cache in (work / "hf", work / "cache"):
                shutil.rmtree(cache, ignore_errors=True)
            loads["hf_load"].append(timed(hf_load))
            loads["load"].append(timed(lambda: registry.load("bench@1.0.0")))
            shutil.rmtree(work / "cache")
            loads["load_unverified"].append(
                timed(lambda: registry.load("bench@1.0.0", verify=False))
            )
        load_s, load_unverified_s, hf_load_s = (
            float(np.median(loads[k])) for k in ("load", "load_unverified", "hf_load")
        )
        print(
            json.dumps(
                {
                    "bench": "registry",
                    "rows": args.rows,
                    "parquet_mb": round(size / 1e6, 1),
                    "copy_s": round(copy_s, 3),
                    "publish_s": round(publish_s, 3),
                    "publish_vs_copy": round(publish_s / copy_s, 2),
                    "republish_s": round(republish_s, 3),
                    "verify_s": round(verify_s, 3),
                    "verify_mb_per_s": round(size / 1e6 / verify_s, 1),
                    "load_s": round(load_s, 3),
                    "load_unverified_s": round(load_unverified_s, 3),
                    "hf_load_s": round(hf_load_s, 3),
                    "load_vs_hf_load": round(load_s / hf_load_s, 2),
                }
            )
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
