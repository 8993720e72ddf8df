"""Running a global stage's map and reduce phases on a pool: the one driver every path uses.

The executor (for a recipe) and :meth:`GlobalStage.__call__ <curate.core.GlobalStage>` (for a
stream) both call :func:`decide` and then apply the decisions part by part, each with the pool
it chose; nothing else drives a global stage.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curate.core.parts import Part, Task
from curate.core.pool import TaskPool

if TYPE_CHECKING:
    from curate.core.global_stage import GlobalStage


def stage_task(stage: GlobalStage, scratch: Path, workers: int) -> Task:
    """The task every phase of ``stage`` gets when ``workers`` tasks run at once."""
    return Task(scratch=scratch, memory=stage.memory_bytes() // max(1, workers))


def decide(
    stage: GlobalStage, parts: Iterable[Part], pool: TaskPool, scratch: Path
) -> tuple[list[Part], Any, Task]:
    """Map every part (a task each, submitted as each part arrives), then run the reduce.

    Returns the parts, in order, the stage's decisions and the task handed to every phase.
    """
    task = stage_task(stage, scratch, pool.workers)
    seen: list[Part] = []
    for part in parts:
        seen.append(part)
        pool.submit(partial(stage.map_part, part, task))
    steps = stage.reduce(seen, pool.results(), task)
    try:
        calls = next(steps)
        while True:
            for call in calls:
                pool.submit(call)
            calls = steps.send(pool.results())
    except StopIteration as done:
        return seen, done.value, task
