"""A task pool whose tasks run anywhere on a Ray cluster.

A global stage's phases (see :mod:`curate.core`) are calls that read Parquet parts and write
their results in the stage's scratch folder, which on a cluster is on storage every node sees.
:class:`RayTaskPool` has :class:`curate.core.pool.ThreadPool`'s interface, ``submit(call)``,
``results()`` in submission order and ``close()``, with every call a Ray task of one CPU, so the
per-part work, the key-range reduces and the per-part apply (the bulk of a deduplication's CPU
time) spread over the cluster, while the process that schedules holds only the decisions.
"""

from __future__ import annotations

from typing import Any

from curate.core.pool import Call, ClosingPool


def _call(call: Call) -> Any:
    return call()


class RayTaskPool(ClosingPool):
    """Runs calls as Ray tasks of one CPU each; results in submission order."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._refs: list[Any] = []
        self._remote: Any = None

    def submit(self, call: Call) -> None:
        import ray

        if self._remote is None:
            # One remote trampoline for every call: bound methods, builtins and partials alike.
            self._remote = ray.remote(num_cpus=1, max_retries=0)(_call)
        self._refs.append(self._remote.remote(call))

    def results(self) -> list[Any]:
        """Wait for every task; their results in submission order (a task's error is raised)."""
        import ray

        refs, self._refs = self._refs, []
        return list(ray.get(refs))

    def close(self) -> None:
        import ray

        for ref in self._refs:
            ray.cancel(ref)
        self._refs = []
