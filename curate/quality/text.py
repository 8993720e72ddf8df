"""Words and lines of a whole batch of texts, found on its UTF-8 bytes with NumPy.

Quality signals need word and line boundaries for millions of words per second, which rules out
Python loops and per-word string objects. Instead the texts of a batch are laid back to back in one
byte buffer (Arrow already stores them so) and every step works on arrays of byte positions:

* a *token* is a maximal run of non-space characters (spaces are Unicode separators and control
  characters), never crossing from one text to the next;
* a *word* is a token with its leading and trailing punctuation and symbols removed; tokens that
  are nothing but punctuation are not words. Han, Kana and Thai characters are words on their own
  (their texts are first rewritten with a separator around each such character);
* lines and paragraphs are in :mod:`curate.quality.lines`.

>>> import pyarrow as pa
>>> t = TextBatch.from_arrow(pa.array(["Hello, world!  (Again)\\n\\nBye...", "中文 ok"]))
>>> [t.word_text(i) for i in range(t.n_words)]
['Hello', 'world', 'Again', 'Bye', '中', '文', 'ok']
>>> t.word_off.tolist(), t.word_chars.tolist()
([0, 4, 7], [5, 5, 5, 3, 1, 1, 2])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from curate.lang.scripts import decode_leads
from curate.quality import kernels
from curate.quality import unicode as uc
from curate.quality.hashing import lower_ascii
from curate.quality.lines import Lines, find_lines

Int = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]

_ASCII_CLASS = np.concatenate([uc.table()[:128], np.zeros(128, dtype=np.uint8)])


def _width(lead: npt.NDArray[np.uint8]) -> Int:
    """Bytes of the UTF-8 sequence starting with each lead byte."""
    return np.where(lead < 0x80, 1, np.where(lead < 0xE0, 2, np.where(lead < 0xF0, 3, 4)))


@dataclass
class TextBatch:
    """Byte-level view of a batch of texts with its tokens, words and lines."""

    n: int
    valid: Bool
    data: npt.NDArray[np.uint8]
    starts: Int
    lead_pos: Int
    lead_cp: npt.NDArray[np.int32]
    lead_cls: npt.NDArray[np.uint8]
    nonchar: Int
    tok_s: Int = field(init=False)
    tok_e: Int = field(init=False)

    @classmethod
    def from_arrow(cls, texts: pa.Array | pa.ChunkedArray) -> TextBatch:
        arr = texts.combine_chunks() if isinstance(texts, pa.ChunkedArray) else texts
        valid = np.asarray(pc.is_valid(arr).to_numpy(zero_copy_only=False), dtype=bool)
        arr = arr.cast(pa.large_string())
        if arr.null_count:
            arr = pc.fill_null(arr, "")
        batch = cls._load(arr, valid)
        if np.any(batch.lead_cls & uc.SOLO):
            rows = np.unique(batch.doc_of(batch.lead_pos[(batch.lead_cls & uc.SOLO) != 0]))
            mask = np.zeros(len(arr), dtype=bool)
            mask[rows] = True
            spaced = pc.replace_substring_regex(
                arr.take(pa.array(rows)), uc.solo_pattern(), f"{uc.SEPARATOR}\\1{uc.SEPARATOR}"
            )
            arr = pc.replace_with_mask(arr, pa.array(mask), spaced)
            batch = cls._load(arr.cast(pa.large_string()), valid, separators=True)
        batch._tokenize()
        return batch

    @classmethod
    def _load(cls, arr: pa.Array, valid: Bool, *, separators: bool = False) -> TextBatch:
        n = len(arr)
        offsets = np.frombuffer(
            arr.buffers()[1], dtype=np.int64, count=n + 1, offset=arr.offset * 8
        )
        base = int(offsets[0])
        size = int(offsets[-1]) - base
        raw = arr.buffers()[2]
        data = (
            np.frombuffer(raw, dtype=np.uint8)[base : base + size]
            if raw is not None and size
            else np.zeros(0, dtype=np.uint8)
        )
        high = np.flatnonzero(data >= 0x80)
        is_lead = (data[high] & 0xC0) == 0xC0
        lead_pos = high[is_lead]
        lead_cp = decode_leads(data, lead_pos)
        nonchar = high[~is_lead]
        if separators:
            sep = np.flatnonzero(data == ord(uc.SEPARATOR))
            nonchar = np.sort(np.concatenate([nonchar, sep]))  # disjoint: no duplicates
        return cls(
            n=n,
            valid=valid,
            data=data,
            starts=offsets - base,
            lead_pos=lead_pos,
            lead_cp=lead_cp,
            lead_cls=uc.classify(lead_cp),
            nonchar=nonchar,
        )

    def doc_of(self, pos: Int) -> Int:
        """Index of the text holding each byte position."""
        return np.searchsorted(self.starts, pos, side="right") - 1

    # -- characters -------------------------------------------------------------------------

    def char_info(self, pos: Int) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.uint8], Int]:
        """Code point, class flags and byte width of the characters starting at ``pos``."""
        byte = self.data[pos]
        cps = byte.astype(np.int32)
        flags = _ASCII_CLASS[byte]
        width = np.ones(len(pos), dtype=np.int64)
        multi = np.flatnonzero(byte >= 0xC0)
        if multi.size:
            at = np.searchsorted(self.lead_pos, pos[multi])
            cps[multi] = self.lead_cp[at]
            flags[multi] = self.lead_cls[at]
            width[multi] = _width(byte[multi])
        return cps, flags, width

    def last_char_start(self, end: Int) -> Int:
        """Position of the first byte of the character ending just before ``end``."""
        start = end - 1
        cont = np.flatnonzero((self.data[start] & 0xC0) == 0x80)
        if cont.size:
            start[cont] = self.lead_pos[np.searchsorted(self.lead_pos, start[cont], "right") - 1]
        return start

    def chars_in(self, s: Int, e: Int) -> Int:
        """Characters in each byte range ``[s, e)`` (ranges sorted and disjoint)."""
        nbytes = e - s
        if not self.nonchar.size:
            return nbytes
        if self.nonchar.size > 4 * len(s):
            mask = np.zeros(len(self.data) + 1, dtype=np.int64)
            mask[self.nonchar + 1] = 1
            cum = np.cumsum(mask)
            return nbytes - (cum[e] - cum[s])
        owner = np.searchsorted(s, self.nonchar, side="right") - 1
        inside = (owner >= 0) & (self.nonchar < e[np.maximum(owner, 0)])
        return nbytes - np.bincount(owner[inside], minlength=len(s))

    # -- tokens and words -------------------------------------------------------------------

    def _tokenize(self) -> None:
        space = self.data <= 32
        wide = self.lead_pos[(self.lead_cls & uc.SPACE) != 0]
        if wide.size:
            width = _width(self.data[wide])
            for k in range(4):
                space[wide[width > k] + k] = True
        self.tok_s, self.tok_e = kernels.tokens(self.starts, space)

    @cached_property
    def tok_off(self) -> Int:
        """Index of each text's first token (``n + 1`` values)."""
        return np.searchsorted(self.tok_s, self.starts)

    @cached_property
    def _words(self) -> tuple[Int, Int, Int, Bool, npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
        return kernels.words(
            self.data,
            self.tok_s,
            self.tok_e,
            self.lead_pos,
            self.lead_cls,
            _ASCII_CLASS,
            punct=uc.PUNCT,
            letter=uc.LETTER,
        )

    @property
    def word_s(self) -> Int:
        return self._words[0]

    @property
    def word_e(self) -> Int:
        return self._words[1]

    @property
    def n_words(self) -> int:
        return len(self._words[0])

    @cached_property
    def word_off(self) -> Int:
        """Index of each text's first word (``n + 1`` values)."""
        return np.searchsorted(self.word_s, self.starts)

    @cached_property
    def word_doc(self) -> Int:
        return np.repeat(np.arange(self.n, dtype=np.int64), np.diff(self.word_off))

    @property
    def word_chars(self) -> Int:
        return self._words[2]

    @property
    def word_alpha(self) -> Bool:
        """Whether each word has at least one letter."""
        return self._words[3]

    @property
    def word_key(self) -> npt.NDArray[np.uint64]:
        """Key of each word's bytes (case-sensitive)."""
        return self._words[5]

    def folded(self, words: Int) -> npt.NDArray[np.uint64]:
        """Keys of the given words of at most 8 bytes, with ASCII letters lower-cased."""
        return lower_ascii(self._words[4][words])

    def word_text(self, i: int) -> str:
        """The text of word ``i`` (for tests and debugging)."""
        raw = self.data[self.word_s[i] : self.word_e[i]].tobytes().decode("utf-8")
        return raw.replace(uc.SEPARATOR, "")

    # -- lines --------------------------------------------------------------------------------

    @cached_property
    def newlines(self) -> Int:
        return np.flatnonzero(self.data == 10)

    @cached_property
    def lines(self) -> Lines:
        """The lines and paragraphs of every text."""
        return find_lines(self)
