"""Readers: every input form, stable ids, and a clear message for every kind of bad input."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
import zstandard

from curate.errors import DataError
from curate.io.dataset import open_dataset
from curate.io.reader import InputReader
from curate.io.sources import resolve

ROWS = [{"text": f"document {i}", "url": f"https://example.com/{i}"} for i in range(5)]


def _jsonl(rows: list[dict[str, object]]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def _read(spec: object, **kw: object) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    reader = InputReader(resolve(spec).sources, **kw)  # type: ignore[arg-type]
    kept: list[dict[str, object]] = []
    bad: list[dict[str, object]] = []
    for read in reader:
        kept.extend(read.kept.to_pylist())
        if read.unreadable is not None:
            bad.extend(read.unreadable.to_pylist())
    return kept, bad


@pytest.mark.parametrize(
    "name", ["c.jsonl", "c.jsonl.gz", "c.jsonl.zst", "c.parquet", "c.arrow", "c.feather", "c.csv"]
)
def test_every_format_reads_the_same_rows(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    table = pa.Table.from_pylist(ROWS)
    if name.endswith(".jsonl"):
        path.write_bytes(_jsonl(ROWS))
    elif name.endswith(".gz"):
        path.write_bytes(gzip.compress(_jsonl(ROWS)))
    elif name.endswith(".zst"):
        path.write_bytes(zstandard.ZstdCompressor().compress(_jsonl(ROWS)))
    elif name.endswith(".parquet"):
        pq.write_table(table, path)
    elif name.endswith(".arrow"):
        with pa.ipc.new_file(path, table.schema) as w:
            w.write_table(table)
    elif name.endswith(".feather"):
        feather.write_feather(table, path)
    else:
        pcsv.write_csv(table, path)
    kept, bad = _read(str(path))
    assert bad == []
    assert [r["text"] for r in kept] == [r["text"] for r in ROWS]
    assert [r["url"] for r in kept] == [r["url"] for r in ROWS]
    assert [r["id"] for r in kept] == [f"{name}:{i}" for i in range(5)]
    assert list(kept[0]) == ["id", "text", "url"]


def test_save_to_disk_folder_globs_lists_and_folders(tmp_path: Path) -> None:
    import datasets

    datasets.Dataset.from_list(ROWS).save_to_disk(str(tmp_path / "hf"))
    kept, _ = _read(str(tmp_path / "hf"))
    assert [r["text"] for r in kept] == [r["text"] for r in ROWS]
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "b.jsonl").write_bytes(_jsonl(ROWS[3:]))
    (tmp_path / "parts" / "a.jsonl").write_bytes(_jsonl(ROWS[:3]))
    by_glob, _ = _read(str(tmp_path / "parts" / "*.jsonl"))
    by_folder, _ = _read(str(tmp_path / "parts"))
    by_list, _ = _read([str(tmp_path / "parts" / "a.jsonl"), str(tmp_path / "parts" / "b.jsonl")])
    assert by_glob == by_folder == by_list
    assert [r["id"] for r in by_glob][:4] == ["a.jsonl:0", "a.jsonl:1", "a.jsonl:2", "b.jsonl:0"]


def test_ids_are_stable_and_id_column_is_used(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(_jsonl([{"key": f"k{i}", "body": f"t{i}"} for i in range(3)]))
    first, _ = _read(str(path), text_column="body")
    again, _ = _read(str(path), text_column="body")
    assert first == again
    kept, _ = _read(str(path), text_column="body", id_column="key")
    assert [r["id"] for r in kept] == ["k0", "k1", "k2"]
    assert "key" not in kept[0] and kept[0]["text"] == "t0"


def test_duplicate_ids_are_reported_or_moved_to_the_ledger(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(
        _jsonl([{"id": "a", "text": "x"}, {"id": "b", "text": "y"}, {"id": "a", "text": "z"}])
    )
    with pytest.raises(DataError, match="duplicate id 'a'"):
        _read(str(path))
    kept, bad = _read(str(path), on_error="skip")
    assert [r["id"] for r in kept] == ["a", "b"]
    assert [(r["reason"], r["id"], r["text"]) for r in bad] == [("duplicate-id", "c.jsonl:2", "z")]


BAD_LINES = [
    (b'{"text": "ok"}\n{"text": "broken\n', "line 2: malformed JSON"),
    (b'{"text": "ok"}\n{"text": "caf\xe9"}\n', "line 2: invalid UTF-8"),
    (b'{"text": "ok"}\n{"text": null}\n', "line 2: 'text' is null"),
    (b'{"text": "ok"}\n{"text": 42}\n', "line 2: 'text' is int, expected a string"),
    (b'{"text": "ok"}\n[1, 2]\n', "line 2: not a JSON object"),
]


@pytest.mark.parametrize(("data", "message"), BAD_LINES)
def test_bad_rows_fail_with_file_and_line_or_go_to_ledger(
    tmp_path: Path, data: bytes, message: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(data)
    with pytest.raises(DataError) as err:
        _read(str(path))
    assert f"{path}:{message}" in str(err.value)
    assert "on_error: skip" in str(err.value)
    kept, bad = _read(str(path), on_error="skip")
    assert [r["text"] for r in kept] == ["ok"]
    assert len(bad) == 1 and bad[0]["reason"] == "unreadable" and bad[0]["row"] == 2
    assert bad[0]["id"] == "bad.jsonl:1" and bad[0]["file"] == str(path)


def test_missing_text_column_names_the_columns_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "c.parquet"
    pq.write_table(pa.table({"content": ["a"]}), path)
    with pytest.raises(DataError, match=r"no column 'text' \(columns: content\)") as err:
        _read(str(path))
    assert "input.text_column" in str(err.value.hint)
    kept, _ = _read(str(path), text_column="content")
    assert kept[0]["text"] == "a"


def test_non_string_text_column_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "c.parquet"
    pq.write_table(pa.table({"text": [1, 2]}), path)
    with pytest.raises(DataError, match="column 'text' is int64, not text"):
        _read(str(path))


def test_null_text_in_parquet_goes_to_ledger_with_row(tmp_path: Path) -> None:
    path = tmp_path / "c.parquet"
    pq.write_table(pa.table({"text": ["a", None, "c"]}), path)
    with pytest.raises(DataError, match=r"c\.parquet:row 1: 'text' is null"):
        _read(str(path))
    kept, bad = _read(str(path), on_error="skip")
    assert [r["text"] for r in kept] == ["a", "c"] and bad[0]["id"] == "c.parquet:1"


def test_empty_files_give_no_rows(tmp_path: Path) -> None:
    (tmp_path / "e.jsonl").write_bytes(b"")
    (tmp_path / "e.csv").write_bytes(b"")
    assert _read(str(tmp_path / "e.jsonl")) == ([], [])
    assert _read(str(tmp_path / "e.csv")) == ([], [])


def test_files_whose_schemas_disagree(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_bytes(_jsonl([{"text": "x", "url": "u"}]))
    (tmp_path / "b.jsonl").write_bytes(_jsonl([{"text": "y", "lang": "en"}]))
    with pytest.raises(DataError, match="schemas disagree") as err:
        _read(str(tmp_path / "*.jsonl"))
    assert "b.jsonl" in str(err.value) and "lang, url" in str(err.value)
    kept, _ = _read(str(tmp_path / "*.jsonl"), columns=[])
    assert [r["text"] for r in kept] == ["x", "y"]


def test_new_field_within_a_file_is_a_schema_error(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(_jsonl([{"text": "x"}]) + b'{"text": "y", "extra": 1}\n{"text": null}\n')
    with pytest.raises(DataError):
        _read(str(path), on_error="skip")


def test_csv_rows_with_wrong_field_counts(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("text,url\nhello,u1\nbroken,u2,extra\nbye,u3\n")
    with pytest.raises(DataError, match="line 3: expected 2 fields, found 3"):
        _read(str(path))
    kept, bad = _read(str(path), on_error="skip")
    assert [r["text"] for r in kept] == ["hello", "bye"] and bad[0]["row"] == 3


def test_unknown_paths_and_types(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file, folder or registry version"):
        resolve(str(tmp_path / "missing.jsonl"))
    (tmp_path / "x.docx").write_bytes(b"")
    with pytest.raises(DataError, match="unknown file type"):
        resolve(str(tmp_path / "x.docx"))


def test_hub_input_offline_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets.config
    import huggingface_hub.constants

    # Both libraries read the offline flag at import time, so set it where they look.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    with pytest.raises(DataError, match="cannot load 'nobody/nothing'") as err:
        _read("hf://datasets/nobody/nothing")
    assert "network" in str(err.value.hint)


def test_limit_counts_bad_rows_too(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(_jsonl(ROWS))
    kept, _ = _read(str(path), limit=3)
    assert len(kept) == 3


def test_open_dataset_schema_and_selected_columns(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(_jsonl(ROWS))
    ds = open_dataset(str(path))
    assert ds.schema.names == ["id", "text", "url"] and ds.run_dir is None
    batches = list(ds.iter_batches(columns=["id"]))
    assert batches[0].schema.names == ["id"] and ds.ledger_files() == []
