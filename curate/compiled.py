"""What the numba kernels share: the compiling decorator and the 64-bit mixing function.

Kernels are compiled on first use and cached on disk next to their module (numba falls back to
a per-user cache folder when the package folder is read-only), so only the first run on a
machine pays the compilation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np

_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)
_S27, _S30, _S31 = np.uint64(27), np.uint64(30), np.uint64(31)

_F = TypeVar("_F", bound=Callable[..., Any])


def jit(function: _F) -> _F:
    """Compile ``function`` with numba (no Python objects, GIL released), cached on disk."""
    return cast(_F, numba.njit(cache=True, nogil=True)(function))


@jit
def mix(x: np.uint64) -> np.uint64:
    """The splitmix64 finaliser: every input bit reaches every output bit."""
    x = (x ^ (x >> _S30)) * _M2
    x = (x ^ (x >> _S27)) * _M3
    out: np.uint64 = x ^ (x >> _S31)
    return out
