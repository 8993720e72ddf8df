"""Arrow values built from buffers rather than from Python objects.

pyarrow imports pandas (0.16 s of CPU, most of ``curate check``'s start-up) the first time it
converts a Python value (``pa.array``, ``pa.scalar``, a ``str`` argument to a compute function),
to ask whether the value is a pandas object. The reader builds only these few values on every
chunk, so it builds them from NumPy buffers, which pyarrow takes without that question.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def int64_range(*, start: int, stop: int) -> pa.Array:
    """The int64 values ``start, start + 1, ..., stop - 1``."""
    values = np.arange(start, stop, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(values), [None, pa.py_buffer(values)])


def string_scalar(value: str) -> pa.Scalar:
    """``value`` as an Arrow string scalar, for an argument of a compute function."""
    data = value.encode()
    offsets = np.array([0, len(data)], dtype=np.int32)
    one = pa.Array.from_buffers(pa.string(), 1, [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    return one[0]


def int64_values(array: pa.Array) -> np.ndarray:
    """An int64 array without nulls as a NumPy view of its buffer (``to_numpy`` asks for pandas)."""
    if array.type != pa.int64() or array.null_count:
        raise ValueError(f"int64_values: needs int64 values without nulls, not {array.type}")
    data = array.buffers()[1]
    if data is None:
        return np.zeros(0, dtype=np.int64)
    return np.frombuffer(data, dtype=np.int64, count=len(array), offset=array.offset * 8)


def int64_scalar(value: int) -> pa.Scalar:
    """``value`` as an Arrow int64 scalar, for an argument of a compute function."""
    return int64_range(start=value, stop=value + 1)[0]
