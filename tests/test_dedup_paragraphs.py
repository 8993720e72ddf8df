"""dedup.paragraphs: repeated paragraphs and lines removed, emptied documents go to the ledger."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curate.stage import StageContext
from curate.stages import get_stage
from curate.stages.dedup_paragraphs import DedupParagraphs

BANNER = "We use cookies to improve your experience. Accept all cookies?"

FIXTURE_OK = [HealthCheck.function_scoped_fixture]


def run_stage(stage: DedupParagraphs, table: pa.Table, workdir: Path) -> pa.Table:
    stage.setup(StageContext(workdir=workdir, workers=1))
    batches = table.to_batches(max_chunksize=4) or [
        pa.RecordBatch.from_pylist([], schema=table.schema)
    ]
    return pa.Table.from_batches(list(stage(batches)))


def test_boilerplate_removed_and_rest_untouched(tmp_path: Path) -> None:
    texts = [f"Story number {i} is here.\n\n{BANNER}\n \nThe end of {i}." for i in range(5)]
    texts += [BANNER.upper(), "Untouched\n\n\nspacing  kept", f"{BANNER}\n\n"]
    table = pa.table({"id": [str(i) for i in range(len(texts))], "text": texts})
    out = run_stage(DedupParagraphs(max_occurrences=3), table, tmp_path)
    got = out.column("text").to_pylist()
    assert got[0] == "Story number 0 is here.\n\nThe end of 0."
    assert got[6] == texts[6]
    reasons = out.column("__curate_reason").to_pylist()
    assert reasons == [None] * 5 + ["repeated-paragraphs-only", None, "repeated-paragraphs-only"]
    assert out.column("__curate_detail").to_pylist()[5] == "removed 1 repeated paragraphs"
    assert get_stage("dedup.paragraphs") is DedupParagraphs


def test_threshold_and_min_chars(tmp_path: Path) -> None:
    texts = [f"Doc {i}\n\nShort\n\n{BANNER}" for i in range(4)]
    table = pa.table({"id": list("abcd"), "text": texts})
    out = run_stage(DedupParagraphs(max_occurrences=4), table, tmp_path / "a")
    assert out.column("text").to_pylist() == texts
    out = run_stage(DedupParagraphs(max_occurrences=3, min_chars=10), table, tmp_path / "b")
    assert out.column("text").to_pylist()[0] == "Doc 0\n\nShort"


def test_lines(tmp_path: Path) -> None:
    texts = [f"Home | News | Contact\nline {i} of the story\nShare this" for i in range(3)]
    table = pa.table({"id": list("abc"), "text": texts})
    out = run_stage(DedupParagraphs(unit="line", max_occurrences=2), table, tmp_path)
    assert out.column("text").to_pylist() == [f"line {i} of the story" for i in range(3)]


@settings(max_examples=20, deadline=None, suppress_health_check=FIXTURE_OK)
@given(
    st.lists(
        st.lists(
            st.sampled_from(["alpha", "beta", "gamma", "delta", BANNER]), min_size=1, max_size=4
        ),
        max_size=12,
    )
)
def test_idempotent_and_complete(tmp_path: Path, docs: list[list[str]]) -> None:
    texts = ["\n\n".join(d) for d in docs]
    table = pa.table(
        {"id": [str(i) for i in range(len(texts))], "text": texts},
        schema=pa.schema([("id", pa.string()), ("text", pa.string())]),
    )
    out = run_stage(DedupParagraphs(max_occurrences=2), table, tmp_path / "a")
    assert out.column("id").to_pylist() == table.column("id").to_pylist()
    kept = out.filter(pc.invert(pc.is_valid(out.column("__curate_reason"))))
    counts: dict[str, int] = {}
    for d in docs:
        for p in set(d):
            counts[p] = counts.get(p, 0) + 1
    for text in kept.column("text").to_pylist():
        assert all(counts[p.lower() if p.isupper() else p] <= 2 for p in text.split("\n\n"))
    again = run_stage(
        DedupParagraphs(max_occurrences=2), kept.select(["id", "text"]), tmp_path / "b"
    )
    assert again.column("text").to_pylist() == kept.column("text").to_pylist()
    assert not any(pc.is_valid(again.column("__curate_reason")).to_pylist())
