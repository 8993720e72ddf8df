"""Shingle hashes for whole batches of documents at once (the definitions are in
:mod:`curate.dedup.tokens`).

The batch path never loops over shingles, nor over tokens, in Python: NumPy cuts the UTF-8 bytes
into runs at ASCII punctuation and spaces, Arrow dictionary-encodes the runs, the distinct ASCII
runs are folded and hashed with NumPy a byte position at a time (the rest, a few per batch in
most corpora, are split and hashed one by one, cached), and n-gram windows are combined with
NumPy over the concatenated token stream.

>>> import pyarrow as pa
>>> from curate.dedup.tokens import shingle_hash
>>> hashes, counts = Shingler(ngram=2)(pa.array(["A b c", "", "b C"]))
>>> counts.tolist(), int(hashes[1]) == int(hashes[2]) == shingle_hash(("b", "c"))
([2, 0, 1], True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from curate.dedup.tokens import (
    ASCII_FOLD,
    MULT,
    SPACELESS_SHARE,
    Tokenizer,
    is_spaceless,
    normalize_token,
    token_hash,
    token_hashes,
    tokens,
)

#: ASCII tokens up to this many bytes are hashed with NumPy; longer ones one by one.
VECTOR_TOKEN_BYTES = 64

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]


def _word_bytes(data: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    """Bytes that belong to a run: ASCII letters and digits, and every non-ASCII byte.

    Wrapping uint8 arithmetic turns each range test into one comparison (several times faster
    than a table look-up over hundreds of megabytes).
    """
    word: npt.NDArray[np.bool_] = data >= np.uint8(0x80)
    word |= (data | np.uint8(0x20)) - np.uint8(ord("a")) < np.uint8(26)
    word |= data - np.uint8(ord("0")) < np.uint8(10)
    return word


def _per_doc_sums(values: npt.NDArray[Any], counts: I64) -> I64:
    """Sum of each document's ``counts[i]`` consecutive ``values``."""
    total = np.concatenate([[0], np.cumsum(values, dtype=np.int64)])
    ends = np.cumsum(counts)
    out: I64 = total[ends] - total[ends - counts]
    return out


def fmix64(h: U64) -> U64:
    """MurmurHash3's 64-bit finaliser, in place on a uint64 array (returned for chaining)."""
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


def ranges(starts: I64, lengths: I64) -> I64:
    """Concatenated ``arange(s, s + n)`` for every (s, n), vectorised.

    >>> ranges(np.array([10, 0]), np.array([2, 3])).tolist()
    [10, 11, 0, 1, 2]
    """
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    before = np.cumsum(lengths) - lengths
    out: I64 = np.arange(total, dtype=np.int64) + np.repeat(starts - before, lengths)
    return out


def window_hashes(seq: U64, counts: I64, n: int) -> tuple[npt.NDArray[np.uint32], I64]:
    """32-bit hashes of the n-gram windows of each document's token-hash run.

    ``seq`` holds every document's token hashes back to back, ``counts`` how many each has.
    Returns the shingle hashes (documents back to back) and the number per document.
    """
    starts = np.cumsum(counts) - counts
    full = counts >= n
    short = (counts > 0) & ~full
    per_doc = np.where(full, counts - n + 1, short.astype(np.int64))
    out_starts = np.cumsum(per_doc) - per_doc
    out = np.empty(int(per_doc.sum()), dtype=np.uint64)
    if full.any():
        m = len(seq) - n + 1
        h = seq[:m].copy()
        for j in range(1, n):
            h *= np.uint64(MULT)
            h += seq[j : j + m]
        out[ranges(out_starts[full], per_doc[full])] = h[ranges(starts[full], per_doc[full])]
    if short.any():
        s_start, s_len = starts[short], counts[short]
        h = np.zeros(len(s_start), dtype=np.uint64)
        for j in range(n - 1):
            live = s_len > j
            h[live] = h[live] * np.uint64(MULT) + seq[s_start[live] + j]
        out[out_starts[short]] = h
    return (fmix64(out) >> np.uint64(32)).astype(np.uint32), per_doc


