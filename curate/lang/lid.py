"""fastText language-ID models: loading once per process, and what text each prediction reads.

fastText reads one line per prediction, so newlines become spaces and a newline ends the line.
Its cost grows with the text; a long document is classified from a sample of at most
``max_chars`` characters: its prefix, or three evenly spaced windows (start, middle, end) joined
by spaces, which also sees a document whose language changes after its opening. Texts no longer
than ``max_chars`` are read whole, so short documents get exactly the whole-document answer.

>>> import pyarrow as pa
>>> text = pa.array(["short", "aaaa bbbb cccc dddd eeee"], pa.large_string())
>>> lines, whole, cut = sample_lines(text, max_chars=12, sample="windows")
>>> lines, cut.tolist()
([b'short\\n', b'aaaa cccc eeee\\n'], [False, True])
>>> whole[1]
b'aaaa bbbb cccc dddd eeee\\n'
>>> sample_lines(text, max_chars=12, sample="prefix")[0]
[b'short\\n', b'aaaa bbbb cc\\n']
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

Sample = Literal["windows", "prefix"]
WINDOWS = 3


def load_fasttext(path: Path) -> Any:
    """The compiled fastText model at ``path``, loaded once per process.

    :func:`curate.models.load_fasttext` does the loading, so a damaged or truncated file is an
    error naming it instead of a crash or a traceback. Imported here: the model downloader's
    modules (ssl, urllib) are not needed to list stages or check a recipe.
    """
    from curate import models

    return models.load_fasttext(Path(path))


def _windows(text: str, max_chars: int) -> str:
    size = max_chars // WINDOWS
    step = (len(text) - size) / (WINDOWS - 1)
    return " ".join(text[int(i * step) : int(i * step) + size] for i in range(WINDOWS))


def sample_lines(
    text: pa.Array, *, max_chars: int | None, sample: Sample = "windows"
) -> tuple[list[bytes], list[bytes], npt.NDArray[np.bool_]]:
    """The line fastText reads for each text, the whole text's line, and which were cut.

    Lines are newline-terminated UTF-8; the two lists share the rows that were not cut.

    ``text`` is a non-null ``large_string`` array. Bytes, not str: pybind11 copies them into the
    model's std::string as they are, where a str would be encoded again.
    """
    empty = pa.scalar("", pa.large_string())
    flat = pc.replace_substring(text, "\n", " ")
    lines = pc.binary_join_element_wise(flat, empty, pa.scalar("\n", pa.large_string()))
    whole: list[bytes] = lines.cast(pa.large_binary()).to_pylist()
    if max_chars is None:
        return whole, whole, np.zeros(len(text), dtype=bool)
    cut = np.asarray(pc.utf8_length(flat).to_numpy(zero_copy_only=False) > max_chars)
    if not cut.any():
        return whole, whole, cut
    values = list(whole)
    rows = np.flatnonzero(cut)
    for row, long_text in zip(rows.tolist(), flat.take(pa.array(rows)).to_pylist()):
        part = long_text[:max_chars] if sample == "prefix" else _windows(long_text, max_chars)
        values[row] = (part + "\n").encode("utf-8")
    return values, whole, cut


def predict_lines(
    model: Any,
    lines: list[bytes],
    *,
    k: int,
    cut: npt.NDArray[np.bool_],
    whole: list[bytes],
    recheck_below: float,
) -> list[list[tuple[float, str]]]:
    """fastText's ``k`` best ``(probability, label)`` for each line.

    A cut line whose best probability is under ``recheck_below`` is predicted again from
    ``whole`` (the uncut lines): the sample was not conclusive, the whole text decides.
    """
    predict = model.predict
    results: list[list[tuple[float, str]]] = [predict(line, k, 0.0, "strict") for line in lines]
    if recheck_below > 0:
        for row in np.flatnonzero(cut).tolist():
            best = results[row]
            if not best or best[0][0] < recheck_below:
                results[row] = predict(whole[row], k, 0.0, "strict")
    return results
