"""How many copies of each document a mixture takes.

A component (or, with ``temperature``, each of its languages) is a group ``g`` of ``n_g``
documents of total size ``S_g`` (tokens or documents) wanted at size ``t_g = W_g * total``. Every
document is taken ``floor(t_g / S_g)`` times (whole epochs), then the documents of a seeded random
permutation are taken once more, in order, while they bring the group closer to ``t_g``. The
achieved size is therefore off by less than one document from the requested one.

>>> import numpy as np
>>> copies = take(np.array([10, 10, 10, 10]), 26.0, seed=1)
>>> int((copies * 10).sum()), int(copies.max())
(30, 1)
>>> int((take(np.array([10, 10]), 45.0, seed=1) * 10).sum())
40
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def take(
    sizes: npt.NDArray[np.int64], target: float, *, seed: int | list[int]
) -> npt.NDArray[np.int64]:
    """Copies of each document so that ``sum(copies * sizes)`` is as close to ``target`` as a
    seeded choice of whole documents allows."""
    total = int(sizes.sum())
    copies = np.zeros(len(sizes), dtype=np.int64)
    if total == 0 or target <= 0:
        return copies
    full = int(target // total)
    copies += full
    rest = target - full * total
    order = np.random.default_rng(seed).permutation(len(sizes))
    reach = np.cumsum(sizes[order])
    count = int(np.searchsorted(reach, rest, side="right"))
    below = float(reach[count - 1]) if count else 0.0
    if count < len(order) and reach[count] - rest < rest - below:
        count += 1
    copies[order[:count]] += 1
    return copies


def language_weights(sizes: dict[str, int], temperature: float) -> dict[str, float]:
    """Shares of a component's languages after temperature sampling: ``p_l ** (1 / T)``,
    normalised, with ``p_l`` the language's share of the component's size.

    >>> {k: round(v, 3) for k, v in language_weights({"en": 90, "fr": 10}, 2.0).items()}
    {'en': 0.75, 'fr': 0.25}
    """
    total = sum(sizes.values())
    if total == 0:
        return {k: 0.0 for k in sizes}
    powered = {k: (v / total) ** (1.0 / temperature) for k, v in sizes.items() if v}
    norm = sum(powered.values())
    return {k: powered.get(k, 0.0) / norm for k in sizes}
