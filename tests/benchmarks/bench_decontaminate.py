"""decontaminate throughput on ~300-word book documents, against a bare Python set lookup.

    python tests/benchmarks/bench_decontaminate.py [--docs 20000] [--rounds 3]

The evaluation set is CrowS-Pairs (both sentences of each of its 1,508 pairs); documents are
300-word windows of the Project Gutenberg books in ../shared/bench/sources, 1% of them with a
planted item; recall (over plants of at least 13 words) and precision are reported. The
baseline is what a short script would do: lower-case, replace punctuation, split on
whitespace, and look each 13-word tuple up in a Python set of the set's 13-grams. Both
run on one core (Polars and Arrow limited to one thread) in batches of 10,000 documents,
interleaved for ``--rounds``; one JSON line with the best round of each and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import time
from pathlib import Path

os.environ["POLARS_MAX_THREADS"] = "1"

import pyarrow as pa
import pyarrow.csv as pacsv

from curate import schema
from curate.stages.decontaminate import Decontaminate

SHARED = Path(os.environ.get("CURATE_SHARED", Path(__file__).resolve().parents[3] / "shared"))
PUNCT = re.compile(r"[^\w\s]")


def corpus(count: int, items: list[str], words: int = 300) -> tuple[list[str], list[str | None]]:
    """``count`` 300-word windows of the books, and the item planted in each (or None)."""
    tokens: list[str] = []
    for path in sorted((SHARED / "bench" / "sources").glob("*.txt")):
        tokens.extend(path.read_text(encoding="utf-8", errors="replace").split())
    rng = random.Random(1)
    docs: list[str] = []
    planted: list[str | None] = []
    while len(docs) < count:
        at = rng.randrange(len(tokens) - words)
        doc = " ".join(tokens[at : at + words])
        item = rng.choice(items) if rng.random() < 0.01 else None
        docs.append(doc if item is None else f"{doc} {item}")
        planted.append(item)
    return docs, planted


def baseline(docs: list[str], grams: set[tuple[str, ...]], n: int) -> int:
    hits = 0
    for doc in docs:
        words = PUNCT.sub(" ", doc.lower()).split()
        if any(tuple(words[i : i + n]) in grams for i in range(len(words) - n + 1)):
            hits += 1
    return hits


def quality(flagged: list[bool], planted: list[str | None], n: int) -> dict[str, object]:
    """Recall over the plants long enough to hold an n-gram (the stage is run with
    ``min_words: n``), precision over every flagged document."""
    findable = [
        i for i, item in enumerate(planted) if item and len(PUNCT.sub(" ", item).split()) >= n
    ]
    hits = sum(flagged[i] for i in findable)
    true_flags = sum(1 for i, f in enumerate(flagged) if f and planted[i])
    return {
        "planted": sum(1 for p in planted if p),
        "findable_plants": len(findable),
        "recall": round(hits / len(findable), 4) if findable else None,
        "precision": round(true_flags / sum(flagged), 4) if any(flagged) else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    table = pacsv.read_csv(SHARED / "data" / "crows-pairs" / "crows_pairs_anonymized.csv")
    items = table.column("sent_more").to_pylist() + table.column("sent_less").to_pylist()
    eval_path = Path(os.environ.get("TMPDIR", "/tmp")) / "bench-decontaminate-eval.jsonl"
    eval_path.write_text("".join(json.dumps({"text": t}) + "\n" for t in items))
    docs, planted = corpus(args.docs, items)
    n = 13
    grams: set[tuple[str, ...]] = set()
    for item in items:
        words = PUNCT.sub(" ", item.lower()).split()
        grams.update(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    stage = Decontaminate(against=[str(eval_path)], n=n, min_words=n, action="annotate")
    _ = stage.index
    batches = [
        pa.record_batch(
            {
                schema.ID: [str(i) for i in range(lo, min(lo + 10000, len(docs)))],
                schema.TEXT: docs[lo : lo + 10000],
            }
        )
        for lo in range(0, len(docs), 10000)
    ]
    best = {"curate": float("inf"), "baseline": float("inf")}
    found = {"curate": 0, "baseline": 0}
    flagged: list[bool] = []
    for _ in range(args.rounds):
        t = time.process_time()
        outs = [stage.process(b) for b in batches]
        best["curate"] = min(best["curate"], time.process_time() - t)
        flagged = [bool(c) for o in outs for c in o.column("contamination_matches").to_pylist()]
        found["curate"] = sum(flagged)
        t = time.process_time()
        found["baseline"] = baseline(docs, grams, n)
        best["baseline"] = min(best["baseline"], time.process_time() - t)
    print(
        json.dumps(
            {
                "bench": "decontaminate",
                "docs": len(docs),
                "words_per_doc": 300,
                "eval_items": len(items),
                "curate_docs_per_cpu_s": round(len(docs) / best["curate"]),
                "baseline_docs_per_cpu_s": round(len(docs) / best["baseline"]),
                "ratio": round(best["baseline"] / best["curate"], 2),
                "contaminated": found,
                **quality(flagged, planted, n),
            }
        )
    )


if __name__ == "__main__":
    main()