def _string_bytes(values: pa.Array) -> tuple[npt.NDArray[np.uint8], I64]:
    """The data buffer of a (large) string array and its ``len + 1`` offsets into it."""
    wide = pa.types.is_large_string(values.type)
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int64 if wide else np.int32)
    offsets = offsets[values.offset : values.offset + len(values) + 1].astype(np.int64)
    data = values.buffers()[2]
    buf = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    return buf, offsets


def raw_tokens(texts: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, I64]:
    """Runs of ASCII letters and digits and non-ASCII bytes, and how many each text has.

    Cutting at ASCII punctuation and spaces only is a byte-level job for NumPy; a run that holds
    non-ASCII characters may still contain punctuation (curly quotes, dashes), which
    :meth:`Shingler._vocab` splits off once per distinct run.
    """
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    texts = pc.fill_null(texts.cast(pa.large_string()), "")
    buf, offsets = _string_bytes(texts)
    data = buf[offsets[0] : offsets[-1]]
    rel = offsets - offsets[0]
    word = _word_bytes(data)
    begin = word.copy()
    begin[1:] &= ~word[:-1]
    end = word.copy()
    end[:-1] &= ~word[1:]
    firsts = rel[:-1][rel[:-1] < rel[1:]]
    lasts = rel[1:][rel[1:] > rel[:-1]] - 1
    begin[firsts] = word[firsts]
    end[lasts] = word[lasts]
    starts = np.flatnonzero(begin)
    lengths = np.flatnonzero(end) + 1 - starts
    counts = np.diff(np.searchsorted(starts, rel)).astype(np.int64)
    token_offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    packed = np.ascontiguousarray(data[word])
    tokens = pa.LargeStringArray.from_buffers(
        len(starts), pa.py_buffer(token_offsets), pa.py_buffer(packed)
    )
    return tokens, counts


@dataclass
class _Vocab:
    """Facts about the tokens of the distinct runs of one batch; run ``i`` holds tokens
    ``first[i]`` to ``first[i] + count[i] - 1``."""

    hashes: U64
    letters: I64
    spaceless: I64
    first: I64
    count: I64
    runs: pa.Array
    split: dict[int, list[str]]

    def norms(self) -> list[str]:
        """Normalised text of every token (for character shingles)."""
        out: list[str] = []
        for i, run in enumerate(self.runs.to_pylist()):
            out.extend(normalize_token(t) for t in self.split.get(i, [run]))
        return out


