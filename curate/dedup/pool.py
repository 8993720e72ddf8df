"""Per-part work on ``workers`` threads, results in submission order.

With one worker the work runs inline, as each part is submitted; with more it runs on a thread
pool. Threads rather than processes: the heavy steps (Polars token extraction, Arrow compute,
NumPy permutations over millions of hashes, Parquet I/O) release the GIL, so threads use the
cores as well as processes would, while the interpreter, the imported libraries and the token
cache exist once instead of once per process (about 150 MB each). The results never depend on
the number of workers: every task is a pure function of its part.

>>> with PartPool(1) as pool:
...     pool.submit(pow, 2, 5)
...     pool.submit(pow, 3, 2)
...     pool.results()
[32, 9]
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import Self


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


class PartPool(ClosingPool):
    """Runs ``fn(*args)`` tasks inline (one worker) or on a thread pool."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._executor: ThreadPoolExecutor | None = None
        self._futures: list[Future[Any]] = []
        self._inline: list[Any] = []

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        if self.workers == 1:
            self._inline.append(fn(*args))
            return
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="curate-dedup")
        self._futures.append(self._executor.submit(fn, *args))

    def results(self) -> list[Any]:
        """Wait for every task; their results in submission order (a task's error is raised)."""
        out = self._inline + [f.result() for f in self._futures]
        self._inline, self._futures = [], []
        return out

    def share(self, value: Any) -> Any:
        """Tasks run in this process: they take ``value`` itself."""
        return value

    def close(self) -> None:
        if self._executor is not None:
            for f in self._futures:
                f.cancel()
            self._executor.shutdown(wait=True)
            self._executor = None
