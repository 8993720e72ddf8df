"""Union-find over duplicate edges, vectorised: memory grows with the edges, not the corpus.

Only the documents that appear in an edge get a slot in the parent forest. Each round hooks the
root of the larger side of every unsatisfied edge under the smaller root (``union``), then
compresses every path by pointer jumping (``find``), all with NumPy over the whole edge list.
Hooking always points to a smaller index, so each component's root is its smallest document,
which for input-order indices is its first document: the result is deterministic whatever the
order of the edges.

>>> import numpy as np
>>> nodes, roots = components(np.array([5, 9, 2]), np.array([9, 7, 3]))
>>> dict(zip(nodes.tolist(), roots.tolist()))
{2: 2, 3: 2, 5: 5, 7: 5, 9: 5}
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]


def _compress(parent: I64) -> I64:
    while True:
        grand = parent[parent]
        if np.array_equal(grand, parent):
            return parent
        parent = grand


def components(u: I64, v: I64) -> tuple[I64, I64]:
    """Nodes of the edges ``(u[i], v[i])`` (sorted) and the root (smallest member) of each."""
    nodes = np.unique(np.concatenate([u, v]).astype(np.int64))
    iu = np.searchsorted(nodes, u)
    iv = np.searchsorted(nodes, v)
    parent = np.arange(len(nodes), dtype=np.int64)
    while len(iu):
        ru, rv = parent[iu], parent[iv]
        open_ = ru != rv
        if not open_.any():
            break
        iu, iv, ru, rv = iu[open_], iv[open_], ru[open_], rv[open_]
        np.minimum.at(parent, np.maximum(ru, rv), np.minimum(ru, rv))
        parent = _compress(parent)
    return nodes, nodes[parent]
