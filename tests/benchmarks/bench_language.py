"""score.language against a bare loop over the same fastText model and the same texts.

    python tests/benchmarks/bench_language.py [--rounds 5]

Two corpora: the 19,000 UD PUD sentences (19 languages, short) and 2,000 web-like documents of
the near-duplicate benchmark (~2,300 characters each). Each round times the bare loop and the
stage back to back, on one core; the figures are the best of the rounds. Accuracy on PUD is
computed for both (it must be identical: it is the same model). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time
from pathlib import Path

os.environ.setdefault("POLARS_MAX_THREADS", "1")

import pyarrow as pa
import pyarrow.parquet as pq

from curate.stages.score_language import ScoreLanguage, load_fasttext

SHARED = Path(os.environ.get("CURATE_SHARED", Path(__file__).resolve().parents[3] / "shared"))
MODEL = SHARED / "data" / "fasttext-lid176" / "lid.176.ftz"


def pud() -> tuple[list[str], list[str]]:
    path = SHARED / "data" / "ud-pud-multilingual" / "pud_sentences.tsv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [r["text"] for r in rows], [r["lang"] for r in rows]


def web(n: int) -> list[str]:
    table = pq.read_table(SHARED / "bench" / "neardup-20k.parquet", columns=["text"])
    texts: list[str] = table.column("text").to_pylist()[:n]
    return texts


def bare_loop(model: object, texts: list[str]) -> list[str]:
    """What a careful user writes: one newline-free line per call, k=1."""
    predict = model.predict  # type: ignore[attr-defined]
    return [predict(t.replace("\n", " ") + "\n", 1, 0.0, "strict")[0][1] for t in texts]


def race(texts: list[str], rounds: int) -> dict[str, float]:
    model = load_fasttext(MODEL)
    stage = ScoreLanguage(model=str(MODEL))
    batches = [
        pa.record_batch({"id": [str(i) for i in range(len(chunk))], "text": chunk})
        for chunk in (texts[i : i + 10_000] for i in range(0, len(texts), 10_000))
    ]
    bare_s, stage_s = [], []

    def run_bare() -> None:
        start = time.perf_counter()
        bare_loop(model, texts)
        bare_s.append(time.perf_counter() - start)

    def run_stage() -> None:
        start = time.perf_counter()
        for batch in batches:
            stage.process(batch)
        stage_s.append(time.perf_counter() - start)

    for i in range(rounds):
        # Alternate who goes first so that drifting machine load hits both alike.
        for run in (run_bare, run_stage) if i % 2 == 0 else (run_stage, run_bare):
            run()
    ratios = sorted(b / s for b, s in zip(bare_s, stage_s))
    return {
        "docs": len(texts),
        "bare_docs_per_s": round(len(texts) / min(bare_s)),
        "stage_docs_per_s": round(len(texts) / min(stage_s)),
        "ratio_best": round(min(bare_s) / min(stage_s), 3),
        "ratio_median": round(ratios[len(ratios) // 2], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    pa.set_cpu_count(1)
    texts, gold = pud()
    model = load_fasttext(MODEL)
    stage = ScoreLanguage(model=str(MODEL))
    batch = pa.record_batch({"id": [str(i) for i in range(len(texts))], "text": texts})
    ours = stage.process(batch).column("lang").to_pylist()
    bare = [label.removeprefix("__label__") for label in bare_loop(model, texts)]
    result = {
        "pud": race(texts, args.rounds),
        "web": race(web(2000), args.rounds),
        "pud_accuracy_stage": round(sum(a == g for a, g in zip(ours, gold)) / len(gold), 4),
        "pud_accuracy_bare": round(sum(a == g for a, g in zip(bare, gold)) / len(gold), 4),
        "pud_same_labels": ours == bare,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
