"""What carrying Hugging Face features costs a run: the same Parquet input with and without them.

    python tests/benchmarks/bench_features.py --docs 200000

Writes N documents with a ``ClassLabel`` column twice, once with ``datasets``' ``huggingface``
schema metadata and once with it stripped, and runs the same recipe (a filter keeping about
half) over each, alternated, best of three. With features, finalize copies every data shard
once to put the metadata in its footer; without, it only renames. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from curate.executor.run import run_recipe
from curate.recipe import load_recipe


def _inputs(folder: Path, docs: int) -> tuple[Path, Path]:
    from datasets import ClassLabel, Features, Value

    features = Features({"text": Value("string"), "label": ClassLabel(names=["a", "b", "c"])})
    table = pa.table(
        {
            "text": [f"document {i} " + "word " * (i % 13) for i in range(docs)],
            "label": pa.array([i % 3 for i in range(docs)], pa.int64()),
        }
    ).replace_schema_metadata(features.arrow_schema.metadata)
    with_features, plain = folder / "hf.parquet", folder / "plain.parquet"
    pq.write_table(table, with_features)
    pq.write_table(table.replace_schema_metadata(None), plain)
    return with_features, plain


def _time(folder: Path, source: Path, out: Path) -> float:
    recipe = folder / f"{source.stem}.yaml"
    recipe.write_text(
        f"name: bench\ninput: {{path: {source}}}\nstages:\n"
        '  - use: filter\n    with: {where: "length(text) > 40"}\n'
        f"output: {{path: {out}, shard_rows: 20000}}\n"
    )
    start = time.perf_counter()
    run_recipe(load_recipe(recipe), overwrite=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        hf, plain = _inputs(folder, args.docs)
        best = {"features": float("inf"), "plain": float("inf")}
        for _ in range(3):
            for name, source in (("features", hf), ("plain", plain)):
                best[name] = min(best[name], _time(folder, source, folder / f"out-{name}"))
    print(
        json.dumps(
            {
                "docs": args.docs,
                "seconds_with_features": round(best["features"], 3),
                "seconds_plain": round(best["plain"], 3),
                "ratio": round(best["features"] / best["plain"], 3),
            }
        )
    )


if __name__ == "__main__":
    main()
