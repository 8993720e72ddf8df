"""``curate serve`` on a 1M-row run output: a filtered ledger page and a what-if request over
HTTP, the server's peak memory, and the same queries in bare Polars for a ratio.

    python tests/benchmarks/bench_serve.py --rows 1000000

It writes a run folder in the layout ``curate run`` writes (``data/train-*.parquet``,
``curate/removed/*.parquet``, ``curate/run.json``) directly with pyarrow: ROWS kept documents
(about 300 characters of text each, with ``lang``, ``lang_score``, ``toxicity``, ``identities``)
and ROWS/4 ledger rows over three stages. The app runs under uvicorn in its own process; a
second process answers the same queries with Polars over the same files. Each repetition sends
one HTTP request and then asks Polars, alternately, so both see the same machine load; the
first (cold) answer and the median of the rest are reported, with each process's peak RSS
(VmHWM). Prints one JSON line.

Each repetition searches the ledger for other words (:data:`SEARCHES`): ``ledger_page`` is
the first page asked for that filter, counted and sliced from one scan; ``ledger_next_page``
is the next page of the same filter, whose count the app kept. Bare Polars, stateless, counts
and slices with two queries each time, as the app did before.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote_plus

ROOT = Path(__file__).resolve().parents[2]
SHARDS = 4
GROUPS = ["gender/female", "gender/male", "religion/muslim", "religion/christian", "age/old"]
LANGS = ["en"] * 6 + ["fr", "de", "es", "zh"]
WORDS = [
    *("the", "a", "of", "and", "to", "in", "river", "city", "market", "school", "water"),
    *("road", "house", "light", "garden", "night", "station", "bread", "music", "winter"),
    *("summer", "window", "paper", "story", "letter", "mountain", "forest"),
]

#: Text searched by the ledger queries, one per repetition: a new filter each time, so the
#: first page of each is counted from its own scan (the app keeps counts per filter).
SEARCHES = ["river market", "city school", "water road", "house light", "garden night"]
SEARCHES += ["station bread", "music winter", "summer window", "paper story", "letter forest"]

#: Query name -> (URL path and query under the run, the Polars job, the page it asks for).
#: ``ledger_next_page`` asks for the page after ``ledger_page``'s, with the same filter.
QUERIES = {
    "ledger_page": (
        "browse?source=removed&stage=toxic&reason=toxic&q={q}&page=3&size=50",
        "ledger",
        3,
    ),
    "ledger_next_page": (
        "browse?source=removed&stage=toxic&reason=toxic&q={q}&page=4&size=50",
        "ledger",
        4,
    ),
    "whatif": (
        "whatif?column=toxicity&direction=at_or_above&threshold=0.5&nulls=keep",
        "whatif",
        1,
    ),
}

WORKER = r"""
import json, re, sys, time
from pathlib import Path
import polars as pl
run = Path(sys.argv[1])
kept = sorted((run / "data").glob("*.parquet"))
ledger = sorted((run / "curate" / "removed").glob("*.parquet"))

def scan(files):
    return pl.concat([pl.scan_parquet(f) for f in files], how="diagonal_relaxed")

def ledger_page(q, page):
    rows = scan(ledger).filter(
        (pl.col("stage") == "toxic") & (pl.col("reason") == "toxic")
        & pl.col("text").str.contains("(?i)" + re.escape(q)))
    total = rows.select(pl.len()).collect(engine="streaming").item()
    page = rows.select("id", "stage", "reason", "detail", pl.col("text").str.slice(0, 300)
        ).slice((page - 1) * 50, 50).collect(engine="streaming")
    return total

def whatif(q, page):
    rows = scan(kept)
    keep = pl.col("toxicity").is_null() | (pl.col("toxicity") < 0.5)
    totals = rows.select(pl.len(), (~keep).sum()).collect(engine="streaming")
    sample = rows.filter(~keep).select("id", "toxicity", pl.col("text").str.slice(0, 300)
        ).head(20).collect(engine="streaming")
    groups = (rows.select("identities", (~keep).alias("removed")).explode("identities")
        .drop_nulls("identities").group_by("identities")
        .agg(pl.len(), pl.col("removed").sum()).collect(engine="streaming"))
    return totals.row(0)[1]

for line in sys.stdin:
    ask = json.loads(line)
    start = time.perf_counter()
    answer = {"ledger": ledger_page, "whatif": whatif}[ask["job"]](ask["q"], ask["page"])
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "count": int(answer)}), flush=True)
hwm = [l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("VmHWM")]
print(json.dumps({"peak_rss_mb": int(hwm[0].split()[1]) / 1024}), flush=True)
"""

SERVER = r"""
import sys
from pathlib import Path
import uvicorn
from curate.serve.app import create_app
uvicorn.run(create_app(roots=[Path(sys.argv[1])]), host="127.0.0.1", port=int(sys.argv[2]),
            log_level="warning", access_log=False)
