"""How the default toxicity model treats clean long text, per aggregate and chunk length.

    python tests/benchmarks/measure_toxicity_default.py

For every ``aggregate`` (max, mean, share) and chunk length in words, prints the share of clean
texts scored 0.5 or more (false positives: book paragraphs, ~2,000-word book passages and whole
books from ``../shared/bench/sources``, English UD sentences) and the ROC AUC against the human
labels of ``../shared/data/jigsaw-toxic-sample`` and the English identity templates. One JSON
line: ``{"rows": [...], "counts": {...}}``. The table in docs/toxicity-identity.md comes from it.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("CURATE_SHARED", ROOT.parent / "shared"))
sys.path.insert(0, str(ROOT))

from curate.toxicity.linear import LinearToxicity  # noqa: E402

THRESHOLD = 0.5
CHUNKS = (64, 128, 256, 512)
AGGREGATES = ("max", "mean", "share")


def book_texts() -> list[str]:
    """The 14 Gutenberg books without the Project Gutenberg header and licence."""
    books = []
    for path in sorted((SHARED / "bench" / "sources").glob("*.txt")):
        if path.name == "SOURCE.txt":
            continue
        encoding = "latin-1" if path.stem.endswith("-8") else "utf-8"
        text = path.read_text(encoding, errors="replace")
        start = re.search(r"\*\*\* ?START OF.*?\n", text)
        end = re.search(r"\*\*\* ?END OF", text)
        books.append(text[start.end() if start else 0 : end.start() if end else len(text)])
    return books


def paragraphs(book: str, min_words: int = 20) -> list[str]:
    parts = (" ".join(p.split()) for p in re.split(r"\n\s*\n", book))
    return [p for p in parts if len(p.split()) >= min_words]


def passages(paras: list[str], words: int = 2000) -> list[str]:
    out, cur, count = [], [], 0
    for p in paras:
        cur.append(p)
        count += len(p.split())
        if count >= words:
            out.append("\n\n".join(cur))
            cur, count = [], 0
    return out


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Mann-Whitney U statistic, ties counted half."""
    ranks = pl.Series(scores).rank("average").to_numpy()
    pos = labels == 1
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def main() -> None:
    books = book_texts()
    paras = [p for b in books for p in paragraphs(b)]
    long_docs = [d for b in books for d in passages(paragraphs(b))]
    ud = (SHARED / "data" / "ud-pud-multilingual" / "en.txt").read_text("utf-8").splitlines()
    jig = SHARED / "data" / "jigsaw-toxic-sample"
    comments = pl.concat(
        [
            pl.read_csv(jig / name).select("comment_text", "toxic")
            for name in ("ibm_max_test_examples.csv", "train.csv")
        ]
    )
    templates = pl.read_csv(
        SHARED / "data" / "jigsaw-sentence-templates" / "en_sentence_templates.csv"
    )
    tlabels = (templates["toxicity"] == "toxic").to_numpy().astype(int)
    clean = {"book_paragraphs": paras, "book_passages": long_docs, "books": books, "ud_en": ud}
    rows = []
    for chunk in CHUNKS:
        model = LinearToxicity.load(max_length=chunk)
        for how in AGGREGATES:
            row: dict[str, object] = {"aggregate": how, "chunk_words": chunk}
            for name, texts in clean.items():
                scores = model.score(texts, how=how)["toxicity"]
                row[f"fp_{name}"] = round(float((scores >= THRESHOLD).mean()), 4)
            scores = model.score(comments["comment_text"].to_list(), how=how)["toxicity"]
            row["auc_comments"] = round(roc_auc(comments["toxic"].to_numpy(), scores), 4)
            scores = model.score(templates["phrase"].to_list(), how=how)["toxicity"]
            row["auc_templates"] = round(roc_auc(tlabels, scores), 4)
            rows.append(row)
    counts = {k: len(v) for k, v in clean.items()}
    counts["comments"] = comments.height
    counts["comments_toxic"] = int(comments["toxic"].sum())
    counts["templates"] = templates.height
    print(json.dumps({"threshold": THRESHOLD, "counts": counts, "rows": rows}))


if __name__ == "__main__":
    main()
