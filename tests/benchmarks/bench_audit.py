"""Audit speed: score-only sections against a Polars read of the same columns, and the text
sections' throughput on one core.

    python tests/benchmarks/bench_audit.py --docs 1000000 --text-docs 40000

Part 1 builds N documents that already carry ``identities``, ``toxicity``, ``lang`` and
``dup_count`` plus a removal ledger of N/5 rows, then times the representation, harm and
filter-impact sections (the report computation, not the chart drawing) against
``polars.read_parquet`` of exactly the columns they need; best of three runs each, alternated.
Part 2 runs in a subprocess pinned to one core (``POLARS_MAX_THREADS=1``, one Arrow thread) and
times composition + association over real prose (Project Gutenberg documents from
``shared/bench/neardup-20k.parquet``) and over short documents of 10-120 words cut from the same
books. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[3] / "shared" / "bench"
GROUPS = [
    f"{axis}/{g}"
    for axis, gs in {
        "gender": ["female", "male"],
        "religion": ["muslim", "christian", "jewish", "hindu"],
        "race_ethnicity": ["black", "white", "asian", "latino"],
        "age": ["old", "young"],
        "sexual_orientation": ["gay", "lesbian", "bisexual"],
        "disability": ["blind", "deaf"],
    }.items()
    for g in gs
]
LANGS = ["en"] * 6 + ["fr", "de", "es", "zh"]


def _groups(rng: object, n: int) -> list[list[str]]:
    import numpy as np

    assert isinstance(rng, np.random.Generator)
    k = rng.choice([0, 0, 0, 1, 1, 2, 3], size=n)
    picks = rng.integers(0, len(GROUPS), size=(n, 3))
    # Sorted and distinct, as the identity stage writes them.
    return [sorted({GROUPS[j] for j in picks[i, : k[i]]}) for i in range(n)]


def make_scored(path: Path, ledger: Path, docs: int) -> None:
    """N scored documents and a ledger of N/5 removed ones across three stages."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    writer = None
    for start in range(0, docs, 200_000):
        n = min(200_000, docs - start)
        table = pa.table(
            {
                "id": [f"d{i}" for i in range(start, start + n)],
                "text": ["a short text"] * n,
                "identities": pa.array(_groups(rng, n), pa.list_(pa.string())),
                "toxicity": rng.beta(0.5, 4.0, size=n),
                "lang": [LANGS[i] for i in rng.integers(0, len(LANGS), size=n)],
                "dup_count": rng.choice([1, 1, 1, 2], size=n),
            }
        )
        writer = writer or pq.ParquetWriter(path, table.schema, compression="zstd")
        writer.write_table(table)
    assert writer is not None
    writer.close()
    n = docs // 5
    pq.write_table(
        pa.table(
            {
                "stage": [("dedup.exact", "filter", "score.quality")[i % 3] for i in range(n)],
                "reason": ["x"] * n,
                "detail": pa.nulls(n, pa.string()),
                "id": [f"r{i}" for i in range(n)],
                "text": ["removed"] * n,
                "identities": pa.array(_groups(rng, n), pa.list_(pa.string())),
            }
        ),
        ledger,
        compression="zstd",
    )


def time_score_sections(path: Path, ledger: Path) -> dict[str, float]:
    import polars as pl

    from curate.audit.options import AuditOptions
    from curate.audit.report import build_report
    from curate.io.dataset import open_dataset

    options = AuditOptions(sections=["representation", "harm", "filter_impact"], removed=[ledger])

    def polars_read() -> None:
        pl.read_parquet(path, columns=["identities", "toxicity", "lang", "dup_count"])
        pl.read_parquet(ledger, columns=["stage", "identities"])

    def audit() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            build_report(open_dataset(str(path)), options, workdir=Path(tmp))

    best = {"polars": float("inf"), "audit": float("inf")}
    for _ in range(3):
        for name, fn in (("polars", polars_read), ("audit", audit)):
            t = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t)
    return best


def make_text(path: Path, docs: int, *, short: bool) -> int:
    """Documents with text and score columns; returns the number of words."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(1)
    prose = pl.read_parquet(SHARED / "neardup-20k.parquet", columns=["text"])
    texts = prose.get_column("text").to_list()
    if short:
        words = " ".join(texts[:2000]).split()
        lengths = rng.integers(10, 121, size=docs)
        starts = rng.integers(0, len(words) - 130, size=docs)
        texts = [" ".join(words[s : s + n]) for s, n in zip(starts, lengths)]
    texts = [texts[i % len(texts)] for i in range(docs)]
    frame = pl.DataFrame(
        {
            "id": [f"t{i}" for i in range(docs)],
            "text": texts,
            "identities": _groups(rng, docs),
            "toxicity": rng.beta(0.5, 4.0, size=docs),
            "lang": ["en"] * docs,
        }
    )
    frame.write_parquet(path)
    return int(sum(len(t.split()) for t in texts))


def text_throughput(path: Path) -> float:
    """Seconds for composition + association (runs inside the one-core subprocess)."""
    from curate.audit.options import AuditOptions
    from curate.audit.report import build_report
    from curate.io.dataset import open_dataset

    options = AuditOptions(sections=["composition", "association"])
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        build_report(open_dataset(str(path)), options, workdir=Path(tmp))
        return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--text-docs", type=int, default=40_000)
    parser.add_argument("--one-core", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_core is not None:
        print(json.dumps({"seconds": text_throughput(args.one_core)}))
        return
    out: dict[str, object] = {"docs": args.docs, "text_docs": args.text_docs}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_scored(root / "scored.parquet", root / "ledger.parquet", args.docs)
        best = time_score_sections(root / "scored.parquet", root / "ledger.parquet")
        out.update(
            polars_read_s=round(best["polars"], 3),
            score_sections_s=round(best["audit"], 3),
            score_sections_over_polars=round(best["audit"] / best["polars"], 2),
        )
        env = {**os.environ, "POLARS_MAX_THREADS": "1", "OMP_NUM_THREADS": "1"}
        for kind in ("prose", "short"):
            path = root / f"{kind}.parquet"
            words = make_text(path, args.text_docs, short=kind == "short")
            code = (
                "import os, sys, runpy, pyarrow as pa; os.sched_setaffinity(0, {0}); "
                "pa.set_cpu_count(1); pa.set_io_thread_count(1); "
                f"sys.argv = ['bench', '--one-core', {str(path)!r}]; "
                f"runpy.run_path({__file__!r}, run_name='__main__')"
            )
            done = subprocess.run(
                [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
            )
            seconds = json.loads(done.stdout.strip().splitlines()[-1])["seconds"]
            out[f"text_{kind}_words_per_doc"] = round(words / args.text_docs, 1)
            out[f"text_{kind}_docs_per_s"] = round(args.text_docs / seconds)
            out[f"text_{kind}_words_per_s"] = round(words / seconds)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
