"""Peak memory of each stage alone, on many ordinary documents and on one huge document.

    python tests/benchmarks/bench_memory.py [--docs 50000] [--work DIR]
    python tests/benchmarks/bench_memory.py --huge-mb 200 [--huge-stages score.toxicity ...]
    python tests/benchmarks/bench_memory.py --quality-steps
    python tests/benchmarks/bench_memory.py --pipeline [--workers 2] [--rounds 3] \
        --variant default --variant system:ARROW_DEFAULT_MEMORY_POOL=system ...

The first form runs ``curate run`` once per stage, with a recipe holding that stage alone (its
defaults; ``filter`` keeps every row), over the same documents as ``bench_datatrove.py`` (the
``../shared/bench/make_neardup.py`` corpus, seed 5, 8 Parquet files), one worker, and once with
no stage at all: the engine's own floor. Each run's process tree is sampled from /proc (as in
``bench_datatrove.py``); the figure is its peak RSS, and ``over_floor_mb`` the difference to the
no-stage run.

The second form builds one document of ``--huge-mb`` megabytes (the bench corpus's texts joined
by blank lines, repeated) and, in a fresh process per stage, runs the stage's ``process`` on a
one-row batch holding it, after a first small batch that loads the stage's models. It reports
the process's RSS before the huge batch (interpreter, libraries, models, the batch itself) and
its peak during it (``VmHWM``, reset just before the batch), so ``growth_mb`` is what the stage
needed for that document.

``--quality-steps`` says what a worker pays to run ``score.quality``: in a fresh process, the
RSS and CPU of each step: the stage's imports, ``import numba``, numba's JIT itself (one
trivial function compiled, not cached), then the first batch (the stage's kernels loaded from
numba's on-disk cache) and a second one.

The fourth form runs the whole FineWeb-like recipe (``bench_datatrove.py``'s) once per
``--variant`` and round, the variants interleaved and their order alternating between rounds,
so that a drifting machine load hits them alike. A variant is ``LABEL`` or
``LABEL:NAME=VALUE,NAME=VALUE``: environment variables for that run, e.g. an allocator
(``ARROW_DEFAULT_MEMORY_POOL=system``) or ``PYTHONPATH`` pointing at another copy of the
package. Each round also reports every variant's peak RSS, CPU and wall time as a ratio to
the first variant's in that round; the two largest processes' peaks say where memory went.

Prints one JSON line per measurement and a final JSON line with all of them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_datatrove import MODEL, SHARED, monitored, prepare

#: Parameters a stage needs to run alone (every other parameter at its default).
PARAMS: dict[str, dict[str, Any]] = {
    "filter": {"where": "id IS NOT NULL", "reason": "kept"},
}
STAGES = (
    "normalize",
    "dedup.exact",
    "dedup.paragraphs",
    "dedup.minhash",
    "score.language",
    "score.quality",
    "score.toxicity",
    "score.identity",
    "redact.pii",
    "filter",
)


def stages_alone(args: argparse.Namespace) -> list[dict[str, Any]]:
    import yaml

    recipe = yaml.safe_load(prepare(args).read_text())
    env = dict(os.environ, CURATE_LID_MODEL=str(MODEL))
    results = []
    for name in (None, *args.stages):
        recipe["stages"] = [] if name is None else [{"use": name, "with": PARAMS.get(name, {})}]
        path = args.work / "memory-recipe.yaml"
        path.write_text(yaml.safe_dump(recipe, sort_keys=False))
        out = args.work / "memory-out"
        cmd = [sys.executable, "-m", "curate", "run", str(path), "-o", str(out), "--quiet"]
        cmd += ["--overwrite"] if out.exists() else []
        figures = monitored(cmd, env, args.interval, args.work)
        figures.pop("process_peaks_mb", None)
        figures["stage"] = name or "(no stage)"
        results.append(figures)
        print(json.dumps(figures), flush=True)
    floor = results[0]["peak_rss_mb"]
    for r in results[1:]:
        r["over_floor_mb"] = round(r["peak_rss_mb"] - floor, 1)
    return results


def _variant(text: str) -> tuple[str, dict[str, str]]:
    label, _, pairs = text.partition(":")
    env = dict(p.split("=", 1) for p in pairs.split(",") if p)
    return label, env


def pipeline(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The FineWeb-like recipe under each variant, interleaved, ratios to the first variant."""
    recipe = prepare(args)
    variants = [_variant(v) for v in args.variant or ["default"]]
    results: list[dict[str, Any]] = []
    for r in range(args.rounds):
        order = variants if r % 2 == 0 else variants[::-1]
        this_round: dict[str, dict[str, Any]] = {}
        for label, extra in order:
            env = dict(os.environ, CURATE_LID_MODEL=str(MODEL), **extra)
            out = args.work / f"pipeline-{label}"
            cmd = [sys.executable, "-m", "curate", "run", str(recipe), "-o", str(out)]
            cmd += ["--workers", str(args.workers), "--quiet"]
            cmd += ["--overwrite"] if out.exists() else []
            figures = monitored(cmd, env, args.interval, args.work)
            figures["process_peaks_mb"] = figures["process_peaks_mb"][:3]
            figures.update(variant=label, round=r)
            this_round[label] = figures
            print(json.dumps(figures), flush=True)
        base = this_round[variants[0][0]]
        for label, _ in variants:
            f = this_round[label]
            for key in ("peak_rss_mb", "cpu_s", "wall_s"):
                f[f"{key}_ratio"] = round(f[key] / base[key], 3)
            results.append(f)
        print(
            json.dumps(
                {"round": r, "ratios": {k: v["peak_rss_mb_ratio"] for k, v in this_round.items()}}
            )
        )
    return results


