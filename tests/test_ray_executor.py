"""`--executor ray` gives the local executor's output: same files, kept ids, ledger and report.

One local two-CPU Ray session serves the whole module; skip with ``-m 'not ray'``.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_resume_kill import WORDS, make_corpus, run_snapshot, to_parquet, write_recipe

from curate.errors import MissingDependencyError
from curate.executor import run_recipe
from curate.recipe import load_recipe

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def ray_session() -> Iterator[None]:
    ray = pytest.importorskip("ray")
    from curate.executor.ray import connect

    started = connect(None, 2)
    yield
    if started:
        ray.shutdown()


@pytest.mark.ray
@pytest.mark.slow
def test_quickstart_same_both_ways(
    ray_session: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lid_model: Path
) -> None:
    """Every kind of built-in stage, global and map, with several shards per segment."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("CURATE_LID_MODEL", str(lid_model))
    recipe = load_recipe(ROOT / "recipes" / "quickstart.yaml")
    uses = {s.use for s in recipe.stages}
    assert {"dedup.exact", "dedup.paragraphs", "dedup.minhash", "filter"} <= uses
    local = run_recipe(recipe, output=tmp_path / "local", workers=2)
    ray = run_recipe(recipe, output=tmp_path / "ray", executor="ray", workers=2)
    assert ray["rows_out"] == local["rows_out"] > 0
    assert run_snapshot(tmp_path / "ray") == run_snapshot(tmp_path / "local")


@pytest.mark.ray
@pytest.mark.slow
def test_ray_resumes_a_killed_local_run(ray_session: None, tmp_path: Path) -> None:
    """Both executors keep the same progress records, so either finishes the other's run."""
    recipe = write_recipe(tmp_path, make_corpus(tmp_path, docs=1500))
    run_recipe(load_recipe(recipe), output=tmp_path / "reference")
    out = tmp_path / "out"
    cli = [sys.executable, "-c", "from curate.cli import main; main()"]
    proc = subprocess.run(
        [*cli, "run", str(recipe), "-o", str(out), "--quiet"],
        env={**os.environ, "CURATE_KILL_AT": "after-shard:5"},
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    run_recipe(load_recipe(recipe), output=out, executor="ray", workers=2, resume=True)
    assert run_snapshot(out) == run_snapshot(tmp_path / "reference")


@pytest.mark.ray
@pytest.mark.slow
def test_parquet_read_tasks_same_on_ray_and_resumable_across_backends(
    ray_session: None, tmp_path: Path
) -> None:
    """Ray actors read their own Parquet row ranges: the local executor's files exactly, and
    a local run killed after some shards finishes on Ray."""
    recipe = write_recipe(tmp_path, to_parquet(make_corpus(tmp_path, docs=1500)))
    run_recipe(load_recipe(recipe), output=tmp_path / "local", workers=2)
    run_recipe(load_recipe(recipe), output=tmp_path / "ray", executor="ray", workers=2)
    assert run_snapshot(tmp_path / "ray") == run_snapshot(tmp_path / "local")
    out = tmp_path / "out"
    cli = [sys.executable, "-c", "from curate.cli import main; main()"]
    proc = subprocess.run(
        [*cli, "run", str(recipe), "-o", str(out), "--quiet"],
        env={**os.environ, "CURATE_KILL_AT": "after-shard:2"},
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    run_recipe(load_recipe(recipe), output=out, executor="ray", workers=2, resume=True)
    assert run_snapshot(out) == run_snapshot(tmp_path / "local")


def test_without_ray_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from curate.executor.ray import RayExecutor

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a)
    )
    with pytest.raises(MissingDependencyError) as err:
        RayExecutor(workers=2)
    assert "llmos-curate[ray]" in (err.value.hint or "")


