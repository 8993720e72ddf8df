"""Tokenising a batch of documents once for every text statistic of the audit.

Splitting on whitespace gives the composition's word counts. Association and pronoun counts use
the same tokens, lower-cased and cut into words: runs of letters, with apostrophes and hyphens
allowed between letters, of two characters or more (digits and punctuation are not words);
@handles and URLs are dropped and HTML entities removed, so neither "gt" nor "amp" is a word.
Normalisation runs on the batch's distinct tokens rather than on every token, which is what makes
the pass fast.

>>> import pyarrow as pa
>>> t = tokenize(pa.array(["He said: Hello, world!", None, "hello  x 42"]))
>>> t.lengths.tolist(), t.words.to_pylist()
([4, 0, 3], ['he', 'said', 'hello', 'world'])
>>> t.doc.tolist(), t.word_ids.tolist()
([0, 0, 0, 0, 2], [0, 1, 2, 3, 2])
>>> tokenize(pa.array(["@bob see https://x.org &gt;&gt; fish&amp;chips"])).words.to_pylist()
['see', 'fish', 'chips']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

#: A counted word: letters, with apostrophes or hyphens only between letters.
_WORD = r"\p{L}(?:[\p{L}\p{M}]|['’-]\p{L})*"
#: Raw tokens dropped from word counts: URLs, and HTML entities inside tokens.
_URL = r"^(?:[a-z][a-z0-9+.\-]*://|www\.)"
_ENTITY = r"&(?:#x?[0-9a-f]+|[a-z][a-z0-9]*);?"


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
    #: The first ``ordered`` tokens are in document order (the rest come from tokens holding
    #: several words, appended at the end).
    ordered: int = 0


def tokenize(text: pa.Array | pa.ChunkedArray) -> Tokens:
    """Split and normalise a column of documents (nulls count as empty)."""
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    if pa.types.is_large_string(text.type):
        text = text.cast(pa.string())
    text = pc.fill_null(text, "")
    # Split on ASCII whitespace (fast); Unicode spaces inside a token are counted below.
    parts = pc.ascii_split_whitespace(text)
    lengths = pc.list_value_length(parts).to_numpy(zero_copy_only=False).astype(np.int64)
    flat = pc.list_flatten(parts)
    if len(flat) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Tokens(lengths, pa.array([], pa.string()), empty, empty, 0)
    parent = pc.list_parent_indices(parts).to_numpy().astype(np.int64)
    encoded = pc.dictionary_encode(flat)
    indices = encoded.indices.to_numpy().astype(np.int64)
    raw = encoded.dictionary
    # Whitespace words per distinct raw token: 0 for the empty strings that leading or trailing
    # spaces leave, more than 1 when it holds Unicode spaces (no-break space, ideographic space).
    pieces = pc.list_value_length(pc.utf8_split_whitespace(raw)).to_numpy(zero_copy_only=False)
    pieces = pieces - (pc.binary_length(pc.utf8_trim_whitespace(raw)).to_numpy() == 0)
    if (pieces != 1).any():
        lengths += np.bincount(parent, weights=pieces[indices] - 1, minlength=len(lengths)).astype(
            np.int64
        )
    # Words of each distinct raw token (most have one; "stop—now" has two).
    # @handles and URLs are not words; HTML entities (&amp; &gt;) would leave "amp", "gt".
    lowered = pl.Series(raw).str.to_lowercase()
    noise = lowered.str.starts_with("@") | lowered.str.contains(_URL)
    entity = lowered.str.contains("&", literal=True)
    cleaned = pl.select(
        pl.when(noise)
        .then(pl.lit(""))
        .when(entity)
        .then(lowered.str.replace_all(_ENTITY, " "))
        .otherwise(lowered)
    ).to_series()
    found = (
        pl.DataFrame({"w": cleaned.str.extract_all(_WORD)})
        .with_row_index("raw")
        .explode("w")
        .filter(pl.col("w").str.len_chars() >= 2)
    )
    words = found.get_column("w").unique(maintain_order=True)
    lookup = pl.DataFrame({"w": words, "i": np.arange(words.len(), dtype=np.int64)})
    found = found.join(lookup, on="w", maintain_order="left")
    raw_ids = found.get_column("raw").to_numpy().astype(np.int64)
    word_ids = found.get_column("i").to_numpy()
    per_raw = np.bincount(raw_ids, minlength=len(raw))
    # Fast path: tokens whose raw form is exactly one word map directly.
    single = np.full(len(raw), -1, dtype=np.int64)
    one = per_raw[raw_ids] == 1
    single[raw_ids[one]] = word_ids[one]
    token_word = single[indices]
    keep = token_word >= 0
    doc, out = parent[keep], token_word[keep]
    ordered = doc.size
    multi = np.flatnonzero(per_raw[indices] > 1)
    if multi.size:
        # The few tokens holding several words: expand each into its raw token's words.
        first = np.concatenate([[0], np.cumsum(per_raw)[:-1]])
        repeat = per_raw[indices[multi]]
        starts = np.repeat(first[indices[multi]], repeat)
        within = np.arange(int(repeat.sum())) - np.repeat(np.cumsum(repeat) - repeat, repeat)
        doc = np.concatenate([doc, np.repeat(parent[multi], repeat)])
        out = np.concatenate([out, word_ids[starts + within]])
    return Tokens(lengths, words.to_arrow(), doc, out, ordered)
