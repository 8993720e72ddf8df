"""``decontaminate``: remove documents that contain items of evaluation sets.

The word n-grams (default 13, after NFKC, lower-casing, punctuation to spaces and whitespace
collapsing) of every text field of every item of the ``against`` sets are indexed once per
run, on the driver (:meth:`Decontaminate.prepare_run`; the index travels to the workers with the
stage); a document sharing at least ``min_matches`` of them is removed with reason
``contaminated`` (or only annotated). Items shorter than ``n`` words are matched whole when they
have at least ``min_words`` words (GPT-3's decontamination used 8 to 13 words); shorter items
are skipped, and the run log says how many. The kernels are in :mod:`curate.decontam`.

>>> import json, pathlib, tempfile
>>> import pyarrow as pa
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "quiz.jsonl").write_text(json.dumps(
...     {"id": "q1", "question": "Which river flows through the city of Vienna in Austria?"}))
>>> stage = Decontaminate(against=[str(d / "quiz.jsonl")], fields=["question"], n=8)
>>> b = pa.record_batch({"id": ["a", "b"], "text": [
...     "Quiz: which river flows through the city of Vienna in Austria? The Danube.",
...     "Vienna is a city in Austria."]})
>>> out = next(iter(stage([b])))
>>> out.column("contamination_matches").to_pylist(), out.column("__curate_reason").to_pylist()
([3, 0], ['contaminated', None])
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from curate import schema
from curate.decontam import MAX_N
from curate.errors import DataError
from curate.stage import MapStage, mark_removed, set_column

if TYPE_CHECKING:
    # The index imports the compiled kernels (numba): only a run that decontaminates needs them.
    from curate.decontam.index import NgramIndex

log = logging.getLogger(__name__)

REASON = "contaminated"
MATCHES = "contamination_matches"
BY = "contaminated_by"


class EvalSet(BaseModel):
    """One evaluation set: a DATASET and, optionally, its own name and text fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(description="Any DATASET form: files, globs, a registry ref, hf://...")
    name: str | None = Field(None, description="Name in ledger details; default the file name.")
    fields: list[str] | None = Field(None, description="Text fields; default the stage's fields.")


class Decontaminate(MapStage):
    """Remove (or mark) documents sharing word n-grams with evaluation sets."""

    name: ClassVar[str] = "decontaminate"
    summary: ClassVar[str] = (
        "Remove documents that share word n-grams with evaluation sets (benchmark leakage)."
    )
    removes_rows: ClassVar[bool] = True
    reasons: ClassVar[tuple[str, ...]] = (REASON,)

    against: list[str | EvalSet] = Field(
        min_length=1,
        description="Evaluation sets: DATASETs (paths, globs, registry refs, hf://datasets/...) "
        "or {path, name, fields} objects.",
    )
    fields: list[str] = Field(
        default_factory=lambda: [schema.TEXT],
        min_length=1,
        description="Text fields of each evaluation item (string or list-of-string columns, e.g. "
        "question, choices, answer); each is indexed on its own.",
    )
    n: int = Field(13, ge=1, le=MAX_N, description="Words per n-gram.")
    min_words: int = Field(
        8,
        ge=1,
        description="Items shorter than n words are matched whole when they have at least this "
        "many words (at most n); shorter items are skipped.",
    )
    min_matches: int = Field(
        1, ge=1, description="Distinct shared n-grams that make a document contaminated."
    )
    action: Literal["remove", "annotate"] = Field(
        "remove", description="'annotate' keeps every row and only adds the columns."
    )

    _index: NgramIndex | None = PrivateAttr(default=None)

    def reads(self) -> tuple[str, ...]:
        return (schema.TEXT,)

    def output_fields(self) -> list[pa.Field]:
        return [pa.field(MATCHES, pa.int64()), pa.field(BY, pa.list_(pa.string()))]

    def sets(self) -> list[EvalSet]:
        """The evaluation sets with names and fields filled in."""
        out: list[EvalSet] = []
        for spec in self.against:
            one = EvalSet(path=spec, name=None, fields=None) if isinstance(spec, str) else spec
            name = one.name or PurePosixPath(one.path.rstrip("/")).name or one.path
            out.append(EvalSet(path=one.path, name=name, fields=one.fields or self.fields))
        return out

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "sets": [s.model_dump() for s in self.sets()]}

    @property
    def index(self) -> NgramIndex:
        if self._index is None:
            self._index = build_index(self.sets(), n=self.n, min_words=min(self.min_words, self.n))
        return self._index

    def prepare_run(self) -> None:
        """Build the index before the workers start: it is pickled to them with the stage, so
        the sets are read, and their summary logged, once per run rather than once per worker."""
        _ = self.index

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        found = self.index.match(batch.column(schema.TEXT))
        counts = found.counts
        bad = counts >= self.min_matches
        out = set_column(batch, MATCHES, pa.array(counts, pa.int64()))
        out = set_column(out, BY, found.sets_column(bad))
        if self.action == "annotate" or not bad.any():
            return out
        reasons = pa.array([REASON if hit else None for hit in bad.tolist()], pa.string())
        details = pa.array(
            [
                _detail(found.first[i], int(counts[i])) if hit else None
                for i, hit in enumerate(bad.tolist())
            ],
            pa.string(),
        )
        return mark_removed(out, reasons, details)


def _detail(first: tuple[str, str, str], count: int) -> str:
    name, item, words = first
    return f'set={name} item={item} ngram="{words}" matches={count}'


def build_index(sets: list[EvalSet], *, n: int, min_words: int) -> NgramIndex:
    """Read every evaluation set and index its fields."""
    from curate.decontam.index import NgramIndex
    from curate.io.dataset import open_dataset

    index = NgramIndex(n=n, min_words=min_words)
    for spec in sets:
        fields = spec.fields or [schema.TEXT]
        name = spec.name or spec.path
        dataset = open_dataset(spec.path, text_column=fields[0])
        available = dataset.schema.names
        missing = [f for f in fields[1:] if f not in available]
        if missing:
            shown = ", ".join(c for c in available if c != schema.TEXT)
            raise DataError(
                f"decontaminate: evaluation set {spec.path!r} has no field {missing[0]!r} "
                f"(columns: {fields[0]}, {shown})",
                hint="name its text fields in `fields:` (for this set alone: "
                "against: [{path: ..., fields: [...]}])",
            )
        columns = [schema.ID, schema.TEXT, *fields[1:]]
        for batch in dataset.iter_batches(columns=columns):
            ids = batch.column(schema.ID).cast(pa.string()).to_pylist()
            index.add(name, ids, [batch.column(c) for c in columns[1:]])
    index.finish()
    log.info(
        "decontaminate: %d distinct n-grams from %s",
        index.grams,
        _summary(index.items, index.skipped),
    )
    return index


def _summary(items: Mapping[str, int], skipped: Mapping[str, int]) -> str:
    parts = []
    for name, count in items.items():
        short = skipped.get(name, 0)
        parts.append(f"{name}: {count} items" + (f" ({short} too short, skipped)" if short else ""))
    return "; ".join(parts)
