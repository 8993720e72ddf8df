"""Aggregating chunk scores back to documents.

Long documents are scored in chunks of a model's maximum length, never truncated; each
document's chunks are contiguous and every document has at least one chunk. ``max`` keeps the
worst chunk (a single toxic paragraph marks the document); ``mean`` weights each chunk by its
number of tokens, so a short trailing chunk counts for what it holds; ``share`` is the share of
the document's tokens that lie in chunks scoring ``threshold`` or more (a book with one rude
paragraph gets a small share, a rant a large one).

Memory is bounded by :func:`groups` and :func:`pieces`: a model tokenizes consecutive texts of
at most :data:`PIECE_CHARS` characters together and a longer text piece by piece.

>>> [len(p) for p in pieces("ab " * 400_000)]
[999999, 200001]

>>> import numpy as np
>>> scores = np.array([[0.1], [0.9], [0.2]])
>>> doc = np.array([0, 0, 1])
>>> aggregate(scores, doc, np.array([3.0, 1.0, 5.0]), n_docs=2, how="max").ravel().tolist()
[0.9, 0.2]
>>> aggregate(scores, doc, np.array([3.0, 1.0, 5.0]), n_docs=2, how="mean").round(6).ravel()
array([0.3, 0.2])
>>> aggregate(scores, doc, np.array([3.0, 1.0, 5.0]), n_docs=2, how="share").ravel().tolist()
[0.25, 0.0]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import numpy as np

Aggregate = Literal["max", "mean", "share"]
#: A chunk counts as flagged for ``share`` from this score on.
SHARE_THRESHOLD = 0.5
#: Characters tokenized at once: texts are grouped up to this size and a longer text is read in
#: pieces of it, so a model's working memory follows this, not the batch or the document.
PIECE_CHARS = 1_000_000
#: Where a piece may end: no word token of the linear model continues across ASCII whitespace.
SPACES = (" ", "\n", "\t", "\r")


def aggregate(
    scores: np.ndarray,
    doc: np.ndarray,
    weights: np.ndarray,
    *,
    n_docs: int,
    how: Aggregate,
    threshold: float = SHARE_THRESHOLD,
) -> np.ndarray:
    """Per-document scores (``n_docs x k``) from per-chunk ``scores`` (``chunks x k``).

    ``doc`` is each chunk's document, non-decreasing and covering ``0..n_docs-1``.
    """
    if scores.ndim == 1:
        scores = scores[:, None]
    if n_docs == 0:
        return np.zeros((0, scores.shape[1]), dtype=np.float64)
    starts = np.searchsorted(doc, np.arange(n_docs))
    if how == "max":
        out: np.ndarray = np.maximum.reduceat(scores, starts, axis=0)
        return out
    if how == "share":
        scores = (scores >= threshold).astype(np.float64)
    w = np.asarray(weights, dtype=np.float64)
    total = np.add.reduceat(w, starts)
    sizes = np.diff(np.append(starts, len(doc)))
    # Chunks with no tokens at all (an empty document) fall back to an unweighted mean.
    w = np.where(np.repeat(total, sizes) > 0, w, 1.0)
    total = np.add.reduceat(w, starts)
    summed: np.ndarray = np.add.reduceat(scores * w[:, None], starts, axis=0)
    return summed / total[:, None]


def groups(texts: list[str]) -> Iterator[tuple[int, list[str]]]:
    """``(index of the first, texts)``: consecutive texts of at most PIECE_CHARS characters in
    all, and each longer text alone."""
    start, size = 0, 0
    for i, text in enumerate(texts):
        if len(text) > PIECE_CHARS or size + len(text) > PIECE_CHARS:
            if i > start:
                yield start, texts[start:i]
            start, size = i, 0
        size += len(text)
        if len(text) > PIECE_CHARS:
            yield i, [text]
            start, size = i + 1, 0
    if len(texts) > start:
        yield start, texts[start:]


def pieces(text: str) -> Iterator[str]:
    """``text`` in pieces of about PIECE_CHARS characters, each ending after ASCII whitespace.

    No word token continues across whitespace, and lower-casing (whose Greek final sigma looks
    at neighbouring letters, through punctuation) never looks across it, so the pieces'
    tokens are the text's. A stretch of PIECE_CHARS without whitespace stays in its piece.
    """
    start = 0
    while len(text) - start > PIECE_CHARS:
        end = start + PIECE_CHARS
        cut = max(text.rfind(c, start, end) for c in SPACES)
        if cut < 0:
            found = [i for i in (text.find(c, end) for c in SPACES) if i >= 0]
            if not found:
                break
            cut = min(found)
        yield text[start : cut + 1]
        start = cut + 1
    yield text[start:]
