"""Mentions by kind: the ``identity_terms`` detail split into the columns the audit counts.

``score.identity`` with ``terms: true`` writes, per document, the lexicon entries it matched as
``{group, term, kind}``. The audit counts a group from its identity and ambiguous terms, and
keeps slurs apart (their own section) unless asked to fold them in; the terms themselves are
counted per group so a report can say which words make a group.

>>> import pyarrow as pa
>>> from curate.identity.matcher import TERM_TYPE
>>> detail = pa.array([[{"group": "g/a", "term": "x", "kind": "identity"},
...                     {"group": "g/a", "term": "y", "kind": "slur"},
...                     {"group": "g/b", "term": "z", "kind": "slur"}], []], TERM_TYPE)
>>> ids, slurs, terms = split_terms(detail, include_slurs=False)
>>> ids.to_pylist(), slurs.to_pylist()
([['g/a'], []], [['g/a', 'g/b'], []])
>>> terms.to_pylist()[0]
['g/a\\x1fx\\x1fidentity', 'g/a\\x1fy\\x1fslur', 'g/b\\x1fz\\x1fslur']
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: The dataset column ``score.identity`` writes with ``terms: true``.
DETAIL = "identity_terms"
#: Separates group, term and kind in a ``TERMS`` key.
SEP = "\x1f"


def _lists(parent: np.ndarray, values: pa.Array, n: int) -> pa.Array:
    """A list array of ``n`` rows from sorted ``parent`` indices and their values."""
    offsets = np.searchsorted(parent, np.arange(n + 1)).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), values)


def _distinct_groups(parent: np.ndarray, groups: pa.Array, n: int) -> pa.Array:
    """Per document, its groups once each (entries arrive sorted by group within a document)."""
    if len(groups) == 0:
        return _lists(parent, pa.array([], pa.string()), n)
    names = np.asarray(groups.to_numpy(zero_copy_only=False), dtype=object)
    first = np.ones(len(names), dtype=bool)
    first[1:] = (parent[1:] != parent[:-1]) | (names[1:] != names[:-1])
    keep = np.flatnonzero(first)
    return _lists(parent[keep], groups.take(pa.array(keep)), n)


def split_terms(
    detail: pa.Array | pa.ChunkedArray, *, include_slurs: bool
) -> tuple[pa.Array, pa.Array, pa.Array]:
    """``(identities, slurs, terms)`` from an ``identity_terms`` column: groups mentioned by
    identity and ambiguous terms (and slurs with ``include_slurs``), groups named by slurs, and
    ``group<SEP>term<SEP>kind`` keys."""
    if isinstance(detail, pa.ChunkedArray):
        detail = detail.combine_chunks()
    n = len(detail)
    flat = pc.list_flatten(detail)
    parent = pc.list_parent_indices(detail).to_numpy().astype(np.int64)
    group = flat.field("group")
    kind = flat.field("kind")
    keys = pc.binary_join_element_wise(group, flat.field("term"), kind, SEP)
    is_slur = pc.fill_null(pc.equal(kind, "slur"), False).to_numpy(zero_copy_only=False)
    counted = np.ones(len(flat), dtype=bool) if include_slurs else ~is_slur
    where = np.flatnonzero(counted)
    identities = _distinct_groups(parent[where], group.take(pa.array(where)), n)
    where = np.flatnonzero(is_slur)
    slurs = _distinct_groups(parent[where], group.take(pa.array(where)), n)
    return identities, slurs, _lists(parent, keys, n)
