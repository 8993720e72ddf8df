"""score.language against a bare loop over the same fastText model and the same texts.

    python tests/benchmarks/bench_language.py [--rounds 5]

Two corpora: the 19,000 UD PUD sentences (19 languages, short) and 2,000 web-like documents of
the near-duplicate benchmark (~2,300 characters each). Each round times the bare loop and the
stage back to back, on one core; the figures are the best of the rounds. Accuracy on PUD is
computed for both (it must be identical: it is the same model). The stage reads whole documents
here (``max_chars: null``), as the bare loop does.

Then ``sampling``: for each ``max_chars`` / ``sample`` / ``recheck_below`` setting, how often the
label differs from the whole-document label, the mean absolute ``lang_score`` difference, and
CPU time against the whole-document stage, interleaved, on three corpora: 2,850 documents of 8
to 20 UD PUD sentences of one language (~1,500 characters), 4,000 near-duplicate bench documents
(~2,300 characters) and the web sample. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import time
from pathlib import Path
from typing import Any

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


def sample() -> list[str]:
    path = Path(__file__).resolve().parents[2] / "recipes" / "sample" / "web-sample.jsonl"
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines()]


def bare_loop(model: object, texts: list[str]) -> list[str]:
    """What a careful user writes: one newline-free line per call, k=1."""
    predict = model.predict  # type: ignore[attr-defined]
    return [predict(t.replace("\n", " ") + "\n", 1, 0.0, "strict")[0][1] for t in texts]


def race(texts: list[str], rounds: int) -> dict[str, float]:
    model = load_fasttext(MODEL)
    stage = ScoreLanguage(model=str(MODEL), max_chars=None)
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


def pud_documents(per_lang: int = 150) -> list[str]:
    """Documents of 8 to 20 UD PUD sentences of one language each."""
    texts, gold = pud()
    by_lang: dict[str, list[str]] = {}
    for text, lang in zip(texts, gold):
        by_lang.setdefault(lang, []).append(text)
    rng = random.Random(0)
    return [
        " ".join(rng.sample(sents, rng.randint(8, 20)))
        for _, sents in sorted(by_lang.items())
        for _ in range(per_lang)
    ]


SETTINGS: list[dict[str, Any]] = [
    {"max_chars": n, "sample": how, "recheck_below": r}
    for n, how, r in (
        (300, "windows", 0.8),
        (500, "prefix", 0.0),
        (500, "prefix", 0.8),
        (500, "windows", 0.0),
        (500, "windows", 0.8),  # the default
        (1000, "windows", 0.8),
    )
]


def sampling(corpora: dict[str, list[str]], rounds: int) -> list[dict[str, Any]]:
    rows = []
    for name, texts in corpora.items():
        batch = pa.record_batch({"id": [str(i) for i in range(len(texts))], "text": texts})
        whole_stage = ScoreLanguage(model=str(MODEL), max_chars=None)
        full = whole_stage.process(batch)
        for setting in SETTINGS:
            stage = ScoreLanguage(model=str(MODEL), **setting)
            times: dict[str, list[float]] = {"whole": [], "sampled": []}
            for i in range(rounds):
                order = [("whole", whole_stage), ("sampled", stage)]
                for key, st in order if i % 2 == 0 else order[::-1]:
                    start = time.process_time()
                    out = st.process(batch)
                    times[key].append(time.process_time() - start)
            langs = zip(out.column("lang").to_pylist(), full.column("lang").to_pylist())
            scores = zip(
                out.column("lang_score").to_pylist(), full.column("lang_score").to_pylist()
            )
            rows.append({
                "corpus": name, **setting,
                "disagreement": round(sum(a != b for a, b in langs) / len(texts), 4),
                "mean_abs_score_diff": round(sum(abs(a - b) for a, b in scores) / len(texts), 4),
                "speedup": round(min(times["whole"]) / min(times["sampled"]), 2),
            })  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    pa.set_cpu_count(1)
    texts, gold = pud()
    model = load_fasttext(MODEL)
    stage = ScoreLanguage(model=str(MODEL), max_chars=None)
    batch = pa.record_batch({"id": [str(i) for i in range(len(texts))], "text": texts})
    ours = stage.process(batch).column("lang").to_pylist()
    bare = [label.removeprefix("__label__") for label in bare_loop(model, texts)]
    result = {
        "pud": race(texts, args.rounds),
        "web": race(web(2000), args.rounds),
        "pud_accuracy_stage": round(sum(a == g for a, g in zip(ours, gold)) / len(gold), 4),
        "pud_accuracy_bare": round(sum(a == g for a, g in zip(bare, gold)) / len(gold), 4),
        "pud_same_labels": ours == bare,
        "sampling": sampling(
            {"pud_docs": pud_documents(), "neardup": web(4000), "sample": sample()}, args.rounds
        ),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
