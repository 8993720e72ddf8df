"""Inputs given as URLs: listed and read through fsspec, here its in-process ``memory://``."""

from __future__ import annotations

import bz2
import gzip
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest
import zstandard

from curate.audit.scan import column_names, read_batches
from curate.cli import main
from curate.errors import DataError, MissingDependencyError, RecipeError
from curate.executor import run_recipe
from curate.executor.state import RunState, describe_changes, run_key
from curate.io.dataset import open_dataset
from curate.io.reader import InputReader
from curate.io.sources import resolve
from curate.recipe import parse_recipe

fsspec = pytest.importorskip("fsspec")

TEXTS = [f"document number {i}" for i in range(25)]
JSONL = "".join(json.dumps({"text": t, "n": i}) + "\n" for i, t in enumerate(TEXTS)).encode()


@pytest.fixture
def memfs() -> Iterator[Any]:
    """fsspec's memory file system, empty before and after the test (its store is global)."""
    fs = fsspec.filesystem("memory")
    fs.store.clear()
    fs.pseudo_dirs[:] = [""]
    yield fs
    fs.store.clear()
    fs.pseudo_dirs[:] = [""]


def _names(spec: str | list[str]) -> list[tuple[str, str]]:
    return [(s.path, s.name) for s in resolve(spec).sources]


def test_folders_globs_and_files_resolve_like_local_ones(memfs: Any, tmp_path: Path) -> None:
    tree = {
        "web/a.jsonl": JSONL,
        "web/sub/b.jsonl.gz": gzip.compress(JSONL),
        "web-2/c.jsonl": JSONL,
        "web/_SUCCESS.jsonl": b"",
        "web/.hidden.jsonl": b"",
        "web/notes.txt": b"not data",
    }
    for rel, data in tree.items():
        memfs.pipe(f"/bucket/{rel}", data)
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    for spec in ("web", "web/", "*/*.jsonl", "web/a.jsonl", "web/sub"):
        remote = _names(f"memory://bucket/{spec}")
        local = _names(str(tmp_path / spec))
        assert [name for _, name in remote] == [name for _, name in local], spec
        assert [path for path, _ in remote] == [
            "memory://bucket/" + Path(p).relative_to(tmp_path).as_posix() for p, _ in local
        ]
    assert _names("memory://bucket/web") == [
        ("memory://bucket/web/a.jsonl", "a.jsonl"),
        ("memory://bucket/web/sub/b.jsonl.gz", "sub/b.jsonl.gz"),
    ]
    both = _names(["memory://bucket/web/a.jsonl", "memory://bucket/web-2/c.jsonl"])
    assert [name for _, name in both] == ["web/a.jsonl", "web-2/c.jsonl"]
    assert resolve(f"file://{tmp_path / 'web'}").sources == resolve(str(tmp_path / "web")).sources


def test_a_run_output_on_a_url_gives_its_data(memfs: Any) -> None:
    buf = pa.BufferOutputStream()
    pq.write_table(pa.table({"id": ["x"], "text": ["kept"]}), buf)
    memfs.pipe("/bucket/run/data/train-00000-of-00001.parquet", buf.getvalue().to_pybytes())
    memfs.pipe("/bucket/run/curate/removed/00000.parquet", buf.getvalue().to_pybytes())
    memfs.pipe("/bucket/run/curate/run.json", b"{}")
    resolved = resolve("memory://bucket/run")
    assert [s.path for s in resolved.sources] == [
        "memory://bucket/run/data/train-00000-of-00001.parquet"
    ]
    assert resolved.run_dir is None
    dataset = open_dataset("memory://bucket/run")
    assert column_names(dataset) == ["text", "id"]
    assert [b.to_pylist() for b in read_batches(dataset, ["id"])] == [[{"id": "x"}]]


def test_the_audit_reads_a_url(memfs: Any, tmp_path: Path) -> None:
    from curate.audit import audit_dataset

    buf = pa.BufferOutputStream()
    pq.write_table(pa.table({"text": TEXTS}), buf)
    memfs.pipe("/bucket/corpus/part-0.parquet", buf.getvalue().to_pybytes())
    report = audit_dataset("memory://bucket/corpus/", out_dir=tmp_path, sections=["composition"])
    assert report["documents"] == len(TEXTS)


