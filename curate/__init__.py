"""curate: turn raw text corpora into training-ready, audited, versioned datasets.

>>> import curate
>>> isinstance(curate.__version__, str)
True
"""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    # Looked up on first use: reading package metadata is a noticeable part of start-up.
    if name != "__version__":
        raise AttributeError(f"module 'curate' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("llmos-curate")
    except PackageNotFoundError:  # running from a source tree that is not installed
        found = "0.0.0"
    globals()["__version__"] = found
    return found
