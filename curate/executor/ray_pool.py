"""A pool for a global stage's per-part work whose tasks run anywhere on a Ray cluster.

The ``dedup.*`` stages spill their input to Parquet parts and run one pure function per part
(hashing, shingling and MinHash signing), each reading its part and writing its output next to
it, through a pool with :class:`curate.dedup.pool.PartPool`'s interface: ``submit(fn, *args)``,
``results()`` in submission order, ``close()``. :class:`RayPartPool` has the same interface
with every task a Ray task, so that work, the bulk of a deduplication's CPU time, spreads over
the cluster while grouping and clustering stay in the driver in bounded memory. The parts live
in the run's working folder, which on a cluster is on storage that every node sees.

The Ray executor offers it to global stages as ``StageContext.extra["part_pool"]``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from curate.dedup.pool import ClosingPool


def _call(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)


class RayPartPool(ClosingPool):
    """Runs ``fn(*args)`` tasks as Ray tasks of one CPU each; results in submission order."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._refs: list[Any] = []
        self._remote: Any = None

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        import ray

        if self._remote is None:
            # One remote trampoline for every callable: functions, builtins and partials alike.
            self._remote = ray.remote(num_cpus=1, max_retries=0)(_call)
        self._refs.append(self._remote.remote(fn, *args))

    def results(self) -> list[Any]:
        """Wait for every task; their results in submission order (a task's error is raised)."""
        import ray

        refs, self._refs = self._refs, []
        return list(ray.get(refs))

    def share(self, value: Any) -> Any:
        """``value`` in the object store once, so tasks on any node read one copy."""
        import ray

        return ray.put(value)

    def close(self) -> None:
        import ray

        for ref in self._refs:
            ray.cancel(ref)
        self._refs = []
