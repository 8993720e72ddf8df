"""curate: turn raw text corpora into training-ready, audited, versioned datasets.

>>> import curate
>>> isinstance(curate.__version__, str)
True
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("llmos-curate")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
