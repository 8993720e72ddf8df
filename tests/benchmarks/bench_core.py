"""Engine overhead: normalize + filter over N short documents, Parquet in and out, against a
bare pyarrow read and write of the same file; 1 against ``--workers`` workers in the same run;
and peak memory at N and 4N documents (``--memory-factor 0`` skips the big corpus).

    python tests/benchmarks/bench_core.py --docs 1000000 --workers 2
    python tests/benchmarks/bench_core.py --docs 1000000 --workers 2 --memory-factor 0 --pairs 3

``--pairs K`` runs 1 and ``--workers`` workers K times, alternating which goes first, and reports
the medians and every pair's ratio. ``cpu_floor_ratio`` is the least ratio an otherwise idle
machine allows: the multi-worker run's CPU seconds (driver and workers) spread over every core,
against the 1-worker run's CPU seconds (on an idle machine it keeps one core busy, so its wall
time is about its CPU time). It hardly depends on the load; a goal below it needs less CPU, not
better overlap.

Prints one JSON line. Every measured command runs in its own fresh interpreter, so each peak
RSS is that command's own.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[3] / "shared" / "bench" / "sources"

BARE = """
import sys, pyarrow.parquet as pq
pf = pq.ParquetFile(sys.argv[1]); w = None
for b in pf.iter_batches(batch_size=100_000):
    if w is None: w = pq.ParquetWriter(sys.argv[2], b.schema, compression="zstd")
    w.write_batch(b)
w.close()
"""
#: ``curate`` as a command that also reports its own CPU seconds on stderr. Its workers' come
#: from the process tree (``PEAK``): a finished run does not wait for its worker processes to
#: exit, the interpreter does, after this line.
DRIVER = """
import resource, sys
from curate.cli import main
main(sys.argv[1:])
me = resource.getrusage(resource.RUSAGE_SELF)
print("cpu", me.ru_utime + me.ru_stime, file=sys.stderr)
"""
#: Peak RSS (KB) and CPU seconds of the command's whole process tree, every process waited for.
PEAK = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
    "stdout=subprocess.DEVNULL); r = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "print(r.ru_utime + r.ru_stime, r.ru_maxrss)"
)


def make_corpus(path: Path, docs: int) -> None:
    """Short documents (8 to 37 words) cut from public-domain books."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    words: list[str] = []
    for src in sorted(SHARED.glob("*.txt"))[:4]:
        words += src.read_text(encoding="utf-8", errors="replace").split()
    words = words[:400_000]
    span = len(words) - 40
    writer = None
    for start in range(0, docs, 100_000):
        n = min(100_000, docs - start)
        texts = [
            " ".join(words[(i * 7) % span : (i * 7) % span + 8 + i % 30])
            for i in range(start, start + n)
        ]
        table = pa.table({"text": texts, "source": ["bench"] * n})
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema, compression="zstd")
        writer.write_table(table)
    assert writer is not None
    writer.close()


CPU: dict[str, tuple[float, float]] = {}


def measure(cmd: list[str], name: str = "") -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of ``cmd``, run under a fresh interpreter.

    For a ``curate`` command, its driver's and workers' CPU seconds go to ``CPU[name]``.
    """
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", PEAK, *cmd], capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(proc.stderr)
    tree_cpu, peak_kb = proc.stdout.strip().splitlines()[-1].split()
    for line in proc.stderr.splitlines():
        if line.startswith("cpu "):
            driver = float(line.split()[1])
            CPU[name] = (driver, float(tree_cpu) - driver)
    return time.perf_counter() - start, int(peak_kb) / 1024


def curate_cmd(corpus: Path, out: Path, workers: int, *, stages: bool = True) -> list[str]:
    steps = (
        '  - use: normalize\n  - use: filter\n    with: {where: "length(text) > 60"}\n'
        if stages
        else "  []\n"
    )
    recipe = out.parent / f"{out.name}.yaml"
    recipe.write_text(
        f"name: bench\ninput: {{path: {corpus}}}\nstages:\n{steps}output: {{path: {out}}}\n"
    )
    return [
        sys.executable,
        "-c",
        DRIVER,
        "--quiet",
        "run",
        str(recipe),
        "--quiet",
        "--workers",
        str(workers),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-factor", type=int, default=4)
    parser.add_argument("--pairs", type=int, default=1, help="1 against N workers, K times")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        small, big = tmp / "small.parquet", tmp / "big.parquet"
        make_corpus(small, args.docs)
        bare_s, bare_mb = measure([sys.executable, "-c", BARE, str(small), str(tmp / "b.parquet")])
        engine_s, _ = measure(curate_cmd(small, tmp / "engine", args.workers, stages=False))
        walls: dict[str, list[float]] = {"one": [], "ours": []}
        cpus: dict[str, list[tuple[float, float]]] = {"one": [], "ours": []}
        small_mb = 0.0
        for i in range(args.pairs):
            order = ("one", "ours") if i % 2 == 0 else ("ours", "one")
            for name in order:
                workers = 1 if name == "one" else args.workers
                wall, mb = measure(curate_cmd(small, tmp / f"{name}-out-{i}", workers), name)
                walls[name].append(wall)
                cpus[name].append(CPU[name])
                if name == "ours":
                    small_mb = max(small_mb, mb)
        one_s, ours_s = (statistics.median(walls[n]) for n in ("one", "ours"))
        for name in cpus:
            CPU[name] = (
                statistics.median(c[0] for c in cpus[name]),
                statistics.median(c[1] for c in cpus[name]),
            )
        ratios = [o / n for o, n in zip(walls["ours"], walls["one"])]
        floors = [
            sum(c) / (os.cpu_count() or 1) / sum(n) for c, n in zip(cpus["ours"], cpus["one"])
        ]
        big_s, big_mb = float("nan"), float("nan")
        if args.memory_factor:
            make_corpus(big, args.docs * args.memory_factor)
            big_s, big_mb = measure(curate_cmd(big, tmp / "big-out", args.workers))
    print(
        json.dumps(
            {
                "benchmark": "core",
                "docs": args.docs,
                "workers": args.workers,
                "bare_read_write_s": round(bare_s, 2),
                "curate_no_stages_s": round(engine_s, 2),
                "curate_normalize_filter_s": round(ours_s, 2),
                "curate_normalize_filter_1_worker_s": round(one_s, 2),
                "workers_vs_1_ratio": round(statistics.median(ratios), 2),
                "workers_vs_1_ratios": [round(r, 2) for r in ratios],
                "cpu_floor_ratio": round(statistics.median(floors), 2),
                "cpu_s_1_worker": round(sum(CPU["one"]), 2),
                "cpu_s_workers": {
                    "driver": round(CPU["ours"][0], 2),
                    "workers": round(CPU["ours"][1], 2),
                },
                "driver_cpu_share": round(CPU["ours"][0] / sum(CPU["ours"]), 3),
                "engine_overhead_ratio": round(engine_s / bare_s, 2),
                "normalize_filter_ratio": round(ours_s / bare_s, 2),
                "curate_docs_per_s": round(args.docs / ours_s),
                "peak_rss_mb": {
                    "bare": round(bare_mb),
                    "curate": round(small_mb),
                    f"curate_x{args.memory_factor}": round(big_mb) if args.memory_factor else None,
                },
                "memory_ratio": round(big_mb / small_mb, 2) if args.memory_factor else None,
                "big_docs_per_s": (
                    round(args.docs * args.memory_factor / big_s) if args.memory_factor else None
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
