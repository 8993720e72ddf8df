"""score.quality throughput: every quality signal on ~500-word documents, on one core.

    python tests/benchmarks/bench_quality.py [--docs 20000] [--rounds 3] [--words 500]

Documents are cut from the near-duplicate benchmark's real prose (../shared/bench/neardup-20k)
at line boundaries once they reach ``--words`` words (issue 20's goal is stated at 300).
Polars and Arrow are limited to one thread. The stage runs in batches of 10,000 rows, as the
executor feeds it. Prints one JSON line with the best round's documents per second (wall clock
and CPU time) and the words per document.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ["POLARS_MAX_THREADS"] = "1"

import pyarrow as pa
import pyarrow.parquet as pq

from curate.stages.score_quality import ScoreQuality

SHARED = Path(os.environ.get("CURATE_SHARED", Path(__file__).resolve().parents[3] / "shared"))


def documents(count: int, words: int = 500) -> list[str]:
    """Consecutive lines of the benchmark's prose, cut into documents of ``words`` words."""
    table = pq.read_table(SHARED / "bench" / "neardup-20k.parquet", columns=["text"])
    docs: list[str] = []
    current: list[str] = []
    size = 0
    while len(docs) < count:
        for text in table.column("text").to_pylist():
            for line in text.split("\n"):
                current.append(line)
                size += len(line.split())
                if size >= words:
                    docs.append("\n".join(current).strip())
                    current, size = [], 0
                    if len(docs) == count:
                        return docs
    return docs


def calibration_ms() -> float:
    """Best time of a fixed memory-bound NumPy kernel, to judge how loaded the machine was.

    ``x * 3 + x`` over 10 million 64-bit integers; runs are comparable only at similar figures.
    """
    import numpy as np

    x = np.arange(10_000_000, dtype=np.uint64)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        x * np.uint64(3) + x
        best = min(best, time.perf_counter() - start)
    return round(best * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--words", type=int, default=500)
    args = parser.parse_args()
    pa.set_cpu_count(1)
    texts = documents(args.docs, args.words)
    batches = [
        pa.record_batch({"id": [str(i) for i in range(len(part))], "text": part})
        for part in (texts[i : i + 10_000] for i in range(0, len(texts), 10_000))
    ]
    stage = ScoreQuality()
    stage.process(batches[0].slice(0, 100))
    wall, cpu = [], []
    for _ in range(args.rounds):
        start, start_cpu = time.perf_counter(), time.process_time()
        for batch in batches:
            stage.process(batch)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    print(
        json.dumps(
            {
                "docs": len(texts),
                "words_per_doc": round(sum(len(t.split()) for t in texts) / len(texts), 1),
                "signals": len(stage.output_fields()),
                "docs_per_s": round(len(texts) / min(wall)),
                "docs_per_cpu_s": round(len(texts) / min(cpu)),
                "seconds": round(min(wall), 3),
                "calibration_ms": calibration_ms(),
            }
        )
    )


if __name__ == "__main__":
    main()
