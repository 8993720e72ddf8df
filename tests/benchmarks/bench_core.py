"""Engine overhead: normalize + filter over N short documents, Parquet in and out, against a
bare pyarrow read and write of the same file; and peak memory at N and 4N documents.

    python tests/benchmarks/bench_core.py --docs 1000000 --workers 2

Prints one JSON line. Each measured run is its own subprocess so peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[3] / "shared" / "bench" / "sources"


def make_corpus(path: Path, docs: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    words = []
    for src in sorted(SHARED.glob("*.txt"))[:4]:
        words += src.read_text(encoding="utf-8", errors="replace").split()
    words = words[:400_000]
    writer = None
    step = 100_000
    for start in range(0, docs, step):
        n = min(step, docs - start)
        texts = [
            " ".join(words[(i * 7) % (len(words) - 40) : (i * 7) % (len(words) - 40) + 8 + i % 30])
            for i in range(start, start + n)
        ]
        table = pa.table({"text": texts, "source": ["bench"] * n})
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema, compression="zstd")
        writer.write_table(table)
    assert writer is not None
    writer.close()


BARE = """
import sys, pyarrow.parquet as pq
pf = pq.ParquetFile(sys.argv[1]); w = None
for b in pf.iter_batches(batch_size=100_000):
    if w is None: w = pq.ParquetWriter(sys.argv[2], b.schema, compression="zstd")
    w.write_batch(b)
w.close()
"""


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of a child process."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(proc.stderr)
    wall = time.perf_counter() - start
    return wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def run_curate(corpus: Path, out: Path, workers: int) -> tuple[float, float]:
    recipe = out.parent / f"{out.name}.yaml"
    recipe.write_text(
        f"name: bench\ninput: {{path: {corpus}}}\nstages:\n  - use: normalize\n"
        f'  - use: filter\n    with: {{where: "length(text) > 60"}}\n'
        f"output: {{path: {out}}}\n"
    )
    return timed(
        [
            sys.executable,
            "-m",
            "curate",
            "--quiet",
            "run",
            str(recipe),
            "--quiet",
            "--workers",
            str(workers),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-factor", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        small, big = tmp / "small.parquet", tmp / "big.parquet"
        make_corpus(small, args.docs)
        bare_s, _ = timed([sys.executable, "-c", BARE, str(small), str(tmp / "bare.parquet")])
        ours_s, _ = run_curate(small, tmp / "out-small", args.workers)
        # Peak RSS of children is a running maximum, so measure memory in fresh interpreters.
        mem = {}
        for label, path, n in (
            ("small", small, args.docs),
            ("big", big, args.docs * args.memory_factor),
        ):
            if label == "big":
                make_corpus(big, n)
            code = (
                "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
                "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
            )
            recipe_out = tmp / f"mem-{label}"
            recipe = tmp / f"mem-{label}.yaml"
            recipe.write_text(
                f"name: bench\ninput: {{path: {path}}}\nstages:\n  - use: normalize\n"
                f'  - use: filter\n    with: {{where: "length(text) > 60"}}\n'
                f"output: {{path: {recipe_out}}}\n"
            )
            proc = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    code,
                    sys.executable,
                    "-m",
                    "curate",
                    "--quiet",
                    "run",
                    str(recipe),
                    "--quiet",
                    "--workers",
                    str(args.workers),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            mem[label] = int(proc.stdout.strip().splitlines()[-1]) / 1024
    print(
        json.dumps(
            {
                "benchmark": "core",
                "docs": args.docs,
                "workers": args.workers,
                "bare_read_write_s": round(bare_s, 2),
                "curate_normalize_filter_s": round(ours_s, 2),
                "overhead_ratio": round(ours_s / bare_s, 2),
                "curate_docs_per_s": round(args.docs / ours_s),
                "peak_rss_mb": {k: round(v) for k, v in mem.items()},
                "memory_ratio_big_vs_small": round(mem["big"] / mem["small"], 2),
                "memory_factor_docs": args.memory_factor,
            }
        )
    )


if __name__ == "__main__":
    main()
