"""Plugins: a stage package installed with pip registers through the ``curate.stages`` entry
points; its global stage gives the same files with one and two workers and on Ray; broken entry
points and columns of the wrong type are clean errors naming the culprit."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_resume_kill import run_snapshot

import curate.stages
from curate.core.example import example_source
from curate.errors import PluginError
from curate.stage import MapStage
from curate.stages import get_stage, stage_names

PYPROJECT = """[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "curate-first-line"
version = "0.1.0"

[project.entry-points."curate.stages"]
"demo.first_line" = "curate_first_line:FirstLine"
"demo.bad_type" = "curate_first_line.bad:BadType"
"""

BAD_TYPE = '''
import pyarrow as pa
from curate.stage import MapStage, set_column

class BadType(MapStage):
    """Declares an integer column and writes words into it."""

    name = "demo.bad_type"
    summary = "Writes the wrong type (test plugin)."

    def output_fields(self) -> list[pa.Field]:
        return [pa.field("n_lines", pa.int64())]

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        return set_column(batch, "n_lines", pa.array(["many"] * batch.num_rows))
'''


def _install(tmp: Path) -> Path:
    """The example of docs/stages.md as a package of its own, installed with pip to a folder."""
    src = tmp / "src"
    (src / "curate_first_line").mkdir(parents=True)
    (src / "pyproject.toml").write_text(PYPROJECT)
    (src / "curate_first_line" / "__init__.py").write_text(example_source() + "\n")
    (src / "curate_first_line" / "bad.py").write_text(BAD_TYPE)
    target = tmp / "site"
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation"),
            *("--no-index", "--quiet", "--target", str(target), str(src)),
        ],
        check=True,
        capture_output=True,
    )
    return target


@pytest.fixture(scope="module")
def plugin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    target = _install(tmp_path_factory.mktemp("plugin"))
    sys.path.insert(0, str(target))
    curate.stages._plugins.cache_clear()
    yield target
    sys.path.remove(str(target))
    curate.stages._plugins.cache_clear()


def _dist_info(folder: Path, dist: str, entry: str) -> None:
    """A distribution that declares ``entry`` in the ``curate.stages`` group, without code."""
    info = folder / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[curate.stages]\n{entry}\n")


def _corpus(folder: Path) -> Path:
    lines = [f"Title {i % 37}\n" + " ".join(["word"] * (i % 11 + 3)) for i in range(900)]
    path = folder / "in.jsonl"
    path.write_text(
        "".join(json.dumps({"id": f"d{i}", "text": t}) + "\n" for i, t in enumerate(lines))
    )
    return path


def _run(recipe: Path, out: Path, *args: str, plugin: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(plugin), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, "-m", "curate", "run", str(recipe), "-o", str(out), "--quiet", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _recipe(folder: Path, *stages: str) -> Path:
    recipe = folder / "recipe.yaml"
    body = "".join(f"  - use: {s}\n" for s in stages)
    recipe.write_text(
        f"name: plugin\ninput: {{path: {_corpus(folder)}}}\nstages:\n{body}"
        f"output: {{path: {folder / 'out'}, shard_rows: 200}}\n"
    )
    return recipe


def test_installed_plugin_is_listed_and_loads(plugin: Path) -> None:
    assert "demo.first_line" in stage_names()
    cls = get_stage("demo.first_line")
    assert cls.kind == "global" and cls.__module__ == "curate_first_line"


@pytest.mark.slow
def test_plugin_global_stage_same_with_one_two_workers_and_ray(
    plugin: Path, tmp_path: Path
) -> None:
    recipe = _recipe(tmp_path, "demo.first_line", "normalize")
    runs = [("one", "--workers", "1"), ("two", "--workers", "2")]
    if importlib.util.find_spec("ray") is not None:
        runs.append(("ray", "--executor", "ray", "--workers", "2"))
    for name, *args in runs:
        done = _run(recipe, tmp_path / name, *args, plugin=plugin)
        assert done.returncode == 0, done.stderr
    one = run_snapshot(tmp_path / "one")
    kept = [
        r
        for p in sorted((tmp_path / "one" / "data").glob("*.parquet"))
        for r in pq.read_table(p).to_pylist()
    ]
    # 37 distinct titles, the first document of each kept; every copy counted.
    assert [r["id"] for r in kept] == [f"d{i}" for i in range(37)]
    assert {r["first_line_copies"] for r in kept} == {24, 25}
    stats = one["report"]["stages"][0]
    assert stats["removed"] == 900 - 37
    for name, *_ in runs[1:]:
        assert run_snapshot(tmp_path / name) == one, name


def test_wrong_column_type_is_an_error_naming_stage_column_and_types(
    plugin: Path, tmp_path: Path
) -> None:
    done = _run(_recipe(tmp_path, "demo.bad_type"), tmp_path / "out", plugin=plugin)
    assert done.returncode == 2
    assert (
        "stage 'demo.bad_type' wrote column 'n_lines' as string, but declares int64" in done.stderr
    )
    assert "Traceback" not in done.stderr


def test_castable_column_is_cast_to_its_declared_type() -> None:
    class Small(MapStage):
        name = "test.small"
        summary = "Writes int8 where it declares int64."

        def output_fields(self) -> list[pa.Field]:
            return [pa.field("n", pa.int64())]

        def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
            return batch.append_column("n", pa.array([1] * batch.num_rows, pa.int8()))

        def reads(self) -> tuple[str, ...]:
            return ()

    out = list(Small()([pa.record_batch({"id": ["a", "b"]})]))
    assert out[0].schema.field("n").type == pa.int64() and out[0].column("n").to_pylist() == [1, 1]


def test_missing_declared_column_is_an_error() -> None:
    class Forgets(MapStage):
        name = "test.forgets"
        summary = "Declares a column it never writes."

        def output_fields(self) -> list[pa.Field]:
            return [pa.field("score", pa.float64())]

        def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
            return batch

    with pytest.raises(PluginError, match=r"'test\.forgets' declares the output column 'score'"):
        list(Forgets()([pa.record_batch({"id": ["a"]})]))


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ("broken.missing = curate_no_such_module:Stage", "does not load: ModuleNotFoundError"),
        ("broken.notstage = json:dumps", "not a subclass of curate.stage.Stage"),
        ("broken.renamed = curate.stages.filter:Filter", "declares name 'filter'"),
    ],
)
def test_broken_entry_point_names_distribution_and_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entry: str, says: str
) -> None:
    _dist_info(tmp_path, "curate-broken-plugin", entry)
    monkeypatch.syspath_prepend(str(tmp_path))
    curate.stages._plugins.cache_clear()
    try:
        name = entry.split(" = ")[0]
        with pytest.raises(PluginError) as err:
            get_stage(name)
        assert "curate-broken-plugin" in err.value.message and name in err.value.message
        assert says in err.value.message and err.value.hint
    finally:
        monkeypatch.undo()
        curate.stages._plugins.cache_clear()


def test_cli_reports_a_broken_plugin_in_one_line(tmp_path: Path) -> None:
    _dist_info(
        tmp_path / "site", "curate-broken-plugin", "broken.missing = curate_no_such_module:X"
    )
    recipe = tmp_path / "recipe.yaml"
    corpus = tmp_path / "in.jsonl"
    corpus.write_text('{"id": "a", "text": "x"}\n')
    recipe.write_text(
        f"name: b\ninput: {{path: {corpus}}}\nstages:\n  - use: broken.missing\n"
        f"output: {{path: {tmp_path / 'out'}}}\n"
    )
    done = _run(recipe, tmp_path / "out", plugin=tmp_path / "site")
    assert done.returncode == 2, done.stderr
    assert "curate-broken-plugin" in done.stderr and "Traceback" not in done.stderr
