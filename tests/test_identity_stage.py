"""The ``score.identity`` stage."""

from __future__ import annotations

import pickle

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.errors import DataError, RecipeError
from curate.stages import get_stage
from curate.stages.score_identity import ScoreIdentity


def _batch(texts: list[str | None], **extra: list[str | None]) -> pa.RecordBatch:
    cols: dict[str, pa.Array] = {
        "id": pa.array([str(i) for i in range(len(texts))]),
        "text": pa.array(texts, pa.string()),
    }
    cols.update({k: pa.array(v, pa.string()) for k, v in extra.items()})
    return pa.record_batch(cols)


def _run(stage: ScoreIdentity, batch: pa.RecordBatch) -> pa.RecordBatch:
    return next(iter(stage([batch])))


def test_registered_and_declares_columns() -> None:
    assert get_stage("score.identity") is ScoreIdentity
    assert ScoreIdentity().writes() == ("identities",)
    stage = ScoreIdentity(counts=True)
    planned = stage.plan({"id": pa.string(), "text": pa.string()})
    assert planned["identities"] == pa.list_(pa.string())
    assert planned["identity_counts"] == pa.list_(pa.int64())


def test_writes_identities_and_counts() -> None:
    texts = ["My grandmother is Catholic, my grandfather Jewish.", None, "Weather report."]
    out = _run(ScoreIdentity(counts=True), _batch(texts))
    assert out.column("identities").to_pylist() == [
        ["gender/female", "gender/male", "religion/christian", "religion/jewish"],
        [],
        [],
    ]
    assert out.column("identity_counts").to_pylist() == [[1, 1, 1, 1], [], []]
    assert out.column("text").to_pylist() == texts


def test_uses_the_language_column_when_present() -> None:
    batch = _batch(["Jude christened it", "Christen und Juden"], lang=["en", "de"])
    out = _run(ScoreIdentity(), batch)
    assert out.column("identities").to_pylist() == [[], ["religion/christian", "religion/jewish"]]
    ignoring = _run(ScoreIdentity(language_column=None), batch)
    assert ignoring.column("identities").to_pylist()[0] == ["religion/jewish"]


def test_exclude_and_plan_errors() -> None:
    out = _run(ScoreIdentity(lexicons=["en"], exclude=["ambiguous"]), _batch(["a black cat"]))
    assert out.column("identities").to_pylist() == [[]]
    with pytest.raises(DataError, match="unknown lexicon"):
        ScoreIdentity(lexicons=["nope"]).plan({"text": pa.string()})
    with pytest.raises(ValueError):
        ScoreIdentity(lexicons=[])
    with pytest.raises(ValueError):
        ScoreIdentity(exclude=["rude"])  # type: ignore[list-item]


def test_plan_rejects_a_lexicon_left_empty(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "only_slurs.yaml"
    path.write_text("language: en\naxes: {x: {y: [{term: zzz, flag: slur}]}}\n", encoding="utf-8")
    with pytest.raises(RecipeError, match="no terms left"):
        ScoreIdentity(lexicons=[str(path)], exclude=["slur"]).plan({"text": pa.string()})


def test_pickles_before_and_after_use() -> None:
    stage = ScoreIdentity(lexicons=["en"])
    clone = pickle.loads(pickle.dumps(stage))
    _run(stage, _batch(["women"]))
    again = pickle.loads(pickle.dumps(stage))
    assert _run(again, _batch(["men"])).column("identities").to_pylist() == [["gender/male"]]
    assert clone.params() == stage.params()


_SHARED = ScoreIdentity(counts=True)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=80)), max_size=12))
def test_never_drops_rows_or_changes_text(texts: list[str | None]) -> None:
    batch = _batch(texts)
    out = _run(_SHARED, batch)
    assert out.num_rows == batch.num_rows
    assert out.column("text").to_pylist() == texts
    assert out.column("id").to_pylist() == batch.column("id").to_pylist()
    for labels, counts in zip(
        out.column("identities").to_pylist(), out.column("identity_counts").to_pylist()
    ):
        assert len(labels) == len(counts) and all(c >= 1 for c in counts)
        assert labels == sorted(set(labels))
