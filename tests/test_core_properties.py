"""Property tests of the engine's invariants."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curate.executor.split import split_removed
from curate.io.reader import InputReader
from curate.ledger import read_ledger
from curate.recipe import parse_recipe
from curate.stage import StageContext
from curate.stages.filter import Filter
from curate.stages.normalize import Normalize

texts = st.lists(st.text(max_size=60), max_size=40)


def _batch(values: list[str]) -> pa.RecordBatch:
    return pa.record_batch(
        {"id": [f"d{i}" for i in range(len(values))], "text": pa.array(values, pa.string())}
    )


@given(texts, st.integers(min_value=0, max_value=60))
def test_filter_never_adds_rows_and_splits_exactly(values: list[str], cut: int) -> None:
    stage = Filter(where=f"length(text) >= {cut}")
    out = stage.process(_batch(values))
    kept, removed, counts = split_removed(out, "filter")
    assert kept.num_rows <= len(values)
    gone = [] if removed is None else removed.column("id").to_pylist()
    assert sorted(kept.column("id").to_pylist() + gone) == sorted(_batch(values)["id"].to_pylist())
    assert sum(counts.values()) == len(gone)
    assert all(len(t) >= cut for t in kept.column("text").to_pylist())


@given(texts)
def test_normalize_keeps_rows_and_is_idempotent(values: list[str]) -> None:
    stage = Normalize()
    stage.setup(StageContext(workdir=Path(".")))
    once = stage.process(_batch(values))
    twice = stage.process(once)
    assert once.num_rows == len(values)
    assert once.column("id").to_pylist() == _batch(values).column("id").to_pylist()
    assert twice.column("text").to_pylist() == once.column("text").to_pylist()


def test_empty_batches_keep_the_schema_types() -> None:
    empty = _batch([])
    for stage in (Normalize(), Filter(where="length(text) > 1")):
        out = stage.process(empty)
        assert out.num_rows == 0 and out.schema.field("text").type == pa.string()
    reader = InputReader([])
    assert reader.empty().schema.types == [pa.string(), pa.string()]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.one_of(st.text(max_size=30), st.none(), st.integers()), max_size=30),
    st.integers(min_value=0, max_value=30),
)
def test_ledger_plus_output_equals_input_and_ids_are_stable(
    tmp_path_factory: object, values: list[object], cut: int
) -> None:
    import tempfile

    tmp = Path(tempfile.mkdtemp())
    path = tmp / "in.jsonl"
    path.write_text("".join(json.dumps({"text": v}) + "\n" for v in values))
    recipe = parse_recipe(
        {
            "name": "prop",
            "input": {"path": str(path), "on_error": "skip"},
            "stages": [
                {"use": "normalize"},
                {"use": "filter", "with": {"where": f"length(text) >= {cut}"}},
            ],
            "output": {"path": str(tmp / "out"), "shard_rows": 7},
        }
    )
    from curate.executor import run_recipe

    outputs = []
    for _ in range(2):
        report = run_recipe(recipe)
        kept = pl.read_parquet(tmp / "out" / "data" / "*.parquet")["id"].to_list()
        gone = read_ledger(tmp / "out")["id"].to_list()
        assert sorted(kept + gone) == sorted(f"in.jsonl:{i}" for i in range(len(values)))
        assert report["rows_in"] == len(values)
        outputs.append((kept, sorted(gone)))
    assert outputs[0] == outputs[1]


@given(st.lists(st.lists(st.sampled_from([f"id{i}" for i in range(40)]), max_size=30), max_size=12))
def test_id_set_flags_exactly_the_ids_seen_before(batches: list[list[str]]) -> None:
    """The reader's compact id set agrees with a Python set, batch after batch."""
    from curate.io.idset import IdSet

    ids, seen = IdSet(), set()
    for batch in batches:
        expected = []
        for value in batch:
            expected.append(value in seen)
            seen.add(value)
        assert ids.add(pa.array(batch, pa.string())).tolist() == expected
    assert len(ids) == len(seen)


def test_id_set_merges_runs_and_still_finds_every_id() -> None:
    from curate.io.idset import BUCKETS, IdSet

    ids = IdSet()
    for start in range(0, 50_000, 5_000):
        assert not ids.add(pa.array([f"doc-{i}" for i in range(start, start + 5_000)])).any()
    assert ids.add(pa.array([f"doc-{i}" for i in range(0, 50_000, 997)])).all()
    runs = [len(b.runs) for b in ids._buckets]
    assert len(runs) == BUCKETS and max(runs) <= 4 and len(ids) == 50_000
