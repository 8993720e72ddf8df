"""The text normalisation shared by ``score.classifier`` and ``curate train classifier``.

fastText reads one line per prediction, so every newline becomes a space; it splits words on the
other ASCII whitespace itself, so runs of spaces and tabs need no rewriting (and copying the text
once less keeps scoring at the speed of a bare predict loop). Training and scoring use this same
function, so a model sees at scoring time exactly the kind of line it was trained on.

>>> import pyarrow as pa
>>> normalize(pa.array(["Two\\n\\nparagraphs  here", None])).to_pylist()
['Two  paragraphs  here', None]
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

#: Recorded in a trained model's card, so a reader knows what the model saw.
NORMALIZATION = "newlines replaced by spaces (fastText splits on whitespace); case kept"


def normalize(text: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """The column with newlines replaced by spaces (nulls stay null)."""
    return pc.replace_substring(text, pattern="\n", replacement=" ")