def _write_inputs(folder: Path) -> list[str]:
    """The same 25 documents in every format curate reads; returns the file names."""
    folder.mkdir()
    table = pa.table({"text": TEXTS, "n": list(range(25))})
    pq.write_table(table, folder / "a.parquet", row_group_size=10)
    with ipc.new_file(folder / "b.arrow", table.schema) as writer:
        writer.write_table(table, max_chunksize=7)
    with ipc.new_stream(folder / "c.arrow", table.schema) as stream:
        stream.write_table(table)
    pcsv.write_csv(table, folder / "d.csv")
    pcsv.write_csv(table, folder / "e.tsv", pcsv.WriteOptions(delimiter="\t"))
    (folder / "f.jsonl").write_bytes(JSONL)
    (folder / "g.jsonl.gz").write_bytes(gzip.compress(JSONL))
    (folder / "h.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(JSONL))
    (folder / "i.jsonl.bz2").write_bytes(bz2.compress(JSONL))
    return sorted(p.name for p in folder.iterdir())


def _rows(spec: str) -> list[dict[str, Any]]:
    reader = InputReader(resolve(spec).sources)
    return [row for read in reader for row in read.kept.to_pylist()]


def test_every_format_reads_the_same_from_a_url(memfs: Any, tmp_path: Path) -> None:
    names = _write_inputs(tmp_path / "in")
    assert len(names) == 9
    memfs.put(f"{tmp_path / 'in'}/", "/bucket/in", recursive=True)
    for name in names:
        local = _rows(str(tmp_path / "in" / name))
        remote = _rows(f"memory://bucket/in/{name}")
        assert remote == local, name
        assert [r["text"] for r in remote] == TEXTS
        assert remote[3]["id"] == f"{name}:3"
    assert _rows("memory://bucket/in") == _rows(str(tmp_path / "in"))


def _recipe(spec: str, out: Path) -> dict[str, Any]:
    return {
        "name": "url-input",
        "input": {"path": spec},
        "stages": [{"use": "filter", "with": {"where": "length(text) > 17"}}],
        "output": {"path": str(out), "shard_rows": 8},
    }


def _kept(out: Path) -> list[dict[str, Any]]:
    return pq.read_table(out / "data", columns=["id", "text"]).sort_by("id").to_pylist()


def test_a_run_reads_a_url_input_like_the_local_file(memfs: Any, tmp_path: Path) -> None:
    local_in = tmp_path / "in.jsonl"
    local_in.write_bytes(JSONL)
    memfs.pipe("/bucket/in.jsonl", JSONL)
    local = run_recipe(parse_recipe(_recipe(str(local_in), tmp_path / "local")))
    remote = run_recipe(parse_recipe(_recipe("memory://bucket/in.jsonl", tmp_path / "remote")))
    assert remote["rows_out"] == local["rows_out"] == 15
    assert _kept(tmp_path / "remote") == _kept(tmp_path / "local")
    assert remote["input"]["paths"] == ["memory://bucket/in.jsonl"]
    # Same name, size and content: the same input fingerprint, wherever the file lives.
    assert remote["input"]["fingerprint"] == local["input"]["fingerprint"]


def test_resume_refuses_when_the_remote_input_changed(memfs: Any, tmp_path: Path) -> None:
    url = "memory://bucket/in.jsonl"
    memfs.pipe("/bucket/in.jsonl", JSONL)
    out = tmp_path / "out"
    recipe = parse_recipe(_recipe(url, out))
    key = run_key(recipe.resolved(), resolve(url).sources, None)
    assert {"bytes", "mtime", "digest"} <= set(key["input"][0])
    assert describe_changes(key, run_key(recipe.resolved(), resolve(url).sources, None)) == []
    state = RunState.open(out / ".curate-work", key, resume=False, force=False)
    state.mark("shard-seg0-00000", {"files": []})
    # Same size, other content.
    memfs.pipe("/bucket/in.jsonl", JSONL.replace(b'number 1"', b'number X"'))
    with pytest.raises(RecipeError, match=f"input file {url}: modified since the interrupted run"):
        run_recipe(parse_recipe(_recipe(url, out)), resume=True)
    memfs.pipe("/bucket/in.jsonl", JSONL + JSONL[:40])
    size = f"size {len(JSONL)} -> {len(JSONL) + 40} bytes"
    with pytest.raises(RecipeError, match=f"input file {url}: {size}"):
        run_recipe(parse_recipe(_recipe(url, out)), resume=True)


def test_a_missing_url_is_a_data_error_naming_it(memfs: Any) -> None:
    memfs.pipe("/bucket/empty/notes.txt", b"")
    for spec in ("memory://bucket/none.jsonl", "memory://bucket/*.parquet"):
        with pytest.raises(DataError, match=f"^{spec.replace('*', '[*]')}: no such file"):
            resolve(spec)
    with pytest.raises(DataError, match="memory://bucket/empty: folder holds no readable"):
        resolve("memory://bucket/empty")


def test_a_missing_driver_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    from fsspec.registry import _registry

    # As if s3fs were not installed, whatever this machine has.
    monkeypatch.delitem(_registry, "s3", raising=False)
    monkeypatch.setitem(sys.modules, "s3fs", None)
    with pytest.raises(MissingDependencyError, match=re.escape("s3://bucket/in.jsonl")) as err:
        resolve("s3://bucket/in.jsonl")
    assert err.value.hint == "pip install s3fs"
    with pytest.raises(MissingDependencyError) as err:
        resolve("nosuchscheme://bucket/in.jsonl")
    assert "install the fsspec driver" in (err.value.hint or "")


def test_commands_that_need_local_files_say_so(capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["card", "s3://bucket/run"], ["publish", "s3://bucket/x", "web"]):
        with pytest.raises(SystemExit) as exit_:
            main(args)
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert f"error: {args[1]}: curate {args[0]} reads local files, not a URL" in err
        assert "hint: " in err
