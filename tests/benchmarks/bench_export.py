"""curate export throughput against a bare ``tokenizers`` encode_batch loop, same texts, same run.

    python tests/benchmarks/bench_export.py [--docs 20000] [--rounds 3] [--format npy]
        [--workers 1 2]

Documents are 300-word windows of the Project Gutenberg books in ../shared/bench/sources,
written as a Parquet file; the tokenizer is a byte-level BPE (vocabulary 8,000) trained on them
in the run. The baseline reads the same Parquet column and calls ``encode_batch_fast`` in
batches of 1,000, keeping nothing; curate exports the file to shuffled shards (both passes, the
writes and the checksums) once per ``--workers`` count, the file cut into parts of 2,500 rows so
that several workers have parts to share. Rounds are interleaved; one JSON line with the best
round of each, in tokens per wall-clock second (``tokenizers`` encodes on every core), each
worker count's ratio to the bare loop, and whether every worker count wrote the same bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

from curate.tokens.export import export_tokens

SHARED = Path(os.environ.get("CURATE_SHARED", Path(__file__).resolve().parents[3] / "shared"))


def texts(count: int, words: int = 300) -> list[str]:
    tokens: list[str] = []
    for path in sorted((SHARED / "bench" / "sources").glob("*.txt")):
        tokens.extend(path.read_text(encoding="utf-8", errors="replace").split())
    rng = random.Random(3)
    return [
        " ".join(tokens[at : at + words])
        for at in (rng.randrange(len(tokens) - words) for _ in range(count))
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--format", default="npy", choices=["npy", "megatron"])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-export-"))
    docs = texts(args.docs)
    pq.write_table(pa.table({"text": docs}), work / "docs.parquet")
    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.train_from_iterator(
        docs[:5000],
        trainers.BpeTrainer(
            vocab_size=8000, special_tokens=["[UNK]", "<|endoftext|>"], show_progress=False
        ),
    )
    tok.save(str(work / "tokenizer.json"))
    best = {"bare": float("inf"), **{f"curate_{w}": float("inf") for w in args.workers}}
    tokens = 0
    files: dict[int, list[str]] = {}
    for _ in range(args.rounds):
        t = time.perf_counter()
        column = pq.read_table(work / "docs.parquet", columns=["text"]).column("text")
        values = column.to_pylist()
        for i in range(0, len(values), 1000):
            tok.encode_batch_fast(values[i : i + 1000], add_special_tokens=False)
        best["bare"] = min(best["bare"], time.perf_counter() - t)
        for w in args.workers:
            out = work / "out"
            shutil.rmtree(out, ignore_errors=True)
            t = time.perf_counter()
            manifest = export_tokens(
                str(work / "docs.parquet"),
                tokenizer=str(work / "tokenizer.json"),
                fmt=args.format,
                out=out,
                workers=w,
                part_rows=2500,
            )
            best[f"curate_{w}"] = min(best[f"curate_{w}"], time.perf_counter() - t)
            tokens = manifest["tokens"]
            files[w] = [f["sha256"] for f in manifest["files"]]
    shutil.rmtree(work, ignore_errors=True)
    print(
        json.dumps(
            {
                "bench": "export",
                "format": args.format,
                "docs": len(docs),
                "tokens": tokens,
                "bare_encode_tokens_per_s": round(tokens / best["bare"]),
                **{
                    f"curate_{w}_workers_tokens_per_s": round(tokens / best[f"curate_{w}"])
                    for w in args.workers
                },
                **{
                    f"ratio_{w}_workers": round(best["bare"] / best[f"curate_{w}"], 3)
                    for w in args.workers
                },
                "same_bytes": len({tuple(v) for v in files.values()}) == 1,
                "cores": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
