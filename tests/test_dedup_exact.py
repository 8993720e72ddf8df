"""dedup.exact: normalisation, first copy kept, dup_count, bounded grouping, determinism."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curate.dedup.textnorm import normalize_texts
from curate.stage import StageContext
from curate.stages import dedup_exact, get_stage
from curate.stages.dedup_exact import DedupExact

FIXTURE_OK = [HealthCheck.function_scoped_fixture]


def run_stage(stage: DedupExact, table: pa.Table, workdir: Path, workers: int = 1) -> pa.Table:
    stage.setup(StageContext(workdir=workdir, workers=workers))
    batches = table.to_batches(max_chunksize=5) or [
        pa.RecordBatch.from_pylist([], schema=table.schema)
    ]
    return pa.Table.from_batches(list(stage(batches)))


def removed_mask(out: pa.Table) -> list[bool]:
    return pc.is_valid(out.column("__curate_reason")).to_pylist()


def test_normalisation_steps() -> None:
    texts = pa.array(["\uff21bc  Caf\u00e9\n\tX", "a-b, 12!"])
    assert normalize_texts(texts, ["nfkc", "lowercase", "whitespace"]).to_pylist() == [
        "abc café x",
        "a-b, 12!",
    ]
    assert normalize_texts(
        texts, ["accents", "punctuation", "digits", "whitespace"]
    ).to_pylist() == ["Abc Cafe X", "a b 00"]
    assert normalize_texts(texts, []).to_pylist() == texts.to_pylist()


def test_keeps_first_and_counts_copies(tmp_path: Path) -> None:
    table = pa.table(
        {
            "id": ["a", "b", "c", "d", "e", "f"],
            "text": ["Hello  world", "other", "hello world", "HELLO WORLD\n", "other", "x"],
            "src": [1, 2, 3, 4, 5, 6],
        }
    )
    out = run_stage(DedupExact(), table, tmp_path)
    assert out.column("id").to_pylist() == table.column("id").to_pylist()
    assert out.column("src").to_pylist() == [1, 2, 3, 4, 5, 6]
    assert removed_mask(out) == [False, False, True, True, True, False]
    assert out.column("dup_count").to_pylist() == [3, 2, 3, 3, 2, 1]
    assert out.column("__curate_detail").to_pylist() == [
        None,
        None,
        "kept=a",
        "kept=a",
        "kept=b",
        None,
    ]
    raw = run_stage(DedupExact(normalization=[]), table, tmp_path / "raw")
    assert removed_mask(raw) == [False, False, False, False, True, False]
    assert get_stage("dedup.exact") is DedupExact


def test_many_hash_ranges_give_the_same_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(0)
    texts = [str(rng.randrange(40)) for _ in range(500)]
    table = pa.table({"id": [f"i{i}" for i in range(500)], "text": texts})
    one = run_stage(DedupExact(), table, tmp_path / "one")
    monkeypatch.setattr(dedup_exact, "ROW_BYTES", 1 << 20)  # forces one range per ~16 rows
    many = run_stage(DedupExact(memory_limit_mb=16), table, tmp_path / "many")
    assert one.equals(many)
    assert sum(removed_mask(one)) == 500 - len(set(texts))


@settings(max_examples=25, deadline=None, suppress_health_check=FIXTURE_OK)
@given(st.lists(st.sampled_from(["a", "A ", "b", "b\n", "c", "", "d d"]), max_size=30))
def test_exact_copies_always_caught_and_idempotent(tmp_path: Path, texts: list[str]) -> None:
    table = pa.table(
        {"id": [f"i{i}" for i in range(len(texts))], "text": texts},
        schema=pa.schema([("id", pa.string()), ("text", pa.string())]),
    )
    out = run_stage(DedupExact(), table, tmp_path / "a")
    norm = [" ".join(t.lower().split()) for t in texts]
    first: dict[str, int] = {}
    expected = []
    for i, t in enumerate(norm):
        expected.append(t in first)
        first.setdefault(t, i)
    assert removed_mask(out) == expected
    kept = out.filter(pc.invert(pc.is_valid(out.column("__curate_reason"))))
    kept_ids = set(kept.column("id").to_pylist())
    for detail in out.column("__curate_detail").drop_null().to_pylist():
        assert detail.removeprefix("kept=") in kept_ids
    again = run_stage(DedupExact(), kept.select(["id", "text"]), tmp_path / "b")
    assert not any(removed_mask(again))


def test_one_and_two_workers_agree(tmp_path: Path) -> None:
    rng = random.Random(1)
    texts = [" ".join(rng.choice("abc") for _ in range(3)) for _ in range(12_000)]
    table = pa.table({"id": [str(i) for i in range(len(texts))], "text": texts})
    stage = DedupExact()
    stage.setup(StageContext(workdir=tmp_path / "1", workers=1))
    one = pa.Table.from_batches(list(stage(table.to_batches(max_chunksize=1000))))
    stage2 = DedupExact()
    stage2.setup(StageContext(workdir=tmp_path / "2", workers=2))
    two = pa.Table.from_batches(list(stage2(table.to_batches(max_chunksize=1000))))
    assert one.equals(two)
    assert sum(removed_mask(one)) == 12_000 - len(set(texts))


def test_a_parts_decisions_pickle_without_the_rest() -> None:
    """What a task applying one part is sent holds that part's decisions, not the corpus's."""
    import pickle

    from curate.dedup.decisions import RowDecisions

    n = 20_000
    decisions = RowDecisions(
        np.arange(n, dtype=np.int64),
        pa.array(["exact-duplicate"] * n),
        pa.array([f"kept=document-{i}" for i in range(n)]),
        {"dup_count": pa.array(np.full(n, 2, dtype=np.int64))},
    )
    part = decisions.narrow(100, 200)
    assert part.docs.tolist() == list(range(100, 200))
    assert part.details.to_pylist()[0] == "kept=document-100"
    assert len(pickle.dumps(part)) * 50 < len(pickle.dumps(decisions))
