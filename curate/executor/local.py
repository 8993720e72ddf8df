"""The local executor: map stages over shards in worker processes on this machine.

With one worker everything runs in this process. With more, shards go to a pool of spawned
processes, at most ``workers + 1`` at a time so memory stays bounded whatever the input's size;
the workers exit on their own when this process dies. Output order is
input order whatever the number of workers: shards are numbered as they are cut from the
stream and their files are listed in that order.

For cheap stages the fixed costs around the workers decide whether two are faster than one, so
the pool keeps them off the critical path: the processes start (each imports the stack, about a
second) as soon as the backend exists, while the engine still plans the input; the driver, idle
while they work, imports meanwhile what it needs after them (:data:`AFTER_WORKERS`); and a
finished run does not wait for the processes to exit (tearing down an interpreter that loaded
Arrow and Polars takes a few tenths of a second each).
"""

from __future__ import annotations

import functools
import importlib
import logging
import multiprocessing
import os
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from types import TracebackType

import numpy as np
import pyarrow as pa

from curate.core.pool import ThreadPool
from curate.executor.driver_global import ShardConfig
from curate.executor.engine import Engine, ExecResult, Progress
from curate.executor.plan import Segment
from curate.executor.source import InputStream
from curate.executor.state import RunState
from curate.executor.worker import ShardResult, ShardTask, init_worker, run_shard

log = logging.getLogger(__name__)
#: The environment variable pyarrow reads, when imported, to choose its memory pool.
ENV = "ARROW_DEFAULT_MEMORY_POOL"
#: Modules the driver imports after the workers are done: the dataset card's (they pull in
#: `datasets`, about a second of one core, otherwise paid after the last shard).
AFTER_WORKERS = ("curate.card.croissant", "curate.card.metadata", "curate.card.render")


def _preload(modules: tuple[str, ...]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:
            # Only a head start: the import that needs the module raises the error itself.
            return


@contextmanager
def worker_allocator() -> Iterator[None]:
    """Spawned workers allocate Arrow memory with jemalloc where pyarrow has it.

    Arrow's default pool (mimalloc) keeps what a shard freed for the next one; jemalloc hands
    more of it back, which cut the process tree's peak on the FineWeb-like recipe with two
    workers by 10-11% at the same CPU time (docs/performance.md, "Driver and worker memory").
    Only the workers: the driver imported pyarrow long before, and it picks its pool then.
    A user's own ``ARROW_DEFAULT_MEMORY_POOL`` is left as it is.
    """
    if ENV in os.environ or not _has_jemalloc():
        yield
        return
    os.environ[ENV] = "jemalloc"
    try:
        yield
    finally:
        os.environ.pop(ENV, None)


def _has_jemalloc() -> bool:
    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:  # pyarrow built without it (Windows, some conda builds)
        return False
    return True


def own_rows(table: pa.Table) -> pa.Table:
    """A copy of ``table`` that holds only its own rows, to be pickled.

    A slice pickles with its parent's whole buffers (a shard cut from a stream of batches
    would carry up to twice its size to the worker). The batches keep their boundaries, which
    set the row groups the worker writes.
    """
    batches = [b.take(pa.array(np.arange(b.num_rows))) for b in table.to_batches()]
    return pa.Table.from_batches(batches, schema=table.schema)


class LocalBackend:
    """Shards in ``workers`` spawned processes (or inline with one worker)."""

    materialize = False

    def __init__(self, segments: list[Segment], work: str, *, workers: int) -> None:
        self.workers = max(1, workers)
        steps = {s.index: s.map_steps for s in segments}
        level = logging.getLogger().level
        self.pool: ProcessPoolExecutor | None = None
        self._preloading = False
        if self.workers > 1:
            self.pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=functools.partial(init_worker, parent=os.getpid()),
                initargs=(steps, work, level),
            )
            # The pool spawns a process per submitted call: no-op calls start them all now,
            # with the allocator in their environment (pyarrow reads it when imported).
            with worker_allocator():
                for _ in range(self.workers):
                    self.pool.submit(os.getpid)
        else:
            init_worker(steps, work, level)

    def run(self, tasks: Iterable[ShardTask]) -> Iterator[ShardResult]:
        if self.pool is None:
            for task in tasks:
                yield run_shard(task)
            return
        if not self._preloading:
            self._preloading = True
            threading.Thread(
                target=_preload, args=(AFTER_WORKERS,), name="curate-preload", daemon=True
            ).start()
        pending: set[Future[ShardResult]] = set()
        for task in tasks:
            if task.table is not None:
                task.table = own_rows(task.table)
            pending.add(self.pool.submit(run_shard, task))
            # One shard queued beyond the busy workers keeps them fed; a shard that carries its
            # rows (not a read task) is in memory only while in flight.
            while len(pending) > self.workers:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield fut.result()
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                yield fut.result()

    def task_pool(self) -> ThreadPool:
        """Threads in this process: a global stage's tasks release the GIL in their heavy steps."""
        return ThreadPool(self.workers)

    def __enter__(self) -> LocalBackend:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.pool is None:
            return
        if kind is None:
            # Every shard is done and recorded: the processes finish exiting on their own (the
            # interpreter waits for them before it exits).
            self.pool.shutdown(wait=False)
        else:
            self.pool.shutdown(cancel_futures=True)


class LocalExecutor:
    """Run segments with ``workers`` processes (1 = everything in this process)."""

    def __init__(self, *, workers: int = 1, progress: Progress | None = None) -> None:
        self.workers = max(1, workers)
        self.progress = progress or (lambda _label, _rows: None)

    def execute(
        self,
        segments: list[Segment],
        source: InputStream,
        state: RunState,
        shards: ShardConfig,
    ) -> ExecResult:
        with LocalBackend(segments, str(state.work), workers=self.workers) as backend:
            return Engine(backend, state, self.progress).execute(segments, source, shards)
