"""Near-duplicate clusters from spilled bands and signatures, as per-row decisions.

Global indices ``-pinned .. -1`` are documents of ``against`` datasets, ``0 ..`` the input; a
cluster that holds a pinned document keeps it (it is not in the output) and loses every input
member, which the ledger then attributes to that dataset.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate import schema
from curate.core.global_stage import column_values
from curate.core.parts import Part
from curate.core.pool import Call
from curate.dedup.candidates import (
    candidate_edges,
    choose_kept,
    load_signatures,
    similarities,
)
from curate.dedup.decisions import RowDecisions, empty_decisions
from curate.dedup.unionfind import components

log = logging.getLogger(__name__)

#: Verification compares each candidate with at most this many earlier members of a band group.
PAIR_CAP = 32

NEAR = "near-duplicate"
NEAR_OTHER = "near-duplicate-other-dataset"
COLUMNS = {
    "dup_cluster": schema.TYPES["dup_cluster"],
    "dup_cluster_size": schema.TYPES["dup_cluster_size"],
}


@dataclass(frozen=True)
class ClusterPlan:
    """How to turn candidate edges into decisions."""

    bands: int
    num_perm: int
    verify_threshold: float | None
    keep: Literal["first", "longest", "highest"]
    remove: bool


@dataclass(frozen=True)
class Source:
    """Spilled documents of one dataset: the input, or one ``against`` dataset (``name``)."""

    name: str | None
    parts: Sequence[Part]
    start: int
    rows: int


def _ids(
    sources: Sequence[Source], docs: np.ndarray
) -> Generator[list[Call], list[Any], list[pa.Array]]:
    """Ids of the sorted global indices ``docs``, source by source."""
    out: list[pa.Array] = []
    for src in sources:
        lo, hi = np.searchsorted(docs, [src.start, src.start + src.rows])
        ids = yield from column_values(src.parts, schema.ID, docs[lo:hi])
        out.append(ids.cast(pa.string()))
    return out


def cluster_decisions(
    work: Path, sources: Sequence[Source], plan: ClusterPlan, memory: int
) -> Generator[list[Call], list[Any], RowDecisions]:
    """Decisions for every input document in a cluster of two or more.

    Documents of ``against`` datasets have negative indices, before the input's, which count
    from its first document; ``memory`` is what one task may hold.
    """
    total = sum(s.rows for s in sources)
    u, v = yield from candidate_edges(
        sorted(work.glob("bands-*.parquet")),
        bands=plan.bands,
        docs=total,
        memory=memory,
        pair_cap=PAIR_CAP if plan.verify_threshold else 0,
    )
    log.info("dedup.minhash: %d candidate edges among %d documents", len(u), total)
    if not len(u):
        return empty_decisions(COLUMNS)
    wanted = np.unique(np.concatenate([u, v]))
    table = yield from load_signatures(
        sorted(work.glob("sigs-*.parquet")), wanted, plan.num_perm, work
    )
    if plan.verify_threshold is not None:
        ok = similarities(u, v, table) >= plan.verify_threshold
        log.info("dedup.minhash: %d of %d edges verified", int(ok.sum()), len(u))
        u, v = u[ok], v[ok]
        if not len(u):
            return empty_decisions(COLUMNS)
    nodes, roots = components(u, v)
    rows = table.rows(nodes)
    value = {
        "first": None,
        "longest": table.length[rows].astype(np.float64),
        "highest": table.score[rows],
    }[plan.keep]
    kept = choose_kept(nodes, roots, value=value, pinned=0)
    _, inverse, sizes = np.unique(roots, return_inverse=True, return_counts=True)
    similarity = similarities(nodes, kept, table)
    del table

    inputs = nodes >= 0
    nodes, kept, similarity = nodes[inputs], kept[inputs], similarity[inputs]
    sizes = sizes[inverse][inputs]
    kept_docs = np.unique(kept)
    ids = yield from _ids(sources, kept_docs)
    kept_ids = pa.concat_arrays([pa.array([], pa.string()), *ids]).take(
        pa.array(np.searchsorted(kept_docs, kept))
    )
    removed = (nodes != kept) & plan.remove
    other = removed & (kept < 0)
    sims = pc.cast(pc.round(pa.array(similarity), 3), pa.string())
    own = pc.binary_join_element_wise("kept=", kept_ids, " similarity=", sims, "")
    names = _dataset_names(sources, kept)
    foreign = pc.binary_join_element_wise(
        "dataset=", names, " id=", kept_ids, " similarity=", sims, ""
    )
    none = pa.scalar(None, pa.string())
    details = pc.if_else(pa.array(other), foreign, pc.if_else(pa.array(removed), own, none))
    reasons = pc.if_else(pa.array(other), NEAR_OTHER, pc.if_else(pa.array(removed), NEAR, none))
    log.info("dedup.minhash: %d clusters, %d documents in them", len(kept_docs), len(nodes))
    return RowDecisions(
        nodes,
        reasons,
        details,
        {"dup_cluster": kept_ids, "dup_cluster_size": pa.array(sizes, pa.int64())},
    )


def _dataset_names(sources: Sequence[Source], docs: np.ndarray) -> pa.Array:
    """The ``against`` dataset each document index belongs to (empty for the input)."""
    starts = np.array([s.start for s in sources])
    which = np.searchsorted(starts, docs, side="right") - 1
    names = pa.array([s.name or "" for s in sources], pa.string())
    return names.take(pa.array(which))
