"""Counts over score columns, accumulated batch by batch in memory independent of the row count.

A batch arrives with the audit's canonical columns (see :mod:`curate.audit.columns`):
``identities`` (list of ``axis/group``), ``__audit_toxicity`` (float, null when unscored) and
``lang``. Everything kept here is a count per language, per group or per histogram bin.

>>> import pyarrow as pa
>>> t = ColumnTally(threshold=0.5)
>>> b = pa.record_batch({"identities": [["gender/female"], [], ["gender/female", "age/old"]],
...                      "__audit_toxicity": [0.9, 0.1, None], "lang": ["en", "en", "fr"]})
>>> t.update(b, group_pairs(b))
>>> t.documents, t.scored, t.toxic, dict(t.languages)
(3, 2, 1, {'en': 2, 'fr': 1})
>>> t.groups["gender/female"]
GroupCounts(docs=2, scored=1, toxic=1)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import pyarrow as pa
from numpy.typing import NDArray

IDENTITIES = "identities"
TOXICITY = "__audit_toxicity"
LANG = "lang"
UNKNOWN_LANG = "und"
#: Toxicity histogram resolution: bins of width 0.01 over [0, 1].
TOX_BINS = 100


@dataclass
class GroupCounts:
    """Documents mentioning one group: all, with a toxicity score, and toxic among those."""

    docs: int = 0
    scored: int = 0
    toxic: int = 0


@dataclass
class DuplicateCounts:
    """What the dedup columns say, when present."""

    exact_column: bool = False
    docs_with_copies: int = 0
    copies_removed: int = 0
    near_column: bool = False
    docs_in_clusters: int = 0
    clusters: float = 0.0


def group_pairs(batch: pa.RecordBatch) -> pl.DataFrame:
    """``(doc, group)`` rows: each document's distinct groups, ``doc`` its row in the batch."""
    if IDENTITIES not in batch.schema.names:
        return pl.DataFrame(schema={"doc": pl.Int64, "group": pl.String})
    series = pl.Series("group", batch.column(IDENTITIES))
    return (
        pl.DataFrame({"group": series.list.unique()})
        .with_row_index("doc")
        .explode("group")
        .drop_nulls("group")
        .with_columns(pl.col("doc").cast(pl.Int64))
    )


@dataclass
class ColumnTally:
    """Documents, languages, groups and the toxicity distribution."""

    threshold: float
    documents: int = 0
    with_identity: int = 0
    scored: int = 0
    toxic: int = 0
    toxicity_sum: float = 0.0
    toxicity_hist: NDArray[np.int64] = field(default_factory=lambda: np.zeros(TOX_BINS, np.int64))
    languages: Counter[str] = field(default_factory=Counter)
    groups: dict[str, GroupCounts] = field(default_factory=dict)
    duplicates: DuplicateCounts = field(default_factory=DuplicateCounts)

    def update(self, batch: pa.RecordBatch, pairs: pl.DataFrame) -> None:
        """Add one batch; ``pairs`` is :func:`group_pairs` of it."""
        n = batch.num_rows
        self.documents += n
        names = batch.schema.names
        if LANG in names:
            langs = pl.Series("lang", batch.column(LANG)).fill_null(UNKNOWN_LANG).value_counts()
            for lang, count in langs.iter_rows():
                self.languages[str(lang)] += int(count)
        else:
            self.languages[UNKNOWN_LANG] += n
        tox = pl.Series("tox", batch.column(TOXICITY)) if TOXICITY in names else None
        if tox is not None:
            scores = tox.drop_nulls().to_numpy()
            self.scored += scores.size
            self.toxic += int((scores >= self.threshold).sum())
            self.toxicity_sum += float(scores.sum())
            bins = np.minimum((scores * TOX_BINS).astype(np.int64), TOX_BINS - 1)
            self.toxicity_hist += np.bincount(bins, minlength=TOX_BINS)
        self._update_groups(pairs, tox)
        self._update_duplicates(batch)

    def _update_groups(self, pairs: pl.DataFrame, tox: pl.Series | None) -> None:
        if pairs.height == 0:
            return
        self.with_identity += pairs.get_column("doc").n_unique()
        if tox is None:
            rows = pairs.group_by("group").agg(
                pl.len().alias("docs"), pl.lit(0).alias("scored"), pl.lit(0).alias("toxic")
            )
        else:
            score = tox.gather(pairs.get_column("doc"))
            rows = (
                pairs.with_columns(score.alias("tox"))
                .group_by("group")
                .agg(
                    pl.len().alias("docs"),
                    pl.col("tox").is_not_null().sum().alias("scored"),
                    (pl.col("tox") >= self.threshold).sum().alias("toxic"),
                )
            )
        for group, docs, scored, toxic in rows.iter_rows():
            counts = self.groups.setdefault(str(group), GroupCounts())
            counts.docs += int(docs)
            counts.scored += int(scored)
            counts.toxic += int(toxic or 0)

    def _update_duplicates(self, batch: pa.RecordBatch) -> None:
        names = batch.schema.names
        dup = self.duplicates
        if "dup_count" in names:
            dup.exact_column = True
            counts = pl.Series("c", batch.column("dup_count")).drop_nulls().to_numpy()
            dup.docs_with_copies += int((counts > 1).sum())
            dup.copies_removed += int(np.maximum(counts - 1, 0).sum())
        if "dup_cluster_size" in names:
            dup.near_column = True
            sizes = pl.Series("s", batch.column("dup_cluster_size")).drop_nulls().to_numpy()
            in_cluster = sizes[sizes > 1]
            dup.docs_in_clusters += int(in_cluster.size)
            # Each member of a cluster of size k adds 1/k: the sum counts clusters.
            dup.clusters += float((1.0 / in_cluster).sum())
