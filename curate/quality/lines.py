"""Lines and paragraphs of a :class:`~curate.quality.text.TextBatch`, from its tokens.

A *line* is the span from the first to the last token between two newlines; blank lines are not
lines. A *paragraph* is a run of lines not interrupted by a blank line. Both are found from the
newline positions alone: the newlines before each token say whether it starts a line, and two or
more of them mean a blank line.

>>> import pyarrow as pa
>>> from curate.quality.text import TextBatch
>>> lines = TextBatch.from_arrow(pa.array(["a b\\n\\n  c  \\nd", "e"])).lines
>>> lines.tokens.tolist(), lines.chars.tolist(), lines.paragraph_start.tolist()
([2, 1, 1, 1], [3, 1, 1, 1], [True, True, False, True])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from curate.quality import kernels

if TYPE_CHECKING:
    from curate.quality.text import TextBatch

Int = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Lines:
    """Per line: byte span ``[s, e)``, tokens, characters, key; ``off`` indexes them by text."""

    s: Int
    e: Int
    off: Int
    tokens: Int
    chars: Int
    key: npt.NDArray[np.uint64]
    paragraph_start: npt.NDArray[np.bool_]


def find_lines(t: TextBatch) -> Lines:
    """The lines of every text of ``t``, with a key for comparing them.

    Two lines are equal when they hold the same words in the same order and are equally long:
    punctuation and spacing are compared only through that length.
    """
    ntok = len(t.tok_s)
    first, start = kernels.line_spans(t.tok_s, t.starts, t.newlines)
    after = np.append(first[1:], ntok)[: len(first)]
    s, e = t.tok_s[first], np.asarray(t.tok_e[after - 1], dtype=np.int64)
    off = np.searchsorted(s, t.starts)
    chars = t.chars_in(s, e)
    first_word = np.searchsorted(t.word_s, s)
    words = np.diff(np.append(first_word, t.n_words))
    key = kernels.line_keys(t.word_key, first_word, words, chars)
    return Lines(s, e, off, after - first, chars, key, start)
