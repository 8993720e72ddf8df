"""The text normalisation shared by ``score.classifier`` and ``curate train classifier``.

fastText reads one line per prediction and splits on whitespace, so every run of whitespace
(newlines included) becomes one space and the ends are trimmed. Training and scoring use this
same function, so a model sees at scoring time exactly the kind of line it was trained on.

>>> import pyarrow as pa
>>> normalize(pa.array(["Two\\n\\nparagraphs  here ", None])).to_pylist()
['Two paragraphs here', None]
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

#: Recorded in a trained model's card, so a reader knows what the model saw.
NORMALIZATION = "whitespace runs (newlines included) to one space, ends trimmed; case kept"


def normalize(text: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Whitespace-collapsed copy of a string column (nulls stay null)."""
    collapsed = pc.replace_substring_regex(text, pattern=r"\s+", replacement=" ")
    return pc.utf8_trim_whitespace(collapsed)
