"""Speed of score.classifier and curate train classifier against bare library loops.

    python tests/benchmarks/bench_classifier.py --docs 4000

* fastText: the stage on ~500-word book passages against a bare loop of the compiled model's
  per-line ``predict`` (newlines replaced, as fastText requires), both asking for every label;
* training: ``train_classifier`` (reading two datasets, normalising, splitting, training,
  scoring the held-out share, writing the card) against a bare ``fasttext.train_supervised`` on
  the same lines with the same settings, saving the model;
* hf: the stage's ``hf:`` path against a bare ``transformers`` text-classification pipeline
  (``batch_size`` and truncation set) on the same tiny random BERT model built here, on short
  texts that fit in one chunk.

Text comes from ../shared (Gutenberg books, Jigsaw comments). The process is pinned to one CPU
and torch to one thread. Rates are the best of ``--repeat`` interleaved runs, documents per
second; ratios are curate / bare. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ["POLARS_MAX_THREADS"] = "1"
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

import polars as pl
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "benchmarks"))

from measure_toxicity_default import SHARED, book_texts, paragraphs, passages  # noqa: E402

from curate.classify.train import TrainOptions, train_classifier  # noqa: E402
from curate.stages.score_classifier import ScoreClassifier  # noqa: E402


def best(runs: dict[str, Callable[[], object]], n: int, repeat: int) -> dict[str, float]:
    rates = {k: 0.0 for k in runs}
    for _ in range(repeat):
        for name, fn in runs.items():
            start = time.perf_counter()
            fn()
            rates[name] = max(rates[name], n / (time.perf_counter() - start))
    return {k: round(v, 1) for k, v in rates.items()}


def fasttext_figures(folder: Path, docs: int, repeat: int) -> dict[str, float]:
    import fasttext

    paras = [p for b in book_texts() for p in paragraphs(b)]
    random.Random(0).shuffle(paras)
    books = folder / "books.parquet"
    pl.DataFrame({"text": paras[:600]}).write_parquet(books)
    jig = SHARED / "data" / "jigsaw-toxic-sample"
    comments = folder / "comments.parquet"
    pl.concat(
        [
            pl.read_csv(jig / n).select(pl.col("comment_text").alias("text"))
            for n in ("train.csv", "test.csv", "ibm_max_test_examples.csv")
        ]
    ).write_parquet(comments)
    options = TrainOptions()
    model = folder / "quality.bin"

    def ours_train() -> None:
        train_classifier(positive=str(books), negative=str(comments), output=model, options=options)

    lines = [f"__label__hq {' '.join(t.split())}" for t in paras[:600]]
    lines += [f"__label__cc {' '.join(t.split())}" for t in pl.read_parquet(comments)["text"]]
    data = folder / "bare.txt"
    data.write_text("\n".join(lines) + "\n")

    def bare_train() -> None:
        fasttext.train_supervised(
            input=str(data), epoch=options.epoch, lr=options.lr, wordNgrams=options.word_ngrams,
            dim=options.dim, minCount=options.min_count, bucket=options.bucket,
            thread=options.threads, seed=options.seed, verbose=0,
        ).save_model(str(folder / "bare.bin"))  # fmt: skip

    n_rows = len(lines)
    ours_train()  # warm-up: imports and first reads are not training
    train = best({"train_curate": ours_train, "train_bare": bare_train}, n_rows, repeat)
    long_docs = [d for b in book_texts() for d in passages(paragraphs(b), 500)]
    texts = (long_docs * (docs // len(long_docs) + 1))[:docs]
    batch = pa.record_batch({"id": [str(i) for i in range(len(texts))], "text": texts})
    stage = ScoreClassifier(model=str(model), prefix="q", label="hq")
    next(iter(stage([batch.slice(0, 10)])))
    f = fasttext.load_model(str(model)).f
    k = len(f.getLabels("strict")[0])

    def bare_predict() -> None:
        for t in texts:
            f.predict(t.replace("\n", " ") + "\n", k, 0.0, "strict")

    score = best(
        {"fasttext_curate": lambda: next(iter(stage([batch]))), "fasttext_bare": bare_predict},
        len(texts),
        repeat,
    )
    out: dict[str, float] = {f"{k}_docs_per_s": v for k, v in {**train, **score}.items()}
    out["fasttext_ratio"] = round(score["fasttext_curate"] / score["fasttext_bare"], 3)
    out["train_ratio"] = round(train["train_curate"] / train["train_bare"], 3)
    out["train_rows"] = n_rows
    out["fasttext_mean_words"] = round(sum(len(t.split()) for t in texts) / len(texts), 1)
    return out


def hf_figures(folder: Path, docs: int, repeat: int) -> dict[str, float]:
    import torch
    import transformers

    torch.set_num_threads(1)
    jig = SHARED / "data" / "jigsaw-toxic-sample" / "train.csv"
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    words = pl.read_csv(jig)["comment_text"].str.to_lowercase().str.extract_all(r"[a-z]+")
    vocab += sorted({w for ws in words.to_list() for w in ws})[:3000]
    transformers.BertTokenizer(vocab={w: i for i, w in enumerate(vocab)}).save_pretrained(folder)
    config = transformers.BertConfig(
        vocab_size=len(vocab), hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=128, max_position_embeddings=128, num_labels=2,
        id2label={0: "low", 1: "high"}, label2id={"low": 0, "high": 1},
    )  # fmt: skip
    torch.manual_seed(0)
    transformers.BertForSequenceClassification(config).save_pretrained(folder)
    sentences = (SHARED / "data" / "ud-pud-multilingual" / "en.txt").read_text().splitlines()
    texts = (sentences * (docs // len(sentences) + 1))[:docs]
    batch = pa.record_batch({"id": [str(i) for i in range(len(texts))], "text": texts})
    stage = ScoreClassifier(
        model=f"hf:{folder}", label="high", device="cpu", threads=1, batch_size=32
    )
    next(iter(stage([batch.slice(0, 4)])))
    pipe = transformers.pipeline(
        "text-classification", model=str(folder), tokenizer=str(folder), device="cpu", top_k=None
    )

    def bare() -> None:
        pipe(texts, batch_size=32, truncation=True, max_length=128)

    rates = best({"hf_curate": lambda: next(iter(stage([batch]))), "hf_bare": bare}, docs, repeat)
    out: dict[str, float] = {f"{k}_docs_per_s": v for k, v in rates.items()}
    out["hf_ratio"] = round(rates["hf_curate"] / rates["hf_bare"], 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=4000)
    parser.add_argument("--hf-docs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    result: dict[str, object] = {"docs": args.docs, "hf_docs": args.hf_docs}
    with tempfile.TemporaryDirectory() as tmp:
        result.update(fasttext_figures(Path(tmp), args.docs, args.repeat))
        hf = Path(tmp) / "hf"
        hf.mkdir()
        result.update(hf_figures(hf, args.hf_docs, args.repeat))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
