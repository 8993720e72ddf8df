"""Column statistics a card reports: languages, duplicates, toxicity and quality distributions.

Each statistic reads only the one column it needs, shard by shard, so a card costs a column scan
rather than a full read of the dataset.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.card.facts import DatasetFacts

#: Histogram edges for scores in [0, 1] (toxicity, lang_score, quality ratios).
UNIT_BINS: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


@dataclass(frozen=True)
class Distribution:
    """Summary of one numeric column."""

    column: str
    count: int
    missing: int
    mean: float
    quantiles: dict[str, float]  # p10, p50, p90, p99
    histogram: tuple[tuple[float, float, int], ...]  # (lo, hi, count); empty unless in [0, 1]


def _column(facts: DatasetFacts, name: str) -> Iterator[pa.Array]:
    for f in facts.files:
        table = pq.read_table(f.path, columns=[name])
        yield from table.column(name).chunks


def language_counts(facts: DatasetFacts) -> Counter[str]:
    """Documents per value of the ``lang`` column (missing values count as ``und``).

    The audit's shares are used when the dataset has no ``lang`` column of its own.
    """
    counts: Counter[str] = Counter()
    if "lang" in facts.schema.names:
        for chunk in _column(facts, "lang"):
            for row in pc.value_counts(chunk.fill_null("und")).to_pylist():
                counts[str(row["values"])] += int(row["counts"])
        return counts
    shares = facts.audit.get("languages")
    if isinstance(shares, dict) and facts.rows:
        for lang, share in shares.items():
            counts[str(lang)] = round(float(share) * facts.rows)
    return counts


def distribution(facts: DatasetFacts, column: str) -> Distribution | None:
    """Summary of a numeric column, or ``None`` when the column is absent or not numeric."""
    if column not in facts.schema.names:
        return None
    kind = facts.schema.field(column).type
    if not (pa.types.is_floating(kind) or pa.types.is_integer(kind) or pa.types.is_boolean(kind)):
        return None
    parts = [c.cast(pa.float64()) for c in _column(facts, column)]
    values = (
        pa.chunked_array(parts, type=pa.float64()) if parts else pa.chunked_array([], pa.float64())
    )
    missing = values.null_count
    arr = values.drop_null().to_numpy()
    arr = arr[~np.isnan(arr)]
    if arr.size == 0:
        return Distribution(column, 0, missing, float("nan"), {}, ())
    qs = np.quantile(arr, [0.1, 0.5, 0.9, 0.99])
    histogram: tuple[tuple[float, float, int], ...] = ()
    if arr.min() >= 0.0 and arr.max() <= 1.0:
        counts, edges = np.histogram(arr, bins=np.array(UNIT_BINS))
        histogram = tuple(
            (float(edges[i]), float(edges[i + 1]), int(counts[i])) for i in range(len(counts))
        )
    return Distribution(
        column=column,
        count=int(arr.size),
        missing=int(missing),
        mean=float(arr.mean()),
        quantiles={k: float(v) for k, v in zip(("p10", "p50", "p90", "p99"), qs, strict=True)},
        histogram=histogram,
    )


def quality_columns(facts: DatasetFacts) -> list[str]:
    """Numeric ``quality_*`` columns, in schema order."""
    return [
        f.name
        for f in facts.schema
        if f.name.startswith("quality_")
        and (
            pa.types.is_floating(f.type)
            or pa.types.is_integer(f.type)
            or pa.types.is_boolean(f.type)
        )
    ]


def duplicate_clusters(facts: DatasetFacts) -> dict[str, int]:
    """Kept rows that belong to a near-duplicate cluster of more than one document."""
    if "dup_cluster_size" not in facts.schema.names:
        return {}
    in_cluster = 0
    largest = 0
    for chunk in _column(facts, "dup_cluster_size"):
        sizes = chunk.fill_null(1)
        in_cluster += int(pc.sum(pc.greater(sizes, 1)).as_py() or 0)
        largest = max(largest, int(pc.max(sizes).as_py() or 0))
    return {"rows_in_clusters": in_cluster, "largest_cluster": largest}
