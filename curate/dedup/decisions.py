"""Per-row decisions of a global stage, applied to its input part by part.

Only rows with a decision (duplicates, members of clusters) are held, sorted by their global
index; every other row gets the column defaults. Applying them to a batch is a slice by binary
search and a masked replace per column, so the last pass costs no Python work per row.

>>> import numpy as np, pyarrow as pa
>>> d = RowDecisions(np.array([1]), pa.array(["exact-duplicate"]), pa.array(["kept=a"]),
...                  {"dup_count": pa.array([2], pa.int64())})
>>> batch = pa.record_batch({"id": ["a", "b"], "text": ["x", "x"]})
>>> out = d.apply(0, batch, {"dup_count": pa.array([1, 1], pa.int64())})
>>> out.column("dup_count").to_pylist(), out.column("__curate_reason").to_pylist()
([1, 2], [None, 'exact-duplicate'])
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from curate.core.parts import Part
from curate.stage import mark_removed, set_column


@dataclass
class RowDecisions:
    """Reasons, details and column values of the rows ``docs`` (sorted global indices)."""

    docs: npt.NDArray[np.int64]
    reasons: pa.Array
    details: pa.Array
    values: Mapping[str, pa.Array] = field(default_factory=dict)

    def apply(
        self, start: int, batch: pa.RecordBatch, defaults: Mapping[str, pa.Array]
    ) -> pa.RecordBatch:
        """``batch`` (rows ``start``...) with the decided values, reasons and details set."""
        n = batch.num_rows
        lo, hi = (int(x) for x in np.searchsorted(self.docs, [start, start + n]))
        mask_np = np.zeros(n, dtype=bool)
        mask_np[self.docs[lo:hi] - start] = True
        mask = pa.array(mask_np)
        for name, default in defaults.items():
            column = default
            if hi > lo:
                column = pc.replace_with_mask(default, mask, self.values[name].slice(lo, hi - lo))
            batch = set_column(batch, name, column)
        reasons = pa.nulls(n, pa.string())
        details = pa.nulls(n, pa.string())
        if hi > lo:
            reasons = pc.replace_with_mask(reasons, mask, self.reasons.slice(lo, hi - lo))
            details = pc.replace_with_mask(details, mask, self.details.slice(lo, hi - lo))
        return mark_removed(batch, reasons, details)

    def narrow(self, start: int, stop: int) -> RowDecisions:
        """Only the decisions about rows ``start`` to ``stop - 1``, in buffers of their own.

        A pickled Arrow slice carries its parent's whole buffers; concatenating copies it.
        """
        lo, hi = (int(x) for x in np.searchsorted(self.docs, [start, stop]))

        def own(values: pa.Array) -> pa.Array:
            return pa.concat_arrays([values.slice(lo, hi - lo)])

        return RowDecisions(
            self.docs[lo:hi].copy(),
            own(self.reasons),
            own(self.details),
            {name: own(values) for name, values in self.values.items()},
        )


def apply_to_part(
    decisions: RowDecisions,
    part: Part,
    defaults: Callable[[pa.RecordBatch], Mapping[str, pa.Array]],
) -> Iterator[pa.RecordBatch]:
    """The rows of ``part`` with ``decisions`` applied; ``defaults`` fills undecided rows."""
    start = part.start
    for batch in part.batches():
        yield decisions.apply(start, batch, defaults(batch))
        start += batch.num_rows


def empty_decisions(columns: Mapping[str, pa.DataType]) -> RowDecisions:
    """Decisions about no row at all."""
    return RowDecisions(
        np.zeros(0, np.int64),
        pa.array([], pa.string()),
        pa.array([], pa.string()),
        {name: pa.array([], type) for name, type in columns.items()},
    )
