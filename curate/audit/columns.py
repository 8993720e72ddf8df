"""Where the audit's columns come from: reused when the dataset has them, computed when not.

``identities``, toxicity and ``lang`` are reused from the dataset; a missing one is computed by
running its stage (``score.identity``, ``score.toxicity``, ``score.language``) on the text. With
explicit lexicons the identity stage always runs, since an existing column may come from others.
A toxicity column given by name may hold scores in [0, 1] or labels (0/1, booleans, or the
strings ``toxic`` / ``nontoxic``).

>>> import pyarrow as pa
>>> as_scores(pa.array(["toxic", "nontoxic", None]), "label").to_pylist()
[1.0, 0.0, None]
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate import schema
from curate.audit.kinds import DETAIL, split_terms
from curate.audit.labels import LABEL, label_codes
from curate.audit.tally import IDENTITIES, LANG, SLURS, TERMS, TOXICITY
from curate.errors import CurateError, DataError
from curate.stage import MapStage, StageContext, set_column

log = logging.getLogger(__name__)

_TRUE = {"toxic", "1", "true", "yes", "hate", "hateful"}
_FALSE = {"nontoxic", "non-toxic", "not toxic", "0", "false", "no", "neutral"}
DEDUP_COLUMNS = ("dup_count", "dup_cluster_size")
#: The column each stage writes, by the audit's canonical column it fills.
_PRODUCED = {IDENTITIES: "identities", TOXICITY: "toxicity", LANG: "lang"}


def as_scores(values: pa.Array | pa.ChunkedArray, column: str) -> pa.Array:
    """A toxicity column as float scores in [0, 1]; labels become 0.0 and 1.0."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    kind = values.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        lowered = pc.utf8_lower(pc.utf8_trim_whitespace(values.cast(pa.string())))
        known = pc.is_in(lowered, pa.array(sorted(_TRUE | _FALSE)))
        bad = pc.and_(pc.invert(known), pc.is_valid(lowered))
        if pc.any(bad).as_py():
            example = values.filter(bad)[0].as_py()
            raise DataError(
                f"toxicity column {column!r}: cannot read label {example!r} as toxic or not",
                hint="use numbers in [0, 1], booleans, or the labels 'toxic' / 'nontoxic'",
            )
        out = pc.if_else(pc.is_in(lowered, pa.array(sorted(_TRUE))), 1.0, 0.0)
        return pc.if_else(pc.is_valid(lowered), out, pa.scalar(None, pa.float64()))
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)):
        raise DataError(
            f"toxicity column {column!r} has type {kind}, not a score or a label",
            hint="pass a column of numbers in [0, 1], booleans, or 'toxic' / 'nontoxic'",
        )
    scores = values.cast(pa.float64())
    finite = scores.drop_null().to_numpy(zero_copy_only=False)
    if finite.size and (np.nanmin(finite) < 0.0 or np.nanmax(finite) > 1.0):
        raise DataError(
            f"toxicity column {column!r} has values outside [0, 1] "
            f"(min {np.nanmin(finite):g}, max {np.nanmax(finite):g})",
            hint="rescale the scores to [0, 1], or pass 0/1 labels",
        )
    return pc.if_else(pc.is_nan(scores), pa.scalar(None, pa.float64()), scores)


def make_stage(name: str, params: dict[str, Any], workdir: Path) -> MapStage:
    from curate.stages import get_stage

    stage = get_stage(name)(**params)
    if not isinstance(stage, MapStage):
        raise DataError(f"stage {name} is not a map stage and cannot run inside the audit")
    stage.setup(StageContext(workdir=workdir))
    return stage


