"""A plugin global stage, complete: keep one document per first line (a title, a URL).

This module is the worked example of `docs/stages.md`; `tests/test_plugins.py` installs it with
pip as a package of its own and runs it with one and two workers and on Ray, with identical
output. Nothing registers it here: a plugin registers its class in its own `pyproject.toml`:

```toml
[project.entry-points."curate.stages"]
"demo.first_line" = "curate_first_line:FirstLine"
```

Seven ideas are all a writer of a global stage needs, and none of them is about executors,
pools, workers or Ray:

1. a stage is a frozen pydantic model: its fields are the recipe's `with:` parameters, and
   `output_fields()` declares the columns it adds (the executor enforces their types);
2. its input arrives as `curate.core.Part` files: `part.batches()` reads one, `part.start` is
   the global index of its first row, `part.index` its number;
3. every phase gets a `curate.core.Task`: `task.scratch`, a folder all the stage's tasks see,
   and `task.memory`, the bytes one task may hold (`memory_bytes()` is the stage's total);
4. `map_part(part, task)` writes what the decision needs for one part and returns a summary;
5. `reduce(parts, mapped, task)` is a generator: it yields lists of picklable calls
   (`functools.partial` of module-level functions), is sent their results in order, and
   returns the decisions; `curate.core.key_ranges` cuts work that grows with the corpus into
   ranges that fit `task.memory`;
6. `apply(part, decisions, task)` yields the part's rows with the new columns set and removed
   rows marked with a reason (`curate.stage.mark_removed`); the executor writes the kept rows
   and the ledger;
7. `narrow(decisions, part)` (optional) is what one part's apply task is sent.

The executor runs every call as a task: inline with one worker, on threads with more, as Ray
tasks with `--executor ray`; the output is the same file for file.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xxhash
from pydantic import Field

from curate.core import GlobalStage, Part, Reduce, Task, key_ranges
from curate.stage import mark_removed, set_column

SAME = "same-first-line"


class FirstLine(GlobalStage):
    """Keep the first document of each first line; ``first_line_copies`` counts them."""

    name: ClassVar[str] = "demo.first_line"
    summary: ClassVar[str] = "Keep one document per first line (example plugin)."
    removes_rows: ClassVar[bool] = True
    reasons: ClassVar[tuple[str, ...]] = (SAME,)

    memory_mb: int = Field(64, ge=1, description="Memory for grouping first lines.")

    def output_fields(self) -> list[pa.Field]:
        return [pa.field("first_line_copies", pa.int64())]

    def memory_bytes(self) -> int:
        return self.memory_mb << 20

    def map_part(self, part: Part, task: Task) -> int:
        keys, ids = [], []
        for batch in part.batches(["id", "text"]):
            lines = pc.list_element(pc.split_pattern(batch.column("text"), "\n", max_splits=1), 0)
            keys += [xxhash.xxh64_intdigest((line or "").encode()) for line in lines.to_pylist()]
            ids += batch.column("id").cast(pa.string()).to_pylist()
        docs = np.arange(part.start, part.start + part.rows, dtype=np.int64)
        table = pa.table({"key": pa.array(keys, pa.uint64()), "doc": docs, "id": ids})
        pq.write_table(table, task.scratch / f"keys-{part.index:05d}.parquet")
        return part.rows

    def reduce(self, parts: Sequence[Part], mapped: list[Any], task: Task) -> Reduce:
        files = sorted(task.scratch.glob("keys-*.parquet"))
        if not files:  # no input rows
            return pl.DataFrame(schema={"doc": pl.Int64, "first": pl.Int64, "copies": pl.Int64})
        ranges = key_ranges(sum(mapped), 96, task.memory)
        found: list[pl.DataFrame] = yield [partial(_copies, files, lo, hi) for lo, hi in ranges]
        return pl.concat(found).sort("doc")

    def narrow(self, decisions: pl.DataFrame, part: Part) -> pl.DataFrame:
        return decisions.filter(pl.col("doc").is_between(part.start, part.start + part.rows - 1))

    def apply(self, part: Part, decisions: pl.DataFrame, task: Task) -> Iterator[pa.RecordBatch]:
        start = part.start
        for batch in part.batches():
            mine = decisions.filter(pl.col("doc").is_between(start, start + batch.num_rows - 1))
            rows = (mine["doc"] - start).to_list()
            copies = np.ones(batch.num_rows, dtype=np.int64)
            copies[rows] = mine["copies"].to_numpy()
            reasons: list[str | None] = [None] * batch.num_rows
            details: list[str | None] = [None] * batch.num_rows
            for row, first, kept in zip(rows, mine["first"], mine["kept"], strict=True):
                if first != start + row:
                    reasons[row], details[row] = SAME, f"kept={kept}"
            batch = set_column(batch, "first_line_copies", pa.array(copies))
            yield mark_removed(batch, pa.array(reasons, pa.string()), pa.array(details))
            start += batch.num_rows


def _copies(files: list[Path], lo: int, hi: int) -> pl.DataFrame:
    """(doc, first, kept id, copies) of the documents whose key, in ``[lo, hi)``, others share."""
    in_range = pl.col("key") >= pl.lit(lo, pl.UInt64)
    if hi < 1 << 64:  # the last range ends past the largest uint64
        in_range &= pl.col("key") < pl.lit(hi, pl.UInt64)
    frame = pl.scan_parquet(files).filter(in_range).collect()
    return frame.filter(pl.col("key").is_duplicated()).select(
        "doc",
        first=pl.col("doc").min().over("key"),
        kept=pl.col("id").sort_by("doc").first().over("key"),
        copies=pl.len().over("key").cast(pl.Int64),
    )


def example_source() -> str:
    """The code of this example without its docstring and these helpers: a plugin's module."""
    # Imported here, not at the top: everything above this function is the plugin's module.
    import inspect
    import sys

    source = inspect.getsource(sys.modules[__name__])
    return source[source.index('"""', 3) + 3 : source.index("\n\ndef example_source")].strip()


def plugin_guide() -> list[str]:
    """The worked example section of ``docs/stages.md``: this docstring, then the code."""
    narrative = (__doc__ or "").strip().splitlines()[2:]
    title = "## Writing a global stage (plugin)"
    return ["", title, "", *narrative, "", "```python", example_source(), "```"]
