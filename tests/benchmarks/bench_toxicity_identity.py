"""Speed of score.identity, score.toxicity (default model) and redact.pii on one core, each
against a baseline run side by side; and the default toxicity model's ROC AUC on the reference
data.

    python tests/benchmarks/bench_toxicity_identity.py --docs 20000

Documents are ~500 English words (UD PUD sentences drawn at random, from ../shared). The
process is pinned to one CPU and Polars to one thread. Speeds are the best of ``--repeat``
interleaved runs, in documents per second. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ["POLARS_MAX_THREADS"] = "1"
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

import numpy as np
import polars as pl
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("CURATE_SHARED", ROOT.parent / "shared")) / "data"
sys.path.insert(0, str(ROOT))

from curate.identity import IdentityMatcher, load_lexicons  # noqa: E402
from curate.pii import Redactor  # noqa: E402
from curate.toxicity.linear import LinearToxicity, _read_joblib, data_dir  # noqa: E402


def corpus(n: int, words: int = 500) -> list[str]:
    sentences = (SHARED / "ud-pud-multilingual" / "en.txt").read_text("utf-8").splitlines()
    rng = random.Random(0)
    docs = []
    for _ in range(n):
        parts: list[str] = []
        count = 0
        while count < words:
            s = rng.choice(sentences)
            parts.append(s)
            count += len(s.split())
        docs.append(" ".join(parts))
    return docs


def best_rate(runs: dict[str, Callable[[], object]], n: int, repeat: int) -> dict[str, float]:
    """Documents per second of each callable, best of ``repeat`` interleaved runs."""
    best = {k: 0.0 for k in runs}
    for _ in range(repeat):
        for name, fn in runs.items():
            start = time.perf_counter()
            fn()
            best[name] = max(best[name], n / (time.perf_counter() - start))
    return {k: round(v, 1) for k, v in best.items()}


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    for value in np.unique(scores):  # average ranks of ties
        tied = scores == value
        ranks[tied] = ranks[tied].mean()
    pos = labels == 1
    n_pos, n_neg = pos.sum(), (~pos).sum()
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def accuracy(model: LinearToxicity, english: IdentityMatcher) -> dict[str, object]:
    out: dict[str, object] = {}
    folder = SHARED / "jigsaw-toxic-sample"
    for name, key in (
        ("train.csv", "auc_jigsaw_train"),
        ("ibm_max_test_examples.csv", "auc_jigsaw_ibm_test"),
    ):
        frame = pl.read_csv(folder / name)
        scores = model.score(frame["comment_text"].to_list())["toxicity"]
        out[key] = round(roc_auc(frame["toxic"].to_numpy(), scores), 4)
    frame = pl.read_csv(SHARED / "jigsaw-sentence-templates" / "en_sentence_templates.csv")
    scores = model.score(frame["phrase"].to_list())["toxicity"]
    labels = (frame["toxicity"] == "toxic").to_numpy().astype(int)
    out["auc_templates_en"] = round(roc_auc(labels, scores), 4)
    # Per identity group: mean score of the non-toxic template sentences that mention it.
    groups, _ = english.match(frame["phrase"].to_list())
    per: dict[str, list[float]] = {}
    for label, score, found in zip(labels, scores, groups):
        for group in found if label == 0 else ():
            per.setdefault(group, []).append(float(score))
    means = {g: round(float(np.mean(v)), 3) for g, v in per.items() if len(v) >= 50}
    ranked = sorted(means.items(), key=lambda kv: -kv[1])
    out["templates_nontoxic_mean"] = round(float(scores[labels == 0].mean()), 3)
    out["templates_nontoxic_mean_worst_groups"] = dict(ranked[:6])
    out["templates_nontoxic_mean_best_groups"] = dict(ranked[-3:])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    docs = corpus(args.docs)
    column = pa.array(docs)
    result: dict[str, object] = {
        "docs": args.docs,
        "mean_words": round(sum(len(d.split()) for d in docs) / len(docs), 1),
        "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
    }

    english = IdentityMatcher(load_lexicons(["en"]))
    everything = IdentityMatcher(load_lexicons(["en", "de", "fr", "es", "zh"]))
    langs = pa.array(["en"] * len(docs))
    english.match_arrow(column[:10])
    everything.match_arrow(column[:10])
    python_re = re.compile(english.patterns[0][1].replace("(?-u:\\b)", "\\b"))
    forms = sorted({f.lower() for t in load_lexicons(["en"]).terms for f in t.forms})
    sample = docs[:200]
    identity = best_rate(
        {
            "identity_en": lambda: english.match_arrow(column),
            "identity_all_lexicons": lambda: everything.match_arrow(column),
            "identity_all_lexicons_lang_en": lambda: everything.match_arrow(column, langs),
            "ac_extract_many_en": lambda: pl.Series(column).str.extract_many(
                forms, ascii_case_insensitive=True
            ),
        },
        args.docs,
        args.repeat,
    )
    baseline = best_rate(
        {"python_re_en": lambda: [python_re.findall(d) for d in sample]}, len(sample), 2
    )
    result.update({f"{k}_docs_per_s": v for k, v in {**identity, **baseline}.items()})
    result["identity_en_vs_ac_extract_many"] = round(
        identity["identity_en"] / identity["ac_extract_many_en"], 2
    )
    result["identity_en_vs_python_re"] = round(identity["identity_en"] / baseline["python_re_en"])
    result["identity_mentions_per_doc"] = round(
        float(np.mean([len(x) for x in english.match_arrow(column)[0].to_pylist()])), 2
    )

    model = LinearToxicity.load()
    old_default = LinearToxicity.load(max_length=256)
    vectorizer, sk_model = _read_joblib(data_dir())
    tox_docs = docs[: max(1, args.docs // 4)]
    toxicity = best_rate(
        {
            "toxicity_default": lambda: model.score(tox_docs),
            # The default until issue 16: aggregate max over 256-word chunks.
            "toxicity_old_default": lambda: old_default.score(tox_docs, how="max"),
            "toxicity_sklearn": lambda: sk_model.predict_proba(vectorizer.transform(tox_docs)),
        },
        len(tox_docs),
        max(2, args.repeat // 2),
    )
    result.update({f"{k}_docs_per_s": v for k, v in toxicity.items()})
    result["toxicity_default_vs_old_default"] = round(
        toxicity["toxicity_default"] / toxicity["toxicity_old_default"], 2
    )
    result["toxicity_default_vs_sklearn"] = round(
        toxicity["toxicity_default"] / toxicity["toxicity_sklearn"], 2
    )

    rng = random.Random(1)
    pii = [
        "write to jane.doe@corp.io",
        "call +1 415 555 0132",
        "host 10.20.30.40",
        "card 4111 1111 1111 1111",
    ]
    pii_docs = pa.array(
        [d + " " + rng.choice(pii) if i % 10 == 0 else d for i, d in enumerate(docs)]
    )
    redactor = Redactor()
    result.update(
        {
            f"{k}_docs_per_s": v
            for k, v in best_rate(
                {"pii_redact": lambda: redactor.redact_arrow(pii_docs)}, args.docs, args.repeat
            ).items()
        }
    )
    result.update(accuracy(model, english))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
