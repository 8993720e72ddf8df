"""Where an executor runs a global stage's tasks: in order of submission, results in that order.

A :class:`TaskPool` takes calls of no arguments (picklable, so that a pool may run them in other
processes or on other machines) and returns their results in submission order. The stage never
sees one: it declares its tasks, and :func:`curate.core.run.decide` hands them to the pool the
executor chose. :class:`ThreadPool` runs them inline (one worker) or on threads: the heavy steps
(Polars, Arrow compute, NumPy over millions of hashes, Parquet I/O) release the GIL, so threads
use the cores as well as processes would, while the interpreter and the imported libraries exist
once. Results never depend on the number of workers: every task is a pure function of its
arguments.

>>> from functools import partial
>>> with ThreadPool(1) as pool:
...     pool.submit(partial(pow, 2, 5))
...     pool.submit(partial(pow, 3, 2))
...     pool.results()
[32, 9]
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from typing_extensions import Self

Call = Callable[[], Any]


class TaskPool(Protocol):
    """Runs calls, ``workers`` of them at once; a context manager that cancels what is left."""

    workers: int

    def submit(self, call: Call) -> None: ...

    def results(self) -> list[Any]:
        """Wait for every call submitted since the last time; their results in order."""

    def close(self) -> None:
        """Cancel what is still pending."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class ClosingPool:
    """A pool used as a context manager: leaving the block cancels what is still pending."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class ThreadPool(ClosingPool):
    """Runs calls inline (one worker) or on ``workers`` threads."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._executor: ThreadPoolExecutor | None = None
        self._futures: list[Future[Any]] = []
        self._inline: list[Any] = []

    def submit(self, call: Call) -> None:
        if self.workers == 1:
            self._inline.append(call())
            return
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="curate-task")
        self._futures.append(self._executor.submit(call))

    def results(self) -> list[Any]:
        """Wait for every call; their results in submission order (a call's error is raised)."""
        out = self._inline + [f.result() for f in self._futures]
        self._inline, self._futures = [], []
        return out

    def close(self) -> None:
        if self._executor is not None:
            for f in self._futures:
                f.cancel()
            self._executor.shutdown(wait=True)
            self._executor = None
