"""Decontamination: word n-gram hashes of evaluation sets and of documents, and their matching.

The limits that recipes are validated against live here, not beside the kernels: checking a
recipe or writing a run's card reads them, and importing :mod:`curate.decontam.ngrams` would
load the compiled kernels (numba, ~0.1 s and ~90 MB) for a run that never decontaminates.
"""

from __future__ import annotations

#: The longest word n-gram a ``decontaminate`` stage may be asked for.
MAX_N = 64
