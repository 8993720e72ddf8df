"""Hostile and careless inputs: every row is kept or in the ledger, every bad file is exit 2.

Each case runs `curate run` on a small file made here (provenance: written by the test) and
asserts the exit code, the message naming the file and line or row, and the accounting: the
input's ids are the kept ids plus the ledger's, each once.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import datasets
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from curate.cli import main
from curate.errors import DataError
from curate.io.sources import resolve
from curate.ledger import read_ledger

GOOD = [{"text": f"document {i}", "n": i} for i in range(5)]


def jsonl(rows: list[object]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def invoke(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


def recipe(tmp_path: Path, path: object, **inp: object) -> Path:
    out = tmp_path / "recipe.yaml"
    out.write_text(
        yaml.safe_dump(
            {
                "name": "hostile",
                "input": {"path": path, **inp},
                "output": {"path": str(tmp_path / "out")},
            }
        )
    )
    return out


def result(tmp_path: Path) -> tuple[list[str], pl.DataFrame]:
    kept = pl.read_parquet(tmp_path / "out" / "data" / "*.parquet")["id"].to_list()
    ledger_dir = tmp_path / "out" / "curate" / "removed"
    ledger = read_ledger(tmp_path / "out") if any(ledger_dir.glob("*.parquet")) else pl.DataFrame()
    return kept, ledger


def run_ok(
    tmp_path: Path, path: Path, capsys: pytest.CaptureFixture[str], **inp: object
) -> tuple[list[str], pl.DataFrame]:
    code, err = invoke(["run", str(recipe(tmp_path, str(path), **inp))], capsys)
    assert code == 0, err
    return result(tmp_path)


def run_fails(tmp_path: Path, path: Path, capsys: pytest.CaptureFixture[str], **inp: object) -> str:
    code, err = invoke(["run", str(recipe(tmp_path, str(path), **inp))], capsys)
    assert code == 2, err
    assert "Traceback" not in err
    assert not (tmp_path / "out" / "data").exists()
    return err


DEEP_5000 = '{"text": "deep", "x": ' + "[" * 5000 + "]" * 5000 + "}"


def _nested(depth: int) -> str:
    return '{"text": "deep", "x": ' + '{"y": ' * depth + "1" + "}" * depth + "}"


def test_json_nested_5000_deep_is_a_ledger_row_not_a_segfault(tmp_path: Path) -> None:
    # In a child process: a regression would kill it, not the test session.
    data = tmp_path / "in.jsonl"
    data.write_text(jsonl(GOOD[:2]) + DEEP_5000 + "\n" + jsonl(GOOD[2:]))
    cmd = [sys.executable, "-m", "curate", "run", str(recipe(tmp_path, str(data), on_error="skip"))]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    kept, ledger = result(tmp_path)
    assert len(kept) == 5
    assert ledger["id"].to_list() == ["in.jsonl:2"]
    assert "nested 5001 deep, more than the 20 accepted" in ledger["detail"][0]
    done = subprocess.run(
        [sys.executable, "-m", "curate", "run", str(recipe(tmp_path, str(data)))],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2
    assert f"{data}:line 3: nested 5001 deep" in done.stderr


def test_json_nested_50_deep_goes_to_the_ledger_and_the_output_reads_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "in.jsonl"
    data.write_text(_nested(3) + "\n" + _nested(50) + "\n" + _nested(3) + "\n")
    kept, ledger = run_ok(tmp_path, data, capsys, on_error="skip")
    assert kept == ["in.jsonl:0", "in.jsonl:2"]
    assert ledger["id"].to_list() == ["in.jsonl:1"]
    assert pq.read_table(next((tmp_path / "out" / "data").glob("*.parquet"))).num_rows == 2


def test_brackets_inside_strings_are_not_nesting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "in.jsonl"
    data.write_text(jsonl([{"text": "[{" * 100 + "]" * 300}, {"text": "ok"}]))
    kept, ledger = run_ok(tmp_path, data, capsys)
    assert kept == ["in.jsonl:0", "in.jsonl:1"] and ledger.is_empty()


def test_lone_surrogate_is_unreadable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "in.jsonl"
    data.write_text('{"text": "ok"}\n{"text": "bad \\ud800 x"}\n{"text": "fine \\ud83d\\ude00"}\n')
    err = run_fails(tmp_path, data, capsys)
    assert f"{data}:line 2: a string holds a lone surrogate" in err
    kept, ledger = run_ok(tmp_path, data, capsys, on_error="skip")
    assert kept == ["in.jsonl:0", "in.jsonl:2"]
    assert ledger["reason"].to_list() == ["unreadable"]


def test_documents_longer_than_max_chars_go_to_the_ledger_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "in.jsonl"
    long = "x" * 5000
    data.write_text(jsonl([{"text": "short"}, {"text": long}, {"text": "short too"}]))
    kept, ledger = run_ok(tmp_path, data, capsys, max_chars=1000)
    assert kept == ["in.jsonl:0", "in.jsonl:2"]
    assert ledger.select("id", "reason", "text").rows() == [("in.jsonl:1", "too-long", long)]
    assert "5,000 characters, more than input.max_chars (1,000)" in ledger["detail"][0]


def test_max_chars_has_a_default(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from curate.io.guards import DEFAULT_MAX_CHARS

    data = tmp_path / "in.parquet"
    pq.write_table(pa.table({"text": ["a", "b" * (DEFAULT_MAX_CHARS + 1)]}), data)
    kept, ledger = run_ok(tmp_path, data, capsys)
    assert kept == ["in.parquet:0"]
    assert ledger["reason"].to_list() == ["too-long"]


def test_truncated_gzip_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    whole = gzip.compress(jsonl([{"text": f"doc {i}"} for i in range(3000)]).encode())
    data = tmp_path / "in.jsonl.gz"
    data.write_bytes(whole[: len(whole) // 2])
    err = run_fails(tmp_path, data, capsys, on_error="skip")
    assert f"{data}: damaged" in err and "truncated or corrupt" in err


def test_plain_text_named_gz_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "in.jsonl.gz"
    data.write_text(jsonl(GOOD))
    err = run_fails(tmp_path, data, capsys, on_error="skip")
    assert f"{data}: named .gz but not gzip data" in err
    assert "rename it without .gz" in err


def test_corrupt_parquet_page_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "in.parquet"
    texts = [f"document number {i} " * 20 for i in range(5000)]
    pq.write_table(pa.table({"text": texts}), data, compression="snappy", row_group_size=1000)
    raw = bytearray(data.read_bytes())
    third = len(raw) // 3
    raw[third : third + 2000] = b"A" * 2000
    data.write_bytes(bytes(raw))
    err = run_fails(tmp_path, data, capsys, on_error="skip")
    assert f"{data}: damaged" in err


def test_a_field_changing_type_in_the_first_chunk(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "in.jsonl"
    data.write_text('{"text": "a", "n": 1}\n{"text": "b", "n": "two"}\n{"text": "c", "n": 3}\n')
    err = run_fails(tmp_path, data, capsys)
    assert f"{data}:line 2: a field changes type" in err
    kept, ledger = run_ok(tmp_path, data, capsys, on_error="skip")
    assert kept == ["in.jsonl:0", "in.jsonl:2"]
    assert ledger["id"].to_list() == ["in.jsonl:1"]
    out = pq.read_table(next((tmp_path / "out" / "data").glob("*.parquet")))
    assert out.column("n").to_pylist() == [1, 3]


def test_csv_invalid_utf8_under_skip_keeps_the_rest_of_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "in.csv"
    data.write_bytes(b"text,n\nok,1\nbad \xff\xfe,2\nlater,3\nlast,4\n")
    err = run_fails(tmp_path, data, capsys)
    assert f"{data}:row 1: invalid UTF-8 in 'text'" in err
    kept, ledger = run_ok(tmp_path, data, capsys, on_error="skip")
    assert kept == ["in.csv:0", "in.csv:2", "in.csv:3"]
    assert ledger["id"].to_list() == ["in.csv:1"]


def test_parquet_text_of_invalid_utf8_is_unreadable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Parquet does not validate strings on write or read: build such a file by hand.
    offsets = pa.array([0, 2, 7, 10], pa.int32()).buffers()[1]
    text = pa.Array.from_buffers(pa.string(), 3, [None, offsets, pa.py_buffer(b"okbad\xff\xfeend")])
    data = tmp_path / "in.parquet"
    pq.write_table(pa.table({"text": text}), data)
    err = run_fails(tmp_path, data, capsys)
    assert f"{data}:row 1: invalid UTF-8 in 'text'" in err
    kept, ledger = run_ok(tmp_path, data, capsys, on_error="skip")
    assert kept == ["in.parquet:0", "in.parquet:2"]
    assert ledger.select("id", "text").rows() == [("in.parquet:1", "bad\ufffd\ufffd")]


def test_invalid_utf8_recipe_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "r.yaml"
    path.write_bytes(b"name: r\ndescription: caf\xe9\ninput: {path: x}\noutput: {path: o}\n")
    code, err = invoke(["check", str(path)], capsys)
    assert code == 2
    assert f"{path}:2: not UTF-8 text (byte 0xe9" in err


def test_sources_are_read_once_by_real_path(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.jsonl").write_text(jsonl(GOOD))
    (folder / "sub" / "link.jsonl").symlink_to("a.jsonl")
    (folder / "sub" / "loop").symlink_to("..")
    a = str(folder / "sub" / "a.jsonl")
    assert [s.name for s in resolve([a, a]).sources] == ["a.jsonl"]
    assert [s.name for s in resolve(str(folder)).sources] == ["a.jsonl"]
    found = resolve(str(folder / "**" / "*.jsonl")).sources
    assert [s.path for s in found] == [a]


def test_duplicate_listing_gives_distinct_ids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "in.jsonl"
    data.write_text(jsonl(GOOD))
    (tmp_path / "again.jsonl").symlink_to(data)
    code, err = invoke(
        ["run", str(recipe(tmp_path, [str(data), str(data), str(tmp_path / "again.jsonl")]))],
        capsys,
    )
    assert code == 0, err
    kept, _ = result(tmp_path)
    assert sorted(kept) == [f"in.jsonl:{i}" for i in range(5)]


def test_text_column_typo_in_jsonl_is_an_error_even_with_skip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "in.jsonl"
    data.write_text(jsonl(GOOD))
    err = run_fails(tmp_path, data, capsys, text_column="txt", on_error="skip")
    assert f"{data}: no record of the first 5 lines has a field 'txt'" in err
    assert "fields: 'text', 'n'" in err


def test_a_record_missing_the_text_among_good_ones_is_a_row_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "in.jsonl"
    data.write_text(jsonl([*GOOD[:2], {"body": "x"}, *GOOD[2:]]))
    kept, ledger = run_ok(tmp_path, data, capsys, on_error="skip")
    assert len(kept) == 5 and ledger["id"].to_list() == ["in.jsonl:2"]
    assert "'text' is missing" in ledger["detail"][0]


def test_limit_is_a_prefix_and_bad_rows_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "in.jsonl"
    lines = [json.dumps({"text": f"doc {i}"}) if i % 7 else "{broken" for i in range(100)]
    data.write_text("\n".join(lines) + "\n")
    path = recipe(tmp_path, str(data), on_error="skip")
    code, err = invoke(["run", str(path), "--limit", "30"], capsys)
    assert code == 0, err
    kept, ledger = result(tmp_path)
    assert sorted(kept + ledger["id"].to_list(), key=lambda i: int(i.split(":")[1])) == [
        f"in.jsonl:{i}" for i in range(30)
    ]
    assert ledger["id"].to_list() == [f"in.jsonl:{i}" for i in range(0, 30, 7)]


def test_dataset_dict_folder_reads_a_chosen_split(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "dd"
    datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict({"text": ["a", "b", "c"]}),
            "test": datasets.Dataset.from_dict({"text": ["t"]}),
        }
    ).save_to_disk(str(folder))
    # Without a choice every split is read and carried (tests/test_splits_output.py).
    code, err = invoke(["check", str(recipe(tmp_path, str(folder)))], capsys)
    assert code == 0 and "dataset_dict.json" not in err
    err = run_fails(tmp_path, folder, capsys, split="dev")
    assert "no split 'dev' (splits: train, test)" in err
    code, err = invoke(["run", str(recipe(tmp_path, str(folder), split="test"))], capsys)
    assert code == 0, err
    out = pq.read_table(next((tmp_path / "out" / "data").glob("*.parquet")))
    assert out.column("text").to_pylist() == ["t"]


def test_multi_split_file_layout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "ds" / "data"
    data.mkdir(parents=True)
    for name in ("train-00000-of-00002", "train-00001-of-00002", "test-00000-of-00001"):
        pq.write_table(pa.table({"text": [name]}), data / f"{name}.parquet")
    with pytest.raises(DataError, match=r"holds several splits \(test, train\)"):
        resolve(str(tmp_path / "ds"))
    names = [s.name for s in resolve(str(tmp_path / "ds"), split="train").sources]
    assert names == ["train-00000-of-00002.parquet", "train-00001-of-00002.parquet"]
    names = [s.name for s in resolve(str(data / "*.parquet"), split="test").sources]
    assert names == ["test-00000-of-00001.parquet"]
    with pytest.raises(DataError, match="no file name there names a split"):
        resolve(str(_plain(tmp_path)), split="train")


def _plain(tmp_path: Path) -> Path:
    folder = tmp_path / "plain"
    folder.mkdir()
    pq.write_table(pa.table({"text": ["a"]}), folder / "part-0.parquet")
    return folder


def test_csv_unnamed_index_column_is_named_index(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "in.csv"
    data.write_text(",text\n0,a\n1,b\n")
    run_ok(tmp_path, data, capsys)
    out = pq.read_table(next((tmp_path / "out" / "data").glob("*.parquet")))
    assert out.column_names[:3] == ["id", "text", "index"]
    assert out.column("index").to_pylist() == [0, 1]
    assert "" not in out.column_names


@pytest.mark.skipif(os.name == "nt", reason="symlinks")
def test_symlink_to_a_file_in_the_folder_is_read_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl").write_text(jsonl(GOOD))
    (folder / "b.jsonl").symlink_to(folder / "a.jsonl")
    kept, ledger = run_ok(tmp_path, folder, capsys)
    assert sorted(kept) == [f"a.jsonl:{i}" for i in range(5)] and ledger.is_empty()


def test_closing_brackets_in_strings_cannot_hide_deep_nesting() -> None:
    from curate.io import guards

    hidden = b'{"a": "' + b"]" * 100 + b'", "x": ' + b"[" * 50 + b"]" * 50 + b"}\n"
    assert guards.too_deep(hidden)
    assert guards.line_depths(hidden) == [51]
    escaped = b'{"a": "\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "x": [1]}\n'
    assert not guards.too_deep(escaped)


def test_a_line_longer_than_a_read_block(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from curate.io.jsonl import CHUNK_BYTES

    data = tmp_path / "in.jsonl"
    long = "w" * (CHUNK_BYTES + 17)
    data.write_text(jsonl([{"text": "a"}, {"text": long}, {"text": "b"}]))
    kept, ledger = run_ok(tmp_path, data, capsys)
    assert kept == ["in.jsonl:0", "in.jsonl:1", "in.jsonl:2"] and ledger.is_empty()
    kept, ledger = run_ok(tmp_path, data, capsys, max_chars=CHUNK_BYTES)
    assert kept == ["in.jsonl:0", "in.jsonl:2"]
    assert ledger["text"].to_list() == [long]
