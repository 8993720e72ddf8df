"""Before/after, side by side: one benchmark script run under two source trees, interleaved.

    git worktree add /tmp/before <sha>; git worktree add /tmp/after HEAD
    python tests/benchmarks/bench_ab.py --before /tmp/before --after /tmp/after --repeat 2 \\
        -- tests/benchmarks/bench_dedup.py --corpus 20k=../shared/bench/neardup-20k.parquet

Each repeat runs the benchmark (the tree's own copy of the script, with ``PYTHONPATH`` set to
the tree) once per tree, alternating which goes first, so both see the same machine load. Takes
the last JSON line the benchmark prints, and reports the median of every numeric figure whose
key holds one of ``--keys`` (seconds, ratios, peak RSS by default) for each tree, and their
ratio after / before, with the CPU seconds of each run's whole process tree. Prints one JSON
line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any


def _leaves(value: Any, prefix: str = "") -> dict[str, float]:
    if isinstance(value, dict):
        out: dict[str, float] = {}
        for key, item in value.items():
            out.update(_leaves(item, f"{prefix}{key}."))
        return out
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {prefix.rstrip("."): float(value)}
    return {}


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _run(tree: Path, script: str, args: list[str]) -> dict[str, float]:
    """The benchmark's figures, and ``tree_cpu_seconds``: the CPU time of its whole process
    tree (every descendant was waited for), which machine load changes far less than wall time."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    cmd = [sys.executable, str(tree / script), *args]
    before = _cpu()
    proc = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"{cmd} failed:\n{proc.stderr[-2000:]}")
    lines = [x for x in proc.stdout.splitlines() if x.startswith("{")]
    return {**_leaves(json.loads(lines[-1])), "tree_cpu_seconds": round(_cpu() - before, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--keys",
        default="seconds,_s,ratio,rss",
        help="compare the figures whose key holds one of these (comma-separated)",
    )
    parser.add_argument("bench", nargs=argparse.REMAINDER, help="-- SCRIPT [ARGS...]")
    ns = parser.parse_args()
    rest = ns.bench[1:] if ns.bench[:1] == ["--"] else ns.bench
    if not rest:
        parser.error("give the benchmark after --: -- tests/benchmarks/SCRIPT [ARGS...]")
    script, *args = rest
    trees = {"before": ns.before, "after": ns.after}
    runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for i in range(ns.repeat):
        for name in ("before", "after") if i % 2 == 0 else ("after", "before"):
            runs[name].append(_run(trees[name], script, args))
            print(f"[bench_ab] {name} {i + 1}: {json.dumps(runs[name][-1])}", file=sys.stderr)
    wanted = ns.keys.split(",")
    keys = [
        k
        for k in runs["before"][0]
        if any(w in k for w in wanted) and all(k in r for r in runs["after"])
    ]
    med = {n: {k: statistics.median(r[k] for r in runs[n]) for k in keys} for n in runs}
    ratio = {k: round(med["after"][k] / med["before"][k], 3) for k in keys if med["before"][k]}
    print(
        json.dumps(
            {
                "benchmark": "ab",
                "command": [script, *args],
                "repeat": ns.repeat,
                "before": med["before"],
                "after": med["after"],
                "ratio_after_over_before": ratio,
            }
        )
    )


if __name__ == "__main__":
    main()
