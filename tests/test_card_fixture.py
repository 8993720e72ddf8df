"""A hand-built ``curate run`` output folder, shared by the card and registry tests.

``make_run`` writes what the executor writes (Parquet shards, ledger, run.json, audit.json) with
fixed content, so cards rendered from it can be compared with golden files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

LANGS = ["en", "en", "en", "fr", "de", "en", "fr", "en"]
IDENTITIES = [["gender/female"], [], ["religion/muslim"], [], ["gender/male"], [], [], []]


def rows(n: int, *, seed: int = 0) -> dict[str, list[Any]]:
    """``n`` deterministic documents with the columns a full recipe produces."""
    return {
        "id": [f"doc-{seed}-{i:04d}" for i in range(n)],
        "text": [f"Document {i} of run {seed}: " + "words " * (i % 7 + 3) for i in range(n)],
        "url": [f"https://example.org/{seed}/{i}" for i in range(n)],
        "dup_count": [1 + (i % 5 == 0) for i in range(n)],
        "lang": [LANGS[i % len(LANGS)] for i in range(n)],
        "lang_score": [0.7 + (i % 3) * 0.1 for i in range(n)],
        "quality_word_count": [10 + i % 7 for i in range(n)],
        "toxicity": [((i * 37) % 100) / 100 for i in range(n)],
        "identities": [IDENTITIES[i % len(IDENTITIES)] for i in range(n)],
    }


SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("text", pa.string()),
        ("url", pa.string()),
        ("dup_count", pa.int64()),
        ("lang", pa.string()),
        ("lang_score", pa.float64()),
        ("quality_word_count", pa.int64()),
        ("toxicity", pa.float64()),
        ("identities", pa.list_(pa.string())),
    ]
)

RECIPE: dict[str, Any] = {
    "name": "web-sample",
    "description": "A small multilingual web sample, deduplicated, filtered and scored.",
    "input": {"path": "raw/*.jsonl", "text_column": "text", "id_column": None},
    "stages": [
        {"use": "normalize", "with": {}},
        {"use": "dedup.exact", "with": {}},
        {"use": "score.language", "with": {}},
        {"use": "filter", "with": {"where": "lang_score >= 0.65"}},
        {"use": "score.toxicity", "with": {}},
        {"use": "score.identity", "with": {}},
    ],
    "output": {"path": "out/web-sample"},
    "card": {"pretty_name": "Web sample", "license": "cc-by-4.0", "tags": ["web"]},
    "audit": {},
}

AUDIT: dict[str, Any] = {
    "documents": 48,
    "languages": {"en": 0.5, "fr": 0.25, "de": 0.125, "und": 0.125},
    "toxicity_threshold": 0.5,
    "groups": {
        "gender/female": {
            "documents": 6,
            "share": 0.125,
            "ci95": [0.05, 0.25],
            "toxic_rate": 0.5,
            "disparity_ratio": 1.0,
        },
    },
    "filter_impact": {
        "filter": {"religion/muslim": {"removal_rate": 0.2, "ratio": 2.0, "flagged": True}}
    },
    "findings": [
        "Documents mentioning gender/female are 12.5% of the dataset.",
        "Toxic documents are 1.8 times as frequent among documents mentioning religion/muslim.",
    ],
}


def make_run(
    out: Path,
    *,
    n: int = 48,
    shards: int = 2,
    seed: int = 0,
    audit: bool = True,
    card: bool = False,
) -> Path:
    """Write a complete run folder at ``out``; ``card=True`` also renders its card."""
    data = pa.table(rows(n, seed=seed), schema=SCHEMA)
    (out / "data").mkdir(parents=True, exist_ok=True)
    per = -(-n // shards)
    for k in range(shards):
        pq.write_table(
            data.slice(k * per, per), out / "data" / f"train-{k:05d}-of-{shards:05d}.parquet"
        )
    removed = pa.table(
        {
            "stage": ["dedup.exact", "filter", "filter"],
            "reason": ["duplicate", "filter", "filter"],
            "detail": ["doc-0-0000", "lang_score >= 0.65", "lang_score >= 0.65"],
            "id": [f"gone-{seed}-{i}" for i in range(3)],
            "text": ["dup", "low a", "low b"],
        }
    )
    (out / "curate" / "removed").mkdir(parents=True, exist_ok=True)
    pq.write_table(removed, out / "curate" / "removed" / "part-00000.parquet")
    stage_rows = [n + 3, n + 3, n + 2, n + 2, n, n, n]
    stages = []
    for i, step in enumerate(RECIPE["stages"]):
        rin, rout = stage_rows[i], stage_rows[i + 1]
        reasons = (
            {"duplicate": 1}
            if step["use"] == "dedup.exact"
            else {"filter": 2}
            if step["use"] == "filter"
            else {}
        )
        stages.append(
            {
                "use": step["use"],
                "label": step["use"],
                "params": step["with"],
                "rows_in": rin,
                "rows_out": rout,
                "removed": rin - rout,
                "removed_by_reason": reasons,
                "seconds": 0.25 * (i + 1),
            }
        )
    run = {
        "recipe": RECIPE,
        "versions": {
            "curate": "0.1.0",
            "python": "3.11.9",
            "pyarrow": "26.0.1",
            "polars": "2.1.0",
            "models": {
                "lid.176.ftz": "8f3472cfe8738a7b6099e8e999c3cbfae0dcd15696aac7d7738a8039db603e83"
            },
        },
        "input": {
            "paths": ["raw/part-0.jsonl"],
            "fingerprint": f"xxh64:{seed:016x}",
            "registry_refs": [],
        },
        "rows_in": n + 3,
        "rows_out": n,
        "seconds": 5.25,
        "created": "2025-01-15T12:00:00+00:00",
        "stages": stages,
    }
    (out / "curate" / "run.json").write_text(json.dumps(run, indent=2))
    if audit:
        (out / "curate" / "audit").mkdir(parents=True, exist_ok=True)
        (out / "curate" / "audit" / "audit.json").write_text(json.dumps(AUDIT, indent=2))
    if card:
        from curate.card import write_card

        write_card(out)
    return out


def test_fixture_folder_is_a_loadable_dataset(tmp_path: Path) -> None:
    from datasets import load_dataset

    out = make_run(tmp_path / "run", n=10)
    ds = load_dataset("parquet", data_files=str(out / "data" / "*.parquet"), split="train")
    assert ds.num_rows == 10
    assert ds.features["identities"].feature.dtype == "string"
