"""Output folders given as URLs: ``file://`` is local, others are staged and uploaded."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from curate.executor import run_recipe
from curate.recipe import parse_recipe


def _recipe(tmp_path: Path) -> dict[str, object]:
    corpus = tmp_path / "in.jsonl"
    corpus.write_text("".join(json.dumps({"text": f"text number {i}"}) + "\n" for i in range(30)))
    return {
        "name": "url-output",
        "input": {"path": str(corpus)},
        "stages": [{"use": "filter", "with": {"where": "length(text) > 13"}}],
        "output": {"path": str(tmp_path / "unused"), "shard_rows": 8},
    }


def test_file_url_is_a_local_folder(tmp_path: Path) -> None:
    report = run_recipe(parse_recipe(_recipe(tmp_path)), output=f"file://{tmp_path / 'out'}")
    assert report["rows_out"] == 20
    assert len(list((tmp_path / "out" / "data").glob("*.parquet"))) == 3


def test_url_output_is_uploaded_complete(tmp_path: Path) -> None:
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    # A previous run's output: its report names the data file the new run replaces.
    fs.pipe("/bucket/out/data/train-00000-of-00009.parquet", b"stale")
    fs.pipe(
        "/bucket/out/curate/run.json",
        json.dumps({"output": {"data": ["train-00000-of-00009.parquet"], "removed": []}}).encode(),
    )
    fs.pipe("/bucket/out/data/notes.txt", b"not curate's")
    report = run_recipe(parse_recipe(_recipe(tmp_path)), output="memory://bucket/out")
    names = sorted(p.removeprefix("/bucket/out/") for p in fs.find("/bucket/out"))
    assert fs.cat("/bucket/out/data/notes.txt") == b"not curate's"
    names.remove("data/notes.txt")
    assert names == [
        "README.md",
        *[n for n in names if n.startswith("croissant")],
        "curate/removed/00000-seg0-shard-00000.parquet",
        "curate/removed/00001-seg0-shard-00001.parquet",
        "curate/run.json",
        "data/train-00000-of-00003.parquet",
        "data/train-00001-of-00003.parquet",
        "data/train-00002-of-00003.parquet",
    ]
    kept = sum(
        pq.read_table(io.BytesIO(fs.cat(f"/bucket/out/data/{n}"))).num_rows
        for n in report["output"]["data"]
    )
    assert kept == report["rows_out"] == 20
    assert json.loads(fs.cat("/bucket/out/curate/run.json"))["rows_in"] == 30
    # The local staging folder (in the cache) is gone once the upload is complete.
    staging = Path(os.environ["CURATE_CACHE"]) / "staging"
    assert staging.is_dir() and not any(staging.iterdir())


def test_missing_driver_for_the_output_fails_before_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not hours later at the upload: nothing is read or written first."""
    from fsspec.registry import _registry

    from curate.errors import MissingDependencyError

    monkeypatch.delitem(_registry, "s3", raising=False)
    monkeypatch.setitem(sys.modules, "s3fs", None)
    monkeypatch.setenv("CURATE_CACHE", str(tmp_path / "cache"))
    with pytest.raises(MissingDependencyError) as err:
        run_recipe(parse_recipe(_recipe(tmp_path)), output="s3://bucket/out")
    assert err.value.hint == "pip install s3fs"
    assert not (tmp_path / "cache" / "staging").exists()


def test_url_holding_other_files_is_refused_without_overwrite(tmp_path: Path) -> None:
    fsspec = pytest.importorskip("fsspec")
    from curate.errors import DataError

    fs = fsspec.filesystem("memory")
    fs.pipe("/bucket/mine/thesis.tex", b"chapter 1")
    with pytest.raises(DataError, match="not a curate output"):
        run_recipe(parse_recipe(_recipe(tmp_path)), output="memory://bucket/mine")
    assert fs.find("/bucket/mine") == ["/bucket/mine/thesis.tex"]
    run_recipe(parse_recipe(_recipe(tmp_path)), output="memory://bucket/mine", overwrite=True)
    assert fs.cat("/bucket/mine/thesis.tex") == b"chapter 1"
    assert fs.exists("/bucket/mine/curate/run.json")


def test_url_output_overlapping_a_url_input_is_refused(tmp_path: Path) -> None:
    fsspec = pytest.importorskip("fsspec")
    from curate.errors import DataError

    fs = fsspec.filesystem("memory")
    fs.pipe("/lake/raw/part-0.jsonl", b'{"text": "hello there"}\n')
    recipe = parse_recipe(_recipe(tmp_path))
    for given, out, how in [
        ("memory://lake/raw", "memory://lake/raw", "is the input memory://lake/raw"),
        (
            "memory://lake/raw/part-0.jsonl",
            "memory://lake/raw",
            "contains the input memory://lake/raw/part-0.jsonl",
        ),
        ("memory://lake/raw", "memory://lake/raw/curated", "lies inside the input"),
    ]:
        with pytest.raises(DataError, match=f"output folder {out} {how}"):
            run_recipe(recipe, inputs=[given], output=out)
    assert fs.find("/lake") == ["/lake/raw/part-0.jsonl"]
