"""Global stages run as three phases by the executor: per-part tasks, an output per part."""

from __future__ import annotations

import dataclasses
import inspect
import json
import random
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_resume_kill import WORDS, run_snapshot

from curate.core import GlobalStage, Part, Reduce, Task
from curate.core.parts import InputSpill
from curate.core.pool import ThreadPool
from curate.core.run import decide
from curate.executor import run_recipe
from curate.executor.driver_global import ShardConfig
from curate.executor.part_global import write_part
from curate.recipe import load_recipe
from curate.stage import StageContext


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


class _Rounds(GlobalStage):
    """Two reduce rounds; records what each phase was handed."""

    name: ClassVar[str] = "test.rounds"
    summary: ClassVar[str] = "Records the tasks it is given."

    def reads(self) -> tuple[str, ...]:
        return ()

    def memory_bytes(self) -> int:
        return 1200

    def map_part(self, part: Part, task: Task) -> tuple[int, int, Path]:
        return part.rows, task.memory, task.scratch

    def reduce(self, parts: Sequence[Part], mapped: list[Any], task: Task) -> Reduce:
        squares = yield [partial(pow, rows, 2) for rows, _, _ in mapped]
        halves = yield [partial(divmod, s, 2) for s in squares]
        return {"mapped": mapped, "squares": squares, "halves": halves, "task": task}

    def apply(self, part: Part, decisions: Any, task: Task) -> Iterator[pa.RecordBatch]:
        yield from part.batches()


@pytest.mark.parametrize("workers", [1, 3])
def test_phases_get_a_memory_share_and_the_scratch_and_results_in_order(
    tmp_path: Path, workers: int
) -> None:
    spill = InputSpill(tmp_path / "in", part_rows=4)
    batch = pa.record_batch({"id": [str(i) for i in range(10)], "text": ["x"] * 10})
    with ThreadPool(workers) as pool:
        parts, decisions, task = decide(_Rounds(), spill.stream([batch]), pool, tmp_path)
    assert [p.rows for p in parts] == [4, 4, 2]
    assert task == Task(scratch=tmp_path, memory=1200 // workers)
    assert decisions["mapped"] == [(n, 1200 // workers, tmp_path) for n in (4, 4, 2)]
    assert decisions["squares"] == [16, 16, 4]
    assert decisions["halves"] == [(8, 0), (8, 0), (2, 0)]


def test_a_stage_never_sees_the_pool_or_the_workers() -> None:
    """The stage API offers memory and scratch, not the executor's business."""
    fields = {f.name for f in dataclasses.fields(Task)}
    assert fields == {"scratch", "memory"}
    assert {f.name for f in dataclasses.fields(StageContext)} == {"workdir", "workers"}
    for method in ("map_part", "reduce", "apply", "narrow"):
        params = inspect.signature(getattr(GlobalStage, method)).parameters
        assert not {"pool", "workers", "extra"} & set(params), method


class _Narrow(_Rounds):
    """Writes its declared int64 column as int32."""

    name: ClassVar[str] = "test.narrow"

    def output_fields(self) -> list[pa.Field]:
        return [pa.field("n", pa.int64())]

    def apply(self, part: Part, decisions: Any, task: Task) -> Iterator[pa.RecordBatch]:
        for batch in part.batches():
            yield batch.append_column("n", pa.array([1] * batch.num_rows, pa.int32()))


def test_apply_tasks_write_the_declared_column_types(tmp_path: Path) -> None:
    spill = InputSpill(tmp_path / "in", part_rows=4)
    (part,) = spill.stream([pa.record_batch({"id": ["a", "b"], "text": ["x", "y"]})])
    shards = ShardConfig(rows=100, bytes=1 << 20, compression="zstd")
    task = Task(scratch=tmp_path, memory=1 << 20)
    out = write_part(_Narrow(), None, part, task, tmp_path / "o", tmp_path / "l", "test", shards)
    assert pq.read_schema(out.files[0]).field("n").type == pa.int64()
