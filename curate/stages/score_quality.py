"""``score.quality``: the quality signals of Gopher, C4 and FineWeb as ``quality_*`` columns.

Signals are measured, never applied: recipes decide with ``filter`` stages (see
``recipes/fineweb-like.yaml``). Every column, its source and the source's threshold is listed in
:data:`curate.quality.columns.SIGNALS` and in docs/language-quality.md.

Batches are scored in slices of about 1.5 MB of text: the arrays of one slice stay in the CPU
cache, which makes the whole batch faster than one pass over it.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import ClassVar

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from curate import schema
from curate.errors import RecipeError
from curate.quality.columns import GROUPS, SIGNALS, Group
from curate.stage import MapStage, set_column

#: Text bytes per slice: small enough for a slice's arrays to stay in the CPU cache.
SLICE_BYTES = 1_500_000


class ScoreQuality(MapStage):
    """Add Gopher, C4 and FineWeb quality signals as ``quality_*`` columns.

    >>> import pyarrow as pa
    >>> b = pa.record_batch({"id": ["a"], "text": ["Lorem ipsum dolor sit amet."]})
    >>> out = next(iter(ScoreQuality(groups=("c4",))([b])))
    >>> out.column("quality_lorem_ipsum").to_pylist()
    [True]
    """

    name: ClassVar[str] = "score.quality"
    summary: ClassVar[str] = (
        "Quality signals of Gopher, C4 and FineWeb (word, line, repetition) as quality_* columns."
    )

    groups: tuple[Group, ...] = Field(
        GROUPS,
        min_length=1,
        description="Signal groups to compute: 'gopher_quality' (words, symbols, bullets, stop "
        "words), 'gopher_repetition' (duplicate lines, paragraphs, n-grams), 'c4' (line rules) "
        "and 'fineweb' (line punctuation, short lines, duplicated characters, list-like).",
    )
    language: str = Field(
        "en",
        description="Language of the texts for stop words (ISO 639-1 or 639-3), used when "
        "`lang_column` is unset or null for a row.",
    )
    lang_column: str | None = Field(
        None,
        description="Column holding each row's language, e.g. 'lang' from score.language; "
        "stop words then follow each row's language.",
    )

    def reads(self) -> tuple[str, ...]:
        return (schema.TEXT,) if self.lang_column is None else (schema.TEXT, self.lang_column)

    def output_fields(self) -> list[pa.Field]:
        wanted = set(self.groups)
        return [pa.field(s.name, s.type) for s in SIGNALS if set(s.groups) & wanted]

    def plan(self, columns: Mapping[str, pa.DataType]) -> dict[str, pa.DataType]:
        out = super().plan(columns)
        if self.lang_column is not None and not pa.types.is_string(columns[self.lang_column]):
            raise RecipeError(
                f"lang_column: column {self.lang_column!r} is {columns[self.lang_column]}, "
                "not a string",
                hint="point it at a column of language codes such as 'lang' from score.language",
            )
        return out

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        from curate.quality.signals import compute

        text = batch.column(schema.TEXT).cast(pa.large_string())
        langs: list[str | None] | str = self.language
        if self.lang_column is not None:
            langs = [x or self.language for x in batch.column(self.lang_column).to_pylist()]
        parts: dict[str, list[pa.Array]] = {}
        for start, stop in _slices(text):
            piece = langs if isinstance(langs, str) else langs[start:stop]
            cols = compute(text.slice(start, stop - start), piece, self.groups)
            for name, values in cols.items():
                parts.setdefault(name, []).append(values)
        for field in self.output_fields():
            chunks = parts.get(field.name) or [pa.array([], type=field.type)]
            batch = set_column(batch, field.name, pa.concat_arrays(chunks))
        return batch


def _slices(text: pa.Array) -> list[tuple[int, int]]:
    """Row ranges of about :data:`SLICE_BYTES` of text each (at least one row)."""
    import numpy as np

    sizes = pc.fill_null(pc.binary_length(text), 0).to_numpy(zero_copy_only=False)
    ends = np.searchsorted(
        np.cumsum(sizes), np.arange(1, 1 + int(sizes.sum()) // SLICE_BYTES) * SLICE_BYTES
    )
    cuts = [0, *sorted({int(e) + 1 for e in ends if 0 <= e < len(text) - 1}), len(text)]
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]