def quality_steps() -> list[dict[str, Any]]:
    """In this process: RSS and CPU of each step a worker takes to run score.quality."""
    import time

    steps: list[dict[str, Any]] = []
    last = [_status_mb("VmRSS"), time.process_time()]

    def step(name: str) -> None:
        rss, cpu = _status_mb("VmRSS"), time.process_time()
        steps.append(
            {
                "step": name,
                "rss_mb": round(rss, 1),
                "added_mb": round(rss - last[0], 1),
                "cpu_s": round(cpu - last[1], 3),
            }
        )
        last[:] = [rss, cpu]

    import pyarrow.parquet as pq

    from curate.stages import get_stage

    stage = get_stage("score.quality")()
    corpus = pq.ParquetFile(SHARED / "bench" / "neardup-20k.parquet")
    batch = next(corpus.iter_batches(batch_size=1000, columns=["id", "text"]))
    step("imports")
    import numba

    step("import numba")
    numba.njit(lambda x: x + 1)(1)
    step("numba JIT (one trivial function)")
    stage.process(batch)
    step("first batch (kernels from the cache)")
    stage.process(batch)
    step("second batch")
    return steps


def huge_text(megabytes: int) -> str:
    import pyarrow.parquet as pq

    texts = pq.read_table(SHARED / "bench" / "neardup-20k.parquet", columns=["text"])
    target = megabytes * 10**6
    parts, size = [], 0
    while size < target:
        for t in texts.column("text").to_pylist():
            parts.append(t)
            size += len(t) + 2
            if size >= target:
                break
    return "\n\n".join(parts)


def _status_mb(key: str) -> float:
    """A memory figure of this process from /proc/self/status (VmRSS, VmHWM), in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    raise KeyError(key)


def _reset_peak() -> None:
    """Start VmHWM (the peak RSS) again from the current RSS (Linux 4.0+)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def one_huge(stage_name: str, megabytes: int) -> dict[str, Any]:
    """In this process: one stage on one document of ``megabytes`` MB."""
    import pyarrow as pa

    from curate.stage import StageContext
    from curate.stages import get_stage

    stage = get_stage(stage_name)(**PARAMS.get(stage_name, {}))
    with tempfile.TemporaryDirectory() as tmp:
        stage.setup(StageContext(workdir=Path(tmp)))
        stage.process(pa.record_batch({"id": ["w"], "text": ["a small warm-up document."]}))
        batch = pa.record_batch({"id": ["huge"], "text": [huge_text(megabytes)]})
        before = _status_mb("VmRSS")
        _reset_peak()
        stage.process(batch)
        peak = _status_mb("VmHWM")
    return {
        "stage": stage_name,
        "document_mb": megabytes,
        "rss_before_mb": round(before, 1),
        "peak_rss_mb": round(peak, 1),
        "growth_mb": round(peak - before, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=50_000)
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench-memory"))
    ap.add_argument("--interval", type=float, default=0.1)
    ap.add_argument("--stages", nargs="+", default=list(STAGES))
    ap.add_argument("--huge-mb", type=int, help="measure one document of this many MB instead")
    ap.add_argument("--huge-stages", nargs="+", default=["score.toxicity", "score.quality"])
    ap.add_argument("--quality-steps", action="store_true", help="what score.quality costs")
    ap.add_argument("--pipeline", action="store_true", help="the FineWeb-like recipe, variants")
    ap.add_argument("--variant", action="append", help="LABEL[:NAME=VALUE,...] (--pipeline)")
    ap.add_argument("--workers", type=int, default=2, help="workers of the --pipeline runs")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of the --pipeline runs")
    ap.add_argument("--one-huge", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one_huge:
        print(json.dumps(one_huge(args.one_huge, args.huge_mb)))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    if args.quality_steps:
        results = quality_steps()
        for r in results:
            print(json.dumps(r), flush=True)
    elif args.pipeline:
        results = pipeline(args)
    elif args.huge_mb:
        results = []
        for name in args.huge_stages:
            cmd = [sys.executable, __file__, "--one-huge", name, "--huge-mb", str(args.huge_mb)]
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise SystemExit(f"{name} failed:\n{done.stderr[-3000:]}")
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(json.dumps(results[-1]), flush=True)
    else:
        results = stages_alone(args)
    print(json.dumps({"docs": args.docs, "huge_mb": args.huge_mb, "results": results}))


if __name__ == "__main__":
    main()
