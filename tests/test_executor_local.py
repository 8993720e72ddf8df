"""The local backend's process pool: started before the first shard, not waited for after the
last one, and the modules the driver preloads while it waits still exist. (That 1 and 2 workers
write the same bytes is in ``test_executor_read_tasks.py`` and the resume tests.)"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.executor import local
from curate.executor.local import AFTER_WORKERS, LocalBackend
from curate.executor.plan import Segment
from curate.executor.run import run_recipe
from curate.recipe import parse_recipe


def _workers() -> list[multiprocessing.process.BaseProcess]:
    return [p for p in multiprocessing.active_children() if p.is_alive()]


def _gone(procs: list[multiprocessing.process.BaseProcess], seconds: float) -> bool:
    """Whether the processes exit within ``seconds``, read from /proc: joining them here would
    race the pool's own thread that reaps them."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(_running(p.pid) for p in procs):
            return True
        time.sleep(0.05)
    return False


def _running(pid: int | None) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_preloaded_modules_exist() -> None:
    """A renamed card module would only lose the head start silently: name them right."""
    for name in AFTER_WORKERS:
        importlib.import_module(name)


@pytest.mark.slow
def test_processes_start_with_the_backend(tmp_path: Path) -> None:
    before = set(_workers())
    with LocalBackend([Segment(0, None, [])], str(tmp_path), workers=2) as backend:
        started = [p for p in _workers() if p not in before]
        # Spawned before any shard was submitted, so their imports overlap the planning.
        assert len(started) == 2
        assert list(backend.run([])) == []
    assert _gone(started, 30), "a worker process of a finished run did not exit"


@pytest.mark.slow
def test_a_failed_run_waits_for_its_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a finished run leaves its processes to exit on their own: after an error the
    workers are stopped before the error reaches the caller."""
    path = tmp_path / "in.parquet"
    pq.write_table(pa.table({"text": [f"document {i}" for i in range(200)]}), path)
    recipe = parse_recipe(
        {
            "name": "t",
            "input": {"path": str(path)},
            "stages": [{"use": "normalize"}],
            "output": {"path": str(tmp_path / "out"), "shard_rows": 50},
        }
    )
    seen: list[multiprocessing.process.BaseProcess] = []

    def broken(self: LocalBackend, tasks: object) -> object:
        seen.extend(_workers())
        raise RuntimeError("stage failed")

    monkeypatch.setattr(local.LocalBackend, "run", broken)
    with pytest.raises(RuntimeError, match="stage failed"):
        run_recipe(recipe, workers=2)
    assert seen and not any(_running(p.pid) for p in seen)


def _pool_backend() -> str:
    return str(pa.default_memory_pool().backend_name)


@pytest.mark.slow
@pytest.mark.skipif(not local._has_jemalloc(), reason="this pyarrow is built without jemalloc")
def test_spawned_workers_allocate_with_jemalloc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workers get jemalloc (it returns freed shard memory); the driver's environment is
    left as it was, and a user's own choice of pool is kept."""
    monkeypatch.delenv(local.ENV, raising=False)
    with LocalBackend([Segment(0, None, [])], str(tmp_path), workers=2) as backend:
        assert backend.pool is not None
        assert {backend.pool.submit(_pool_backend).result() for _ in range(4)} == {"jemalloc"}
    assert local.ENV not in os.environ
    monkeypatch.setenv(local.ENV, "system")
    with LocalBackend([Segment(0, None, [])], str(tmp_path), workers=2) as backend:
        assert backend.pool is not None
        assert backend.pool.submit(_pool_backend).result() == "system"