class ColumnPlan:
    """Decides which columns to read and which stages to run, then prepares each batch."""

    def __init__(
        self,
        names: Sequence[str],
        *,
        workdir: Path,
        lexicons: Sequence[str] = (),
        identity_params: dict[str, Any] | None = None,
        toxicity_column: str | None = None,
        want_toxicity: bool = True,
        include_slurs: bool = False,
        labels: tuple[str, dict[str, str], list[str]] | None = None,
        recompute_kinds: bool = False,
    ) -> None:
        self.names = list(names)
        self.sources: dict[str, str] = {}
        self.stages: dict[str, MapStage] = {}
        self.workdir = workdir
        self.include_slurs = include_slurs
        self.labels = labels
        if labels is not None and labels[0] not in self.names:
            raise DataError(
                f"--label-column {labels[0]!r} is not a column of the dataset",
                hint=f"pick one of: {', '.join(self.names)}",
            )
        params = dict(identity_params or {})
        if lexicons:
            params["lexicons"] = list(lexicons)
        params["terms"] = True
        #: Whether each mention's kind (identity term, slur, ambiguous) is known.
        self.kinds_known = True
        if DETAIL in self.names and not lexicons:
            self.sources[IDENTITIES] = "the dataset's `identity_terms` column"
        elif IDENTITIES in self.names and not lexicons and not recompute_kinds:
            self.kinds_known = False
            self.sources[IDENTITIES] = (
                "the dataset's `identities` column (without `identity_terms`, so slurs cannot "
                "be told from other mentions)"
            )
        else:
            self.stages[IDENTITIES] = make_stage("score.identity", params, workdir)
            self.sources[IDENTITIES] = "the `score.identity` stage, run by the audit"
            if IDENTITIES in self.names and not lexicons:
                self.sources[IDENTITIES] += (
                    " with the run's parameters and `terms: true` (the dataset's `identities` "
                    "do not tell slurs from other mentions)"
                )
        self.toxicity_column = toxicity_column
        if toxicity_column is not None:
            if toxicity_column not in self.names:
                raise DataError(
                    f"--toxicity-column {toxicity_column!r} is not a column of the dataset",
                    hint=f"pick one of: {', '.join(self.names)}",
                )
            self.sources[TOXICITY] = f"the dataset's `{toxicity_column}` column"
        elif "toxicity" in self.names:
            self.toxicity_column = "toxicity"
            self.sources[TOXICITY] = "the dataset's `toxicity` column"
        elif want_toxicity:
            self._optional_stage(TOXICITY, "score.toxicity")
        if LANG in self.names:
            self.sources[LANG] = "the dataset's `lang` column"
        else:
            self._optional_stage(LANG, "score.language")

    def _optional_stage(self, column: str, stage: str) -> None:
        try:
            self.stages[column] = make_stage(stage, {}, self.workdir)
            self.sources[column] = f"the `{stage}` stage, run by the audit"
        except CurateError as exc:
            log.warning("audit: cannot run %s (%s); going on without it", stage, exc.message)
            self.sources[column] = f"unavailable: `{stage}` could not run ({exc.message})"

    def read_columns(self, *, text: bool) -> list[str]:
        """Dataset columns to read (``text`` included when asked or a stage needs it)."""
        detail = (DETAIL,) if IDENTITIES not in self.stages else ()
        wanted = [c for c in (IDENTITIES, *detail, LANG, *DEDUP_COLUMNS) if c in self.names]
        if self.toxicity_column is not None:
            wanted.append(self.toxicity_column)
        if self.labels is not None:
            wanted.append(self.labels[0])
        if text or self.stages:
            wanted.append(schema.TEXT)
        return list(dict.fromkeys(wanted))

    @property
    def needs_text(self) -> bool:
        return bool(self.stages)

    def prepare(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """The batch with canonical columns: identities, toxicity score, lang, text."""
        columns: dict[str, pa.Array] = {}
        # Language first: the identity stage matches each lexicon only in its own language.
        for column in (LANG, IDENTITIES, TOXICITY):
            stage = self.stages.get(column)
            if stage is not None:
                done = stage.process(batch)
                columns[column] = done.column(_PRODUCED[column])
                if column == LANG:
                    batch = set_column(batch, LANG, columns[column])
                if column == IDENTITIES:
                    batch = set_column(batch, DETAIL, done.column(DETAIL))
        names = batch.schema.names
        if DETAIL in names:
            ids, slurs, terms = split_terms(batch.column(DETAIL), include_slurs=self.include_slurs)
            columns.update({IDENTITIES: ids, SLURS: slurs, TERMS: terms})
        if IDENTITIES not in columns and IDENTITIES in names:
            columns[IDENTITIES] = batch.column(IDENTITIES)
        if TOXICITY not in columns and self.toxicity_column is not None:
            columns[TOXICITY] = as_scores(batch.column(self.toxicity_column), self.toxicity_column)
        if LANG not in columns and LANG in names:
            columns[LANG] = batch.column(LANG)
        for name in (*DEDUP_COLUMNS, schema.TEXT):
            if name in names:
                columns[name] = batch.column(name)
        if self.labels is not None:
            column, mapping, ignore = self.labels
            codes = label_codes(batch.column(column), mapping, ignore, column=column)
            columns[LABEL] = pa.array(codes)
        return pa.RecordBatch.from_pydict(columns)


def toxicity_scorer(workdir: Path) -> Callable[[list[str]], np.ndarray]:
    """The default toxicity scorer (the ``score.toxicity`` stage) as a function of texts."""
    stage = make_stage("score.toxicity", {}, workdir)

    def score(texts: list[str]) -> np.ndarray:
        batch = pa.record_batch(
            {schema.ID: [str(i) for i in range(len(texts))], schema.TEXT: texts}
        )
        out = stage.process(batch).column("toxicity")
        return np.asarray(out.to_numpy(zero_copy_only=False), dtype=np.float64)

    return score
