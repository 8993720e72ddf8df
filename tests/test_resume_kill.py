"""`curate run --resume` after a `kill -9` gives the output of an uninterrupted run.

Runs are killed in a subprocess, either at named points of the run (the ``CURATE_KILL_AT``
failpoint, which sends SIGKILL to the run itself) or after a random delay from outside.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.executor import run_recipe
from curate.recipe import load_recipe

WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "omicron",
]


def make_corpus(folder: Path, docs: int = 2400, seed: int = 0) -> Path:
    """JSONL with exact duplicates, a carried column and a few unreadable lines."""
    rng = random.Random(seed)
    texts: list[str] = []
    for i in range(docs):
        if i > 10 and rng.random() < 0.2:
            texts.append(rng.choice(texts).upper())
        else:
            texts.append(" ".join(rng.choices(WORDS, k=rng.randint(3, 40))))
    lines = []
    for i, text in enumerate(texts):
        if i % 997 == 5:
            lines.append("{not json")
        lines.append(json.dumps({"text": text, "source": f"s{i % 3}"}))
    path = folder / "in.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def write_recipe(folder: Path, corpus: Path, *, min_length: int = 60) -> Path:
    recipe = folder / "recipe.yaml"
    recipe.write_text(
        f"""name: resume-test
input: {{path: {corpus}, on_error: skip}}
stages:
  - use: normalize
  - use: dedup.exact
  - use: filter
    with: {{where: "length(text) > {min_length}"}}
output: {{path: {folder / "out"}, shard_rows: 300}}
"""
    )
    return recipe


def run_snapshot(out: Path) -> dict[str, Any]:
    """Everything a run leaves, minus timings: data, ledger, run report."""
    report = json.loads((out / "curate" / "run.json").read_text())
    report.pop("seconds")
    report.pop("created")
    for st in report["stages"]:
        st.pop("seconds")
        st.pop("cpu_seconds")
    tables = {
        str(p.relative_to(out)): pq.read_table(p).to_pylist()
        for p in sorted([*(out / "data").glob("*"), *(out / "curate" / "removed").glob("*")])
    }
    return {"report": report, "files": tables, "work": (out / ".curate-work").exists()}


def curate_cli(*args: str, kill_at: str | None = None, **kw: Any) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.pop("CURATE_KILL_AT", None)
    if kill_at:
        env["CURATE_KILL_AT"] = kill_at
    return subprocess.Popen(
        [sys.executable, "-c", "from curate.cli import main; main()", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kw,
    )


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("resume")
    recipe = write_recipe(folder, make_corpus(folder))
    run_recipe(load_recipe(recipe), output=folder / "reference")
    return recipe, run_snapshot(folder / "reference")


POINTS = [
    "after-shard:2",  # some shards of the first segment done
    "after-read",  # input read to its end, shards still running
    "global-batch:1",  # inside dedup.exact
    "after-global",  # dedup.exact done, its segment's shards not yet
    "after-shard:9",  # in the second segment
    "after-segment:2",  # every segment done
    "finalize-move:4",  # halfway through moving files into place
    "finalize-swap:2",  # data swapped in, the ledger not yet
    "before-report",
    "after-card",  # everything written but the working folder
]


@pytest.mark.slow
@pytest.mark.parametrize("point", POINTS)
def test_killed_run_resumes_to_identical_output(
    case: tuple[Path, dict[str, Any]], tmp_path: Path, point: str
) -> None:
    recipe, reference = case
    out = tmp_path / "out"
    proc = curate_cli("run", str(recipe), "-o", str(out), "--quiet", kill_at=point)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL, err.decode()
    assert (out / ".curate-work" / "state.json").exists()
    run_recipe(load_recipe(recipe), output=out, resume=True)
    assert run_snapshot(out) == reference


def to_parquet(jsonl: Path) -> Path:
    """The corpus as Parquet in small row groups (workers then read row ranges of it).

    Its unreadable lines become rows with a null text, still unreadable.
    """
    rows = []
    for line in jsonl.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            rows.append({"text": None, "source": "bad"})
    path = jsonl.with_suffix(".parquet")
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=97)
    return path


@pytest.fixture(scope="module")
def parquet_case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("resume-parquet")
    recipe = write_recipe(folder, to_parquet(make_corpus(folder)))
    run_recipe(load_recipe(recipe), output=folder / "reference")
    return recipe, run_snapshot(folder / "reference")


@pytest.mark.slow
@pytest.mark.parametrize(
    "point", ["after-shard:2", "after-read", "global-batch:1", "after-shard:12", "finalize-move:4"]
)
def test_killed_parquet_run_resumes_to_identical_output(
    parquet_case: tuple[Path, dict[str, Any]], tmp_path: Path, point: str
) -> None:
    """Input read by the workers' own read tasks: the same guarantee at the points it changes."""
    recipe, reference = parquet_case
    out = tmp_path / "out"
    proc = curate_cli("run", str(recipe), "-o", str(out), "--quiet", kill_at=point)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL, err.decode()
    run_recipe(load_recipe(recipe), output=out, resume=True, workers=2)
    assert run_snapshot(out) == reference
    assert reference["report"]["input"]["unreadable"] > 0


@pytest.mark.slow
def test_random_kills_with_workers_resume_to_identical_output(
    case: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """kill -9 of the whole process group (driver and worker processes) at random moments."""
    recipe, reference = case
    out = tmp_path / "out"
    rng = random.Random(7)
    args = ["run", str(recipe), "-o", str(out), "--quiet", "--workers", "2"]
    for attempt in range(3):
        proc = curate_cli(*args, *(["--resume"] if attempt else []), start_new_session=True)
        time.sleep(rng.uniform(0.5, 4.0))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
    proc = curate_cli(*args, "--resume")
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()
    assert run_snapshot(out) == reference
