"""The stage protocol for global stages: parts, tasks, three phases, and the driver.

* :mod:`curate.core.parts`: :class:`Part` (a Parquet file of the stage's input),
  :class:`Task` (scratch folder and memory budget), spill files and key ranges.
* :mod:`curate.core.global_stage`: :class:`GlobalStage` (map per part, reduce, apply per part).
* :mod:`curate.core.pool`: where an executor runs the tasks (threads here, Ray in the executor).
* :mod:`curate.core.run`: :func:`decide`, the one driver of the map and reduce phases.

Map stages need none of this: see :class:`curate.stage.MapStage`.
"""

from curate.core.global_stage import GlobalStage, Reduce, column_values
from curate.core.parts import Part, Task, key_ranges

__all__ = ["GlobalStage", "Part", "Reduce", "Task", "column_values", "key_ranges"]
