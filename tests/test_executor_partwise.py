"""Global stages run partwise by the executor: per-part tasks, one output and ledger per part."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyarrow.parquet as pq
from test_resume_kill import WORDS, run_snapshot

from curate.executor import run_recipe
from curate.recipe import load_recipe


def _corpus(folder: Path, docs: int = 1000) -> Path:
    """Stories, exact copies and one-word edits, copies often far from their original."""
    rng = random.Random(7)
    texts: list[str] = []
    for _ in range(docs):
        if texts and rng.random() < 0.25:
            texts.append(rng.choice(texts))
        elif texts and rng.random() < 0.2:
            words = rng.choice(texts).split(" ")
            words[rng.randrange(len(words))] = "edited"
            texts.append(" ".join(words))
        else:
            texts.append(" ".join(rng.choices(WORDS, k=rng.randint(25, 45))))
    path = folder / "in.jsonl"
    path.write_text(
        "".join(json.dumps({"id": f"doc-{i}", "text": t}) + "\n" for i, t in enumerate(texts))
    )
    return path


def _recipe(folder: Path) -> Path:
    recipe = folder / "recipe.yaml"
    recipe.write_text(
        f"""name: partwise
input: {{path: {_corpus(folder)}}}
stages:
  - use: dedup.exact
  - use: dedup.minhash
    with: {{threshold: 0.7, ngram: 3}}
  - use: filter
    with: {{where: "length(text) > 150"}}
output: {{path: {folder / "out"}, shard_rows: 150}}
"""
    )
    return recipe


def test_first_global_stage_cuts_the_input_into_parts(tmp_path: Path) -> None:
    recipe = load_recipe(_recipe(tmp_path))
    one = run_recipe(recipe, output=tmp_path / "one", workers=1)
    two = run_recipe(recipe, output=tmp_path / "two", workers=2)
    assert run_snapshot(tmp_path / "one") == run_snapshot(tmp_path / "two")
    exact, minhash = one["stages"][0], one["stages"][1]
    assert exact["removed"] > 100 and minhash["removed"] > 50
    # One ledger file per part (1,000 rows in parts of 150) for each global stage.
    removed = sorted(p.name for p in (tmp_path / "one" / "curate" / "removed").glob("*.parquet"))
    assert sum("dedup.exact" in n for n in removed) == 7
    kept = {
        r["id"]
        for p in (tmp_path / "one" / "data").glob("*.parquet")
        for r in pq.read_table(p).to_pylist()
    }
    ledger = [
        r
        for p in (tmp_path / "one" / "curate" / "removed").glob("*.parquet")
        for r in pq.read_table(p).to_pylist()
    ]
    assert len(kept) + len(ledger) == 1000 == len(kept | {r["id"] for r in ledger})
    assert len(two["output"]["data"]) > 1
    everyone = kept | {r["id"] for r in ledger}
    for row in ledger:
        if row["reason"] in ("exact-duplicate", "near-duplicate"):
            named = row["detail"].split("kept=")[1].split(" ")[0]
            assert named != row["id"] and named in everyone
