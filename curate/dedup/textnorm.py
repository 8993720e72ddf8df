"""Vectorised text normalisation before hashing whole documents or paragraphs.

Each step runs over a whole Arrow array at once (pyarrow compute or Polars' Rust regex engine);
steps that are no-ops on ASCII text (Unicode forms, accents) only touch the non-ASCII rows.

>>> import pyarrow as pa
>>> texts = pa.array(["  Caf\u00e9   AU\\tlait  ", None])
>>> normalize_texts(texts, ("nfkc", "lowercase", "whitespace")).to_pylist()
['café au lait', '']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

Step = Literal["nfkc", "lowercase", "accents", "punctuation", "digits", "whitespace"]

#: The order steps run in, whatever order a recipe lists them.
STEP_ORDER: tuple[Step, ...] = (
    "nfkc",
    "lowercase",
    "accents",
    "punctuation",
    "digits",
    "whitespace",
)

DEFAULT_STEPS: tuple[Step, ...] = ("nfkc", "lowercase", "whitespace")


def _on_non_ascii(texts: pa.Array, fn: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """Apply ``fn`` to the non-ASCII rows only; ASCII rows are unchanged by the caller's step."""
    ascii_rows = pc.fill_null(pc.string_is_ascii(texts), True)
    if pc.all(ascii_rows).as_py():
        return texts
    mask = pc.invert(ascii_rows)
    changed = fn(pc.filter(texts, mask))
    return pc.replace_with_mask(texts, mask, changed)


def _strip_accents(texts: pa.Array) -> pa.Array:
    decomposed = pc.utf8_normalize(texts, "NFKD")
    return pc.utf8_normalize(pc.replace_substring_regex(decomposed, r"\p{Mn}+", ""), "NFC")


def normalize_texts(texts: pa.Array | pa.ChunkedArray, steps: Sequence[Step]) -> pa.Array:
    """Apply ``steps`` (in :data:`STEP_ORDER`) to every string; nulls become empty strings.

    ``punctuation`` turns punctuation and symbols into spaces, ``digits`` turns every decimal digit
    into ``0``, ``whitespace`` collapses runs of whitespace into one space and trims the ends.
    """
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    out: pa.Array = pc.fill_null(texts.cast(pa.string()), "")
    wanted = set(steps)
    if "nfkc" in wanted:
        out = _on_non_ascii(out, lambda a: pc.utf8_normalize(a, "NFKC"))
    series = pl.Series(out)
    if "lowercase" in wanted:
        series = series.str.to_lowercase()
    if "accents" in wanted:
        series = pl.Series(_on_non_ascii(series.to_arrow().cast(pa.string()), _strip_accents))
    if "punctuation" in wanted:
        series = series.str.replace_all(r"[\p{P}\p{S}]", " ")
    if "digits" in wanted:
        series = series.str.replace_all(r"\p{Nd}", "0")
    if "whitespace" in wanted:
        # Replacing only runs of two or more, or a lone non-space blank, leaves single spaces alone,
        # which is several times faster than rewriting every whitespace character.
        series = series.str.replace_all(r"\s{2,}|[^\S ]", " ").str.strip_chars()
    return series.to_arrow().cast(pa.string())
