"""Tokenising a batch of documents once for every text statistic of the audit.

Splitting on whitespace gives the composition's word counts. Association and pronoun counts use
the same tokens, normalised: lower-cased, leading and trailing non-letters stripped, and kept only
when at least two characters of letters, apostrophes and hyphens remain. Normalisation runs on the
batch's distinct tokens rather than on every token, which is what makes the pass fast.

>>> import pyarrow as pa
>>> t = tokenize(pa.array(["He said: Hello, world!", None, "hello  x 42"]))
>>> t.lengths.tolist(), t.words.to_pylist()
([4, 0, 3], ['he', 'said', 'hello', 'world'])
>>> t.doc.tolist(), t.word_ids.tolist()
([0, 0, 0, 0, 2], [0, 1, 2, 3, 2])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

#: Characters stripped from both ends of a token before it is counted as a word.
_EDGES = r"^[^\p{L}]+|[^\p{L}]+$"
#: What a counted word may contain after stripping.
_WORD = r"^[\p{L}\p{M}'’-]{2,}$"


@dataclass(frozen=True)
class Tokens:
    """The tokens of one batch."""

    #: Whitespace-separated words per document.
    lengths: NDArray[np.int64]
    #: Distinct normalised words of the batch.
    words: pa.Array
    #: Per counted token: its document (row in the batch) and its index into ``words``.
    doc: NDArray[np.int64]
    word_ids: NDArray[np.int64]


def _split(text: pa.Array) -> pa.ListArray:
    # On pure-ASCII batches both splits agree, and the ASCII one is faster.
    if pc.all(pc.string_is_ascii(text)).as_py() is not False:
        return pc.ascii_split_whitespace(text)
    return pc.utf8_split_whitespace(text)


def tokenize(text: pa.Array | pa.ChunkedArray) -> Tokens:
    """Split and normalise a column of documents (nulls count as empty)."""
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    if pa.types.is_large_string(text.type):
        text = text.cast(pa.string())
    text = pc.fill_null(text, "")
    parts = _split(text)
    lengths = pc.list_value_length(parts).to_numpy(zero_copy_only=False).astype(np.int64)
    flat = pc.list_flatten(parts)
    if len(flat) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Tokens(lengths, pa.array([], pa.string()), empty, empty)
    parent = pc.list_parent_indices(parts).to_numpy().astype(np.int64)
    # Leading or trailing whitespace yields empty strings, which are not words.
    empty = pc.equal(pc.binary_length(flat), 0).to_numpy(zero_copy_only=False)
    if empty.any():
        lengths -= np.bincount(parent[empty], minlength=len(lengths))
    encoded = pc.dictionary_encode(flat)
    indices = encoded.indices.to_numpy().astype(np.int64)
    raw = pl.Series("w", encoded.dictionary)
    normal = raw.str.to_lowercase().str.replace_all(_EDGES, "")
    valid = normal.str.contains(_WORD)
    kept = normal.filter(valid)
    words = kept.unique(maintain_order=True)
    # Map each distinct raw token to its normalised word's index, -1 when it is not a word.
    lookup = pl.DataFrame({"w": words, "i": np.arange(words.len(), dtype=np.int64)})
    mapped = (
        pl.DataFrame({"w": normal})
        .join(lookup, on="w", how="left", maintain_order="left")
        .get_column("i")
        .fill_null(-1)
        .to_numpy()
    )
    token_word = mapped[indices]
    keep = token_word >= 0
    return Tokens(lengths, words.to_arrow(), parent[keep], token_word[keep])
