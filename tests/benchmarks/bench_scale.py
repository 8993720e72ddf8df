"""A full recipe over a near-duplicate corpus: documents per second end to end and per stage,
peak memory of the whole process tree, and the Ray executor's overhead against the local one.

    python /work/shared/bench/make_neardup.py --sources /work/shared/bench/sources \\
        --n-docs 1000000 --seed 3 --out neardup-1m.parquet
    python tests/benchmarks/bench_scale.py --corpus neardup-1m.parquet --workers 2 \\
        --executor local --executor ray

Each run is its own subprocess; a sampler adds up the RSS of that process and every
descendant (worker processes, and for Ray its raylet, object store and actors) every 0.2 s.
CPU seconds (the run's whole process tree, and each stage's process) do not depend on what
else the machine is doing, unlike wall time: on a shared machine, compare those.
Prints one JSON line per run, then a summary line with the ratios of the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

RECIPE = """name: bench-scale
input: {{path: {corpus}, columns: [cluster, kind]}}
stages:
  - use: normalize
  - use: dedup.exact
  - use: dedup.minhash
  - use: score.language
  - use: score.quality
  - use: score.toxicity
  - use: score.identity
  - use: filter
    id: language
    with: {{where: "lang = 'en' AND lang_score >= 0.5", reason: not-english}}
  - use: filter
    id: quality
    with: {{where: "quality_word_count >= 50 AND toxicity < 0.9", reason: low-quality}}
output: {{path: {out}, shard_rows: {shard_rows}}}
"""

#: The global stages alone: the only ones whose memory could grow with the corpus (map stages
#: hold one shard per worker), for peak memory at 1M against 4M documents.
DEDUP_RECIPE = """name: bench-scale-dedup
input: {{path: {corpus}, columns: [cluster, kind]}}
stages:
  - use: dedup.exact
  - use: dedup.minhash
output: {{path: {out}, shard_rows: {shard_rows}}}
"""

CHILD = """
import json, os, sys, time
from curate.executor import run_recipe
from curate.recipe import load_recipe
recipe, out, executor, workers = sys.argv[1:5]
start = time.perf_counter()
report = run_recipe(load_recipe(recipe), output=out, executor=executor, workers=int(workers))
print(json.dumps({"wall": time.perf_counter() - start, "report": report}))
"""


def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/statm") as f:
                pages = int(f.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents[int(entry)] = int(stat[1])
        rss[int(entry)] = pages * os.sysconf("SC_PAGE_SIZE")
    tree = {root}
    grew = True
    while grew:
        grew = False
        for pid, ppid in parents.items():
            if ppid in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return sum(rss.get(pid, 0) for pid in tree)


def run_once(recipe: Path, out: Path, executor: str, workers: int) -> dict[str, object]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(recipe), str(out), executor, str(workers)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"},
    )
    peak = 0

    def sample() -> None:
        nonlocal peak
        while proc.poll() is None:
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if proc.returncode:
        raise SystemExit(f"{executor} run failed:\n{stderr[-3000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    report = result["report"]
    stages = {
        st["label"]: {
            "rows_in": st["rows_in"],
            "removed": st["removed"],
            "seconds": st["seconds"],
            "cpu_seconds": st.get("cpu_seconds"),
            "docs_per_cpu_s": round(st["rows_in"] / st["cpu_seconds"])
            if st.get("cpu_seconds")
            else None,
        }
        for st in report["stages"]
    }
    return {
        "executor": executor,
        "workers": workers,
        "docs": report["rows_in"],
        "kept": report["rows_out"],
        "wall_s": round(result["wall"], 1),
        "docs_per_s": round(report["rows_in"] / result["wall"]),
        "cpu_s": round(cpu, 1),
        "docs_per_cpu_s": round(report["rows_in"] / cpu) if cpu else None,
        "peak_rss_mb": round(peak / 2**20),
        "stages": stages,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--executor", action="append", choices=["local", "ray"])
    ap.add_argument("--shard-rows", type=int, default=50_000)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--stages", choices=["full", "dedup"], default="full")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-scale-", dir=args.workdir))
    runs = []
    for executor in args.executor or ["local"]:
        out = work / f"out-{executor}"
        recipe = work / "recipe.yaml"
        template = RECIPE if args.stages == "full" else DEDUP_RECIPE
        recipe.write_text(
            template.format(corpus=args.corpus.resolve(), out=out, shard_rows=args.shard_rows)
        )
        run = run_once(recipe, out, executor, args.workers)
        run.update(
            corpus=args.corpus.name,
            recipe=args.stages,
            load_avg=os.getloadavg(),
        )
        print(json.dumps(run), flush=True)
        runs.append(run)
        # Outputs of a 4M-document run take gigabytes; the figures are all that is kept.
        shutil.rmtree(out, ignore_errors=True)
    if len(runs) > 1:
        base = runs[0]
        print(
            json.dumps(
                {
                    "corpus": args.corpus.name,
                    "wall_ratio": {
                        r["executor"]: round(r["wall_s"] / base["wall_s"], 3) for r in runs
                    },
                    "same_kept": len({r["kept"] for r in runs}) == 1,
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
