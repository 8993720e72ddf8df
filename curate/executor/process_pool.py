"""A task pool on spawned processes on this machine, for calls that hold the GIL.

:class:`curate.core.pool.ThreadPool` suits a global stage's phases, whose heavy steps release
the GIL; work that stays in Python between library calls (``curate export``'s parts: Arrow to
lists, flattening token ids, hashing ids) needs processes to use the cores. The processes exit
when this one dies, as the local executor's workers do.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from curate.core.pool import Call, ClosingPool, TaskPool, ThreadPool
from curate.executor.orphan import exit_with_parent


class ProcessPool(ClosingPool):
    """A :class:`curate.core.pool.TaskPool` on ``workers`` spawned processes."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._executor = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=exit_with_parent,
            initargs=(os.getpid(),),
        )
        self._futures: list[Future[Any]] = []

    def submit(self, call: Call) -> None:
        self._futures.append(self._executor.submit(call))

    def results(self) -> list[Any]:
        """Wait for every call; their results in submission order (a call's error is raised)."""
        out = [f.result() for f in self._futures]
        self._futures = []
        return out

    def close(self) -> None:
        for f in self._futures:
            f.cancel()
        self._executor.shutdown(wait=True, cancel_futures=True)


def task_pool(workers: int) -> TaskPool:
    """Inline with one worker (nothing spawned), else :class:`ProcessPool`."""
    return ThreadPool(1) if workers <= 1 else ProcessPool(workers)