def test_connect_joins_the_given_cluster_or_starts_a_quiet_local_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ray = pytest.importorskip("ray")
    from curate.executor.ray import connect

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda **kw: calls.append(kw))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.delenv("RAY_USAGE_STATS_ENABLED", raising=False)
    assert connect(None, 3)
    assert calls[-1]["num_cpus"] == 3 and calls[-1]["include_dashboard"] is False
    assert calls[-1]["log_to_driver"] is False
    assert os.environ["RAY_USAGE_STATS_ENABLED"] == "0"
    monkeypatch.setenv("RAY_ADDRESS", "ray://head:10001")
    connect(None, 3)
    assert calls[-1]["address"] == "ray://head:10001" and "num_cpus" not in calls[-1]
    connect("10.0.0.1:6379", 3)
    assert calls[-1]["address"] == "10.0.0.1:6379"


@pytest.mark.ray
def test_task_pool_runs_tasks_on_ray_in_submission_order(ray_session: None) -> None:
    from functools import partial

    from curate.executor.ray_pool import RayTaskPool

    with RayTaskPool(2) as pool:
        for base in (2, 3, 5):
            pool.submit(partial(pow, base, 3))
        assert pool.results() == [8, 27, 125]
        pool.submit(partial(divmod, 1, 0))
        with pytest.raises(ZeroDivisionError):
            pool.results()


@pytest.mark.ray
@pytest.mark.slow
def test_dedup_on_ray_tasks_gives_the_same_clusters(ray_session: None, tmp_path: Path) -> None:
    """Global stages over several parts: per-part work, grouping and applying as Ray tasks."""
    rng = random.Random(3)
    texts: list[str] = []
    for i in range(1200):
        story = " ".join(rng.choices(WORDS, k=rng.randint(20, 40)))
        if i % 10 == 0:
            # Raw texts differ (dedup.exact compares them raw), paragraphs do not.
            texts.append("Accept cookies\n\nShare this page" + " " * (i // 10))
        elif i % 7 == 0:
            texts.append(texts[-1])
        elif i % 5 == 0:
            words = texts[-1].split(" ")
            texts.append(" ".join([*words[:-1], "changed"]))
        else:
            texts.append(f"{story}\n\nAccept cookies")
    corpus = tmp_path / "in.jsonl"
    corpus.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        f"""name: ray-pool
input: {{path: {corpus}, on_error: skip}}
stages:
  - use: dedup.exact
    with: {{normalization: []}}
  - use: dedup.paragraphs
    with: {{max_occurrences: 3}}
  - use: dedup.minhash
    with: {{threshold: 0.7, ngram: 2, verify: true, keep: longest}}
output: {{path: {tmp_path / "out"}, shard_rows: 250}}
"""
    )
    local = run_recipe(load_recipe(recipe), output=tmp_path / "local", workers=2)
    run_recipe(load_recipe(recipe), output=tmp_path / "ray", executor="ray", workers=2)
    assert all(st["removed"] > 0 for st in local["stages"])
    assert len(local["output"]["data"]) > 1
    assert run_snapshot(tmp_path / "ray") == run_snapshot(tmp_path / "local")


@pytest.mark.ray
def test_apply_tasks_get_only_their_parts_decisions(ray_session: None, tmp_path: Path) -> None:
    """Each Ray task is sent the decisions about its own part, not the whole corpus's."""
    import pyarrow as pa

    from curate.core.parts import InputSpill
    from curate.core.run import decide
    from curate.executor.ray_pool import RayTaskPool
    from curate.stages.dedup_exact import DedupExact

    texts = [f"document {i % 50}" for i in range(400)]
    batch = pa.record_batch({"id": [f"d{i}" for i in range(400)], "text": texts})
    spill = InputSpill(tmp_path / "in", part_rows=100)
    stage = DedupExact()
    with RayTaskPool(2) as pool:
        parts, decisions, task = decide(stage, spill.stream([batch]), pool, tmp_path)
    narrowed = [stage.narrow(decisions, p) for p in parts]
    assert [len(n.docs) for n in narrowed] == [100, 100, 100, 100]
    removed = [
        pa.Table.from_batches(list(stage.apply(p, n, task))).column("__curate_reason").null_count
        for n, p in zip(narrowed, parts)
    ]
    assert removed == [50, 0, 0, 0]
