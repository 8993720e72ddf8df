"""Fuzz: generated hostile JSONL and CSV rows through `run_recipe`, with `on_error: skip`.

A run either fails with a :class:`CurateError` (exit 2 in the CLI) or succeeds, and then nothing
is lost: the ids of the input's records are exactly the kept ids plus the ledger's, each once.
The expected ids are computed here from what was written, independently of the readers.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curate.errors import CurateError
from curate.executor.run import run_recipe
from curate.ledger import read_ledger
from curate.recipe import parse_recipe

MAX_CHARS = 40

TEXT = st.text(max_size=60)
JSON_LINE = st.one_of(
    TEXT.map(lambda t: json.dumps({"text": t, "k": 1})),
    TEXT.map(lambda t: json.dumps({"text": t, "k": 1}, ensure_ascii=False)),
    st.integers(1, 3000).map(lambda d: '{"text": "d", "k": ' + "[" * d + "]" * d + "}"),
    st.integers(1, 60).map(lambda d: '{"text": "d", "k": ' + '{"a": ' * d + "1" + "}" * d + "}"),
    st.sampled_from(
        [
            '{"text": "bad \\ud800", "k": 1}',
            '{"text": "\\udfff", "k": 1}',
            '{"text": null, "k": 1}',
            '{"text": 3, "k": 1}',
            '{"text": ["a"], "k": 1}',
            '{"body": "no text", "k": 1}',
            '{"text": "x", "k": "changed type"}',
            '{"text": "x", "k": 1.5}',
            '{"text": "x"',
            "[1, 2]",
            "42",
            '"just a string"',
            "{broken json",
            '{"text": "x", "k": 1, "text": "dup key"}',
        ]
    ),
)
JSON_BYTES = st.one_of(
    JSON_LINE.map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.binary(min_size=1, max_size=20).map(lambda b: b.replace(b"\n", b" ")),
    st.just(b'{"text": "caf\xe9", "k": 1}'),
    st.just(b"   "),
)


def _run(folder: Path, data: Path) -> tuple[list[str], list[str]] | None:
    recipe = parse_recipe(
        {
            "name": "fuzz",
            "input": {"path": str(data), "on_error": "skip", "max_chars": MAX_CHARS},
            "stages": [{"use": "filter", "with": {"where": "length(text) >= 0"}}],
            "output": {"path": str(folder / "out")},
        }
    )
    try:
        run_recipe(recipe)
    except CurateError:
        return None
    kept = pl.read_parquet(folder / "out" / "data" / "*.parquet")["id"].to_list()
    removed = folder / "out" / "curate" / "removed"
    ledger = read_ledger(folder / "out")["id"].to_list() if any(removed.glob("*")) else []
    return kept, ledger


@pytest.mark.slow
@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(JSON_BYTES, min_size=1, max_size=12))
def test_hostile_jsonl_rows_are_kept_or_in_the_ledger(lines: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = folder / "in.jsonl"
        data.write_bytes(b"\n".join(lines) + b"\n")
        out = _run(folder, data)
        if out is None:
            return
        kept, ledger = out
        records = [raw for raw in lines if raw.strip()]
        expected = [f"in.jsonl:{i}" for i in range(len(records))]
        assert sorted(kept + ledger) == sorted(expected)


CSV_ROW = st.one_of(
    TEXT.map(lambda t: ("ok", t)),
    st.binary(min_size=1, max_size=10)
    .filter(lambda b: b'"' not in b)
    .map(lambda b: ("bytes", b"bad \xff" + b)),
    st.integers(1, 3).map(lambda n: ("wide", n)),
)


def _csv_bytes(rows: list[tuple[str, object]]) -> bytes:
    out = io.BytesIO()
    out.write(b"text,k\n")
    for kind, value in rows:
        if kind == "ok":
            line = io.StringIO()
            # Quoted: a bare carriage return is a line break to CSV readers.
            csv.writer(line, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC).writerow([value, 1])
            out.write(line.getvalue().encode("utf-8", "surrogatepass"))
        elif kind == "bytes":
            assert isinstance(value, bytes)
            out.write(b'"' + value + b'",1\n')
        else:
            out.write(b"a,1" + b",x" * int(str(value)) + b"\n")
    return out.getvalue()


@pytest.mark.slow
@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(CSV_ROW, min_size=1, max_size=12))
def test_hostile_csv_rows_are_kept_or_in_the_ledger(rows: list[tuple[str, object]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = folder / "in.csv"
        data.write_bytes(_csv_bytes(rows))
        out = _run(folder, data)
        if out is None:
            return
        kept, ledger = out
        ids = kept + ledger
        assert len(ids) == len(set(ids))
        # Lines of the wrong width have no record index; they are named by their line.
        by_line = [i for i in ids if ":line" in i]
        records = sum(1 for kind, _ in rows if kind != "wide")
        assert len(by_line) == sum(1 for kind, _ in rows if kind == "wide")
        assert sorted(set(ids) - set(by_line)) == sorted(f"in.csv:{i}" for i in range(records))