"""


def make_run(out: Path, rows: int) -> None:
    """``rows`` kept documents in SHARDS shards and a ledger of rows/4, as curate run lays out."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    pool = " ".join(WORDS[i] for i in rng.integers(0, len(WORDS), size=1_500_000))
    (out / "data").mkdir(parents=True)
    (out / "curate" / "removed").mkdir(parents=True)

    def table(ids: list[str]) -> dict[str, object]:
        n = len(ids)
        starts = rng.integers(0, len(pool) - 400, size=n)
        lengths = rng.integers(150, 450, size=n)
        k = rng.choice([0, 0, 0, 1, 1, 2], size=n)
        picks = rng.integers(0, len(GROUPS), size=(n, 2))
        tox = rng.beta(0.5, 4.0, size=n)
        return {
            "id": ids,
            "text": [pool[s : s + m] for s, m in zip(starts, lengths)],
            "lang": [LANGS[i] for i in rng.integers(0, len(LANGS), size=n)],
            "lang_score": rng.uniform(0.3, 1.0, size=n),
            "toxicity": pa.array(tox, mask=rng.random(n) < 0.05),
            "identities": pa.array(
                [sorted({GROUPS[j] for j in picks[i, : k[i]]}) for i in range(n)],
                pa.list_(pa.string()),
            ),
        }

    per = -(-rows // SHARDS)
    for s in range(SHARDS):
        ids = [f"d{i}" for i in range(s * per, min(rows, (s + 1) * per))]
        pq.write_table(
            pa.table(table(ids)), out / "data" / f"train-{s:05d}-of-{SHARDS:05d}.parquet"
        )
    removed = rows // 4
    stages = [("dedup.exact", "exact-duplicate"), ("dedup.minhash", "near-duplicate")]
    stages.append(("toxic", "toxic"))
    report_stages = []
    for k, (stage, reason) in enumerate(stages):
        n = removed // len(stages)
        ids = [f"r{k}-{i}" for i in range(n)]
        head = {
            "stage": [stage] * n,
            "reason": [reason] * n,
            "detail": [f"kept=d{i} similarity=0.9" if k == 1 else None for i in range(n)],
        }
        pq.write_table(
            pa.table({**head, **table(ids)}),
            out / "curate" / "removed" / f"{k:05d}-{k:02d}-{stage}-00000-000.parquet",
        )
        report_stages.append(
            {"use": "filter" if stage == "toxic" else stage, "label": stage, "params": {},
             "rows_in": 0, "rows_out": 0, "removed": n, "removed_by_reason": {reason: n},
             "seconds": 1.0}
        )  # fmt: skip
    report = {"recipe": {"name": "bench-serve"}, "rows_in": rows + removed, "rows_out": rows}
    report["stages"] = report_stages
    (out / "curate" / "run.json").write_text(json.dumps(report), encoding="utf-8")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for {pid}")


def wait_up(url: str, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=5).read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {seconds} s")


def fetch(url: str) -> tuple[float, int]:
    """Seconds to fetch ``url`` and the count the page shows (``id="total"`` or ``"removed"``)."""
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=600) as response:
        html = response.read().decode("utf-8")
        if response.status != 200:
            raise SystemExit(f"{url}: HTTP {response.status}")
    seconds = time.perf_counter() - start
    found = re.search(r'id="(?:total|removed)">([\d,]+)<', html)
    if found is None:
        raise SystemExit(f"{url}: no count on the page")
    return seconds, int(found.group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5, help="warm repetitions per query")
    args = parser.parse_args()
    if args.repeat + 1 > len(SEARCHES):
        parser.error(f"--repeat: at most {len(SEARCHES) - 1} (one new search per repetition)")
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        root = Path(tmp)
        run = root / "run"
        start = time.perf_counter()
        make_run(run, args.rows)
        built = time.perf_counter() - start
        port = free_port()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        server = subprocess.Popen([sys.executable, "-c", SERVER, str(root), str(port)], env=env)
        worker = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(run)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert worker.stdin is not None and worker.stdout is not None
        try:
            base = f"http://127.0.0.1:{port}"
            wait_up(base + "/", server)
            idle_mb = peak_rss_mb(server.pid)
            figures: dict[str, object] = {
                "rows": args.rows,
                "ledger_rows": args.rows // 4 // 3 * 3,
                "build_seconds": round(built, 1),
                "server_idle_peak_rss_mb": round(idle_mb, 1),
            }
            times: dict[str, tuple[list[float], list[float]]] = {n: ([], []) for n in QUERIES}
            # Query by query within one repetition, so the next page follows its first page.
            for rep in range(args.repeat + 1):
                q = SEARCHES[rep % len(SEARCHES)]
                for name, (path, job, page) in QUERIES.items():
                    http_times, polars_times = times[name]
                    seconds, shown = fetch(f"{base}/run/0/run/{path.format(q=quote_plus(q))}")
                    http_times.append(seconds)
                    ask = {"job": job, "q": q, "page": page}
                    worker.stdin.write(json.dumps(ask) + "\n")
                    worker.stdin.flush()
                    answer = json.loads(worker.stdout.readline())
                    polars_times.append(answer["seconds"])
                    if shown != answer["count"]:
                        raise SystemExit(f"{name}: the page shows {shown}, Polars {answer}")
            for name, (http_times, polars_times) in times.items():
                http_warm = statistics.median(http_times[1:])
                polars_warm = statistics.median(polars_times[1:])
                figures[name] = {
                    "http_cold_s": round(http_times[0], 3),
                    "http_warm_s": round(http_warm, 3),
                    "polars_cold_s": round(polars_times[0], 3),
                    "polars_warm_s": round(polars_warm, 3),
                    "ratio_warm": round(http_warm / polars_warm, 2),
                }
            figures["server_peak_rss_mb"] = round(peak_rss_mb(server.pid), 1)
            worker.stdin.close()
            figures["polars_peak_rss_mb"] = round(
                json.loads(worker.stdout.readline())["peak_rss_mb"], 1
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
            worker.wait(timeout=30)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
