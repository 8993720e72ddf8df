"""Near-duplicate removal, side by side: curate's dedup.minhash, datatrove 0.10.1, datasketch.

    python tests/benchmarks/bench_dedup.py \\
        --corpus 20k=../shared/bench/neardup-20k.parquet \\
        --corpus 200k=/work/benchdata/neardup-200k.parquet \\
        --rivals-python /work/bench-venv/bin/python

Every tool runs as its own process on the same corpus at the same parameters (word 5-grams,
14 bands x 8 rows, 2 workers where the tool has workers); the wall time includes reading the
Parquet input and writing the kept documents. Peak memory is the largest sum of the resident
set sizes of the process and all its children, sampled every 50 ms from /proc. The kept ids are
scored with ../shared/bench/score_dedup.py. curate's higher-recall setting (word 3-grams,
threshold 0.5, verified) runs too, on corpora up to 250k documents. The rivals live in their
own virtualenv (``pip install "datatrove==0.10.1" tokenizers "xxhash<4" regex datasketch``),
never in curate's.

Prints one JSON line: per corpus and tool, seconds, documents per second, peak RSS, precision,
recall, F1 and clusters fully deleted; and curate's ratios to datatrove.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BENCH = Path(os.environ.get("CURATE_SHARED", ROOT.parent / "shared")) / "bench"

MATCHED = {"ngram": 5, "bands": 14, "rows": 8}
HIGH_RECALL = {"ngram": 3, "threshold": 0.5, "verify": True}


def run_curate(src: str, kept_path: str, params: dict[str, Any], workers: int, work: str) -> None:
    """The timed curate process: Parquet in, dedup.minhash, kept rows out (Parquet)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from curate.schema import DETAIL, REASON
    from curate.stage import StageContext
    from curate.stages.dedup_minhash import DedupMinhash

    start = time.perf_counter()
    stage = DedupMinhash(**params)
    stage.setup(StageContext(workdir=Path(work), workers=workers))
    # pre_buffer=False: with it, pyarrow keeps every column chunk read so far (the whole input).
    source = pq.ParquetFile(src, pre_buffer=False)
    writer: pq.ParquetWriter | None = None
    for out in stage(source.iter_batches(batch_size=8192, columns=["id", "text"])):
        kept = out.filter(pc.is_null(out.column(REASON))).drop_columns([REASON, DETAIL])
        if writer is None:
            writer = pq.ParquetWriter(kept_path, kept.schema)
        writer.write_batch(kept)
    if writer is not None:
        writer.close()
    print(
        json.dumps(
            {"stage_seconds": round(time.perf_counter() - start, 2), "lsh": stage.describe()["lsh"]}
        )
    )


def _children(pid: int) -> list[int]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        kids.setdefault(int(fields[1]), []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def _rss(pids: list[int]) -> int:
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def measured(cmd: list[str], log: Path) -> dict[str, Any]:
    """Run ``cmd``; its wall time, peak tree RSS and last stdout line (JSON)."""
    start = time.perf_counter()
    with open(log, "w") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
        peak = [0]

        def sample() -> None:
            while proc.poll() is None:
                peak[0] = max(peak[0], _rss(_children(proc.pid)))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        stdout, _ = proc.communicate()
        sampler.join()
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[:3]} failed with {proc.returncode}; see {log}")
    lines = [x for x in stdout.splitlines() if x.startswith("{")]
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(peak[0] / 2**20),
        "tool_report": json.loads(lines[-1]) if lines else None,
    }


def score(truth: str, kept: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(BENCH / "score_dedup.py"), "--truth", truth, "--kept", kept],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    full = json.loads(out)
    keys = ("precision", "recall", "f1", "clusters_fully_deleted", "removed", "caught_by_kind")
    return {k: full[k] for k in keys}


def bench(name: str, path: str, args: argparse.Namespace) -> dict[str, Any]:
    work = Path(args.workdir) / name
    work.mkdir(parents=True, exist_ok=True)
    docs = int(
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import pyarrow.parquet as pq, sys; "
                "print(pq.ParquetFile(sys.argv[1]).metadata.num_rows)",
                path,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    tools: dict[str, list[str]] = {}
    configs = [("curate", MATCHED)]
    if docs <= args.high_recall_max_docs:
        configs.append(("curate_high_recall", HIGH_RECALL))
    for label, params in configs:
        tools[label] = [
            sys.executable,
            __file__,
            "--curate-run",
            path,
            str(work / label),
            json.dumps(params),
            str(args.workers),
        ]
    rival = args.rivals_python
    if rival and "datatrove" not in args.skip:
        tools["datatrove"] = [
            rival,
            str(BENCH / "anchors" / "run_datatrove.py"),
            "--input",
            path,
            "--workdir",
            str(work / "datatrove-work"),
            "--kept",
            str(work / "datatrove.txt"),
            "--tokenizer",
            "regex",
            "--workers",
            str(args.workers),
        ]
    if rival and "datasketch" not in args.skip and docs <= args.datasketch_max_docs:
        tools["datasketch"] = [
            rival,
            str(BENCH / "anchors" / "run_datasketch.py"),
            "--input",
            path,
            "--kept",
            str(work / "datasketch.txt"),
            "--bands",
            "14",
            "--rows",
            "8",
        ]
    results: dict[str, Any] = {"docs": docs}
    for label, cmd in tools.items():
        print(f"[bench_dedup] {name}: {label}", file=sys.stderr, flush=True)
        got = measured(cmd, work / f"{label}.log")
        kept = str(work / (f"{label}.parquet" if label.startswith("curate") else f"{label}.txt"))
        got["docs_per_s"] = round(docs / got["seconds"])
        got.update(score(path, kept))
        results[label] = got
        print(f"[bench_dedup] {name}: {label} {json.dumps(got)}", file=sys.stderr, flush=True)
    if "datatrove" in results:
        dt, cu = results["datatrove"], results["curate"]
        results["ratios_vs_datatrove"] = {
            "speed": round(cu["docs_per_s"] / dt["docs_per_s"], 2),
            "peak_rss": round(cu["peak_rss_mb"] / max(1, dt["peak_rss_mb"]), 3),
            "f1_difference": round(cu["f1"] - dt["f1"], 4),
        }
    return results


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--curate-run":
        src, work, params, workers = sys.argv[2:6]
        run_curate(src, work + ".parquet", json.loads(params), int(workers), work + "-work")
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", action="append", required=True, help="NAME=PATH.parquet")
    ap.add_argument("--rivals-python", help="python of the virtualenv with datatrove, datasketch")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--workdir", default="/tmp/bench-dedup")
    ap.add_argument("--skip", action="append", default=[], help="datatrove or datasketch")
    ap.add_argument(
        "--datasketch-max-docs",
        type=int,
        default=250_000,
        help="skip the datasketch loop above this many documents (it holds all in RAM)",
    )
    ap.add_argument(
        "--high-recall-max-docs",
        type=int,
        default=250_000,
        help="run curate's higher-recall setting only up to this many documents",
    )
    args = ap.parse_args()
    out = {"benchmark": "dedup", "workers": args.workers, "corpora": {}}
    for spec in args.corpus:
        name, _, path = spec.partition("=")
        out["corpora"][name] = bench(name, path, args)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