class Shingler:
    """Turns a batch of texts into shingle hashes (thread-safe; caches non-ASCII tokens)."""

    def __init__(
        self,
        *,
        ngram: int = 5,
        char_ngram: int = 5,
        tokenizer: Tokenizer = "auto",
        cache_size: int = 100_000,
    ) -> None:
        self.ngram = ngram
        self.char_ngram = char_ngram
        self.tokenizer = tokenizer
        self._cache: dict[str, tuple[int, int, int]] = {}
        self._cache_size = cache_size
        self._char_hash: dict[str, int] = {}

    def _facts(self, token: str) -> tuple[int, int, int]:
        got = self._cache.get(token)
        if got is None:
            norm = normalize_token(token)
            spaceless = 0 if norm.isascii() else sum(is_spaceless(c) for c in norm)
            got = (token_hash(norm) if norm else 0, len(norm), spaceless)
            if len(self._cache) >= self._cache_size:
                self._cache.clear()
            self._cache[token] = got
        return got

    def _vocab(self, runs: pa.Array) -> _Vocab:
        lengths = pc.binary_length(runs).to_numpy(zero_copy_only=False).astype(np.int64)
        fast = pc.string_is_ascii(runs).to_numpy(zero_copy_only=False)
        fast &= lengths <= VECTOR_TOKEN_BYTES
        slow = np.flatnonzero(~fast)
        split = dict(zip(slow.tolist(), (tokens(r) for r in runs.take(pa.array(slow)).to_pylist())))
        count = np.ones(len(runs), dtype=np.int64)
        count[slow] = [len(split[i]) for i in slow.tolist()]
        first = np.cumsum(count) - count
        total = int(count.sum())
        hashes = np.zeros(total, dtype=np.uint64)
        letters = np.zeros(total, dtype=np.int64)
        spaceless = np.zeros(total, dtype=np.int64)
        if fast.any():
            buf, offsets = _string_bytes(runs)
            hashes[first[fast]] = token_hashes(ASCII_FOLD[buf], offsets[:-1][fast], lengths[fast])
            letters[first[fast]] = lengths[fast]
        if len(slow):
            facts = [self._facts(t) for i in slow.tolist() for t in split[i]]
            at = ranges(first[slow], count[slow])
            hashes[at] = [f[0] for f in facts]
            letters[at] = [f[1] for f in facts]
            spaceless[at] = [f[2] for f in facts]
        return _Vocab(hashes, letters, spaceless, first, count, runs, split)

    def _char_hashes(self, norms: list[str]) -> U64:
        out = []
        for norm in norms:
            for c in norm:
                h = self._char_hash.get(c)
                if h is None:
                    h = self._char_hash[c] = token_hash(c)
                out.append(h)
        return np.array(out, dtype=np.uint64)

    def __call__(self, texts: pa.Array | pa.ChunkedArray) -> tuple[npt.NDArray[np.uint32], I64]:
        """Shingle hashes of every text (back to back) and how many each text has."""
        runs, counts = raw_tokens(texts)
        encoded = pc.dictionary_encode(runs)
        run_idx = encoded.indices.to_numpy().astype(np.int64)
        vocab = self._vocab(encoded.dictionary)
        if (vocab.count == 1).all():
            idx = run_idx
        else:
            per_run = vocab.count[run_idx]
            idx = ranges(vocab.first[run_idx], per_run)
            counts = _per_doc_sums(per_run, counts)
        keep = vocab.letters[idx] > 0
        if not keep.all():
            counts = _per_doc_sums(keep, counts)
            idx = idx[keep]
        bounds = np.concatenate([[0], np.cumsum(counts)])
        if self.tokenizer == "words":
            char_docs = np.zeros(len(counts), dtype=bool)
        elif self.tokenizer == "chars":
            char_docs = counts > 0
        else:
            letters = np.concatenate([[0], np.cumsum(vocab.letters[idx])])[bounds]
            spaceless = np.concatenate([[0], np.cumsum(vocab.spaceless[idx])])[bounds]
            char_docs = np.diff(spaceless) >= SPACELESS_SHARE * np.maximum(np.diff(letters), 1)
            char_docs &= counts > 0
        if not char_docs.any():
            return window_hashes(vocab.hashes[idx], counts, self.ngram)
        return self._mixed(idx, counts, char_docs, vocab)

    def _mixed(
        self, idx: I64, counts: I64, char_docs: npt.NDArray[np.bool_], vocab: _Vocab
    ) -> tuple[npt.NDArray[np.uint32], I64]:
        in_char_doc = np.repeat(char_docs, counts)
        word_h, word_n = window_hashes(
            vocab.hashes[idx[~in_char_doc]], counts[~char_docs], self.ngram
        )
        lengths = vocab.letters
        flat = self._char_hashes(vocab.norms())
        offsets = np.cumsum(lengths) - lengths
        cidx = idx[in_char_doc]
        char_seq = flat[ranges(offsets[cidx], lengths[cidx])]
        cbounds = np.concatenate([[0], np.cumsum(lengths[cidx])])
        tok_bounds = np.concatenate([[0], np.cumsum(counts[char_docs])])
        char_h, char_n = window_hashes(char_seq, np.diff(cbounds[tok_bounds]), self.char_ngram)
        per_doc = np.zeros(len(counts), dtype=np.int64)
        per_doc[~char_docs] = word_n
        per_doc[char_docs] = char_n
        out_starts = np.cumsum(per_doc) - per_doc
        out = np.empty(int(per_doc.sum()), dtype=np.uint32)
        out[ranges(out_starts[~char_docs], word_n)] = word_h
        out[ranges(out_starts[char_docs], char_n)] = char_h
        return out, per_doc
