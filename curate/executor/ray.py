"""The Ray executor: the map stages of each shard run in Ray Data actors across a cluster.

A segment's shards become a Ray dataset of shard descriptions; ``map_batches`` runs them on a
pool of actors, one per CPU, each of which sets the stages up once (models load once per actor)
and then runs :func:`curate.executor.worker.run_shard` on one shard at a time, reading the
shard's rows (a row range of a Parquet input, see :mod:`curate.executor.read_tasks`, or a shard
file) and writing its output and ledger next to it. The order of work, the
files and the progress markers are those of the local executor (see
:mod:`curate.executor.engine`), so both give the same output and either can resume a run the
other started. A global stage's tasks (map per part, key-range reduces, apply per part) run as
Ray tasks (:class:`~curate.executor.ray_pool.RayTaskPool`); the driver holds only the decisions;
see ``docs/scale.md``.

Ray is imported only here, and only when a run asks for it.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import pickle
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pyarrow as pa

from curate.errors import MissingDependencyError
from curate.executor.driver_global import ShardConfig
from curate.executor.engine import Engine, ExecResult, Progress
from curate.executor.plan import Segment, Step
from curate.executor.ray_pool import RayTaskPool
from curate.executor.source import InputStream
from curate.executor.state import RunState
from curate.executor.worker import ShardResult, ShardTask, init_worker, run_shard

log = logging.getLogger(__name__)


class ShardActor:
    """A Ray Data actor: the stages of one segment, set up once, run shard by shard."""

    def __init__(self, steps_file: str, work: str, log_level: int) -> None:
        with open(steps_file, "rb") as f:
            steps: dict[int, list[Step]] = pickle.load(f)
        init_worker(steps, work, log_level)

    def __call__(self, batch: pa.Table) -> pa.Table:
        results = []
        for blob in batch.column("task").to_pylist():
            task: ShardTask = pickle.loads(blob)
            results.append(json.dumps(asdict(run_shard(task))))
        return pa.table({"result": pa.array(results, pa.string())})


def _task_bytes(task: ShardTask) -> bytes:
    """A shard's description (a file to read or input rows to read, never rows themselves)."""
    assert task.table is None, "Ray shards read their rows from files"
    return pickle.dumps(task)


class RayBackend:
    """Shards as Ray Data rows, mapped by a pool of :class:`ShardActor`."""

    materialize = True

    def __init__(self, segments: list[Segment], work: str, *, workers: int, actors: int) -> None:
        self.steps = {s.index: s.map_steps for s in segments}
        self.work = work
        self.workers = workers
        self.actors = actors

    def task_pool(self) -> RayTaskPool:
        """Ray tasks of one CPU each, anywhere on the cluster."""
        return RayTaskPool(self.workers)

    def run(self, tasks: Iterable[ShardTask]) -> Iterator[ShardResult]:
        import ray.data

        todo = list(tasks)
        if not todo:
            return
        segment = todo[0].segment
        # Stages travel as a file beside the shards rather than as constructor arguments, which
        # Ray would keep in the object store for the actors' lifetime.
        steps_file = Path(self.work) / f"seg{segment}" / "stages.pickle"
        steps_file.parent.mkdir(parents=True, exist_ok=True)
        with open(steps_file, "wb") as f:
            pickle.dump({segment: self.steps[segment]}, f)
        items = [{"task": _task_bytes(t)} for t in todo]
        shards = ray.data.from_items(items, override_num_blocks=len(items))
        with warnings.catch_warnings():
            # max_restarts is only reachable through the deprecated remote-args keywords. A
            # lost actor then fails the run rather than being restarted: --resume redoes the
            # shards without a progress marker, and Ray stays quiet about constructor
            # arguments it could not replay.
            warnings.filterwarnings("ignore", message=".*ray_remote_args.*")
            ds = shards.map_batches(
                ShardActor,
                fn_constructor_kwargs={
                    "steps_file": str(steps_file),
                    "work": self.work,
                    "log_level": logging.getLogger().level,
                },
                batch_size=1,
                batch_format="pyarrow",
                compute=ray.data.ActorPoolStrategy(size=max(1, min(self.actors, len(items)))),
                num_cpus=1,
                max_restarts=0,
            )
        for row in ds.iter_rows():
            yield ShardResult(**json.loads(row["result"]))


def _quiet_ray_data() -> None:
    import ray.data

    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    ctx.enable_auto_log_stats = False
    ctx.execution_options.verbose_progress = False


def connect(address: str | None, workers: int) -> bool:
    """Join the cluster at ``address`` (or ``RAY_ADDRESS``), else start a quiet local Ray.

    Returns True when this call started Ray (the caller then shuts it down).
    """
    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if ray.is_initialized():
        return False
    kwargs: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.ERROR}
    address = address or os.environ.get("RAY_ADDRESS")
    if address:
        log.info("joining the Ray cluster at %s", address)
        ray.init(address=address, **kwargs)
    else:
        ray.init(num_cpus=workers, include_dashboard=False, **kwargs)
    return True


class RayExecutor:
    """Run segments on Ray: map stages in Ray Data actors, global stages' phases in Ray tasks."""

    def __init__(
        self, *, workers: int = 1, address: str | None = None, progress: Progress | None = None
    ) -> None:
        if importlib.util.find_spec("ray") is None:
            raise MissingDependencyError(
                "--executor ray needs Ray, which is not installed",
                hint="pip install 'llmos-curate[ray]'",
            )
        self.workers = max(1, workers)
        self.address = address
        self.progress = progress or (lambda _label, _rows: None)

    def execute(
        self,
        segments: list[Segment],
        source: InputStream,
        state: RunState,
        shards: ShardConfig,
    ) -> ExecResult:
        import ray

        started = connect(self.address, self.workers)
        try:
            _quiet_ray_data()
            resources: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
            actors = int(resources.get("CPU", self.workers))
            log.info("Ray: %d CPUs, one stage actor per CPU", actors)
            backend = RayBackend(segments, str(state.work), workers=self.workers, actors=actors)
            return Engine(backend, state, self.progress).execute(segments, source, shards)
        finally:
            if started:
                ray.shutdown()
