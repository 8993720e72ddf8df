"""``dedup.minhash``: near-duplicate removal with MinHash LSH, clusters by union-find.

Three phases over Parquet parts of the input (see :mod:`curate.core`), in bounded memory:

1. each part is signed by a map task (shingles, MinHash signature, LSH band keys, all written
   to Parquet in the stage's scratch folder);
2. band keys are grouped with Polars, one reduce task per band (or key range of a band);
   documents sharing a band become candidate edges, optionally verified by the estimated
   Jaccard of their full signatures, and union-find joins them into clusters, each keeping one
   document;
3. each part's rows get ``dup_cluster``, ``dup_cluster_size`` and the removed rows marked.

See docs/dedup.md for the parameters, the S-curve and the memory per document.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import replace
from functools import partial
from typing import Any, ClassVar, Literal

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from curate import schema
from curate.core import GlobalStage, Part, Reduce, Task
from curate.core.parts import InputSpill
from curate.core.pool import Call
from curate.dedup.clusters import NEAR, NEAR_OTHER, ClusterPlan, Source, cluster_decisions
from curate.dedup.decisions import RowDecisions, apply_to_part
from curate.dedup.lsh import optimal_params, s_curve
from curate.dedup.minhash_part import SignConfig, sign_part
from curate.dedup.tokens import Tokenizer

log = logging.getLogger(__name__)


class KeepHighest(BaseModel):
    """``keep: {highest: COLUMN}``: keep the cluster member with the highest value of COLUMN."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    highest: str = Field(description="Numeric column; nulls rank lowest, ties go to the first.")


class DedupMinhash(GlobalStage):
    """Remove near duplicates: documents whose shingle sets have a high Jaccard similarity.

    >>> stage = DedupMinhash(bands=14, rows=8)
    >>> stage.lsh_params(), stage.describe()["s_curve"]["0.8"]
    ((14, 8, 112), 0.924)
    """

    name: ClassVar[str] = "dedup.minhash"
    summary: ClassVar[str] = (
        "Near-duplicate removal: MinHash LSH over word (or character) n-grams, union-find clusters."
    )
    removes_rows: ClassVar[bool] = True
    reasons: ClassVar[tuple[str, ...]] = (NEAR, NEAR_OTHER)

    threshold: float = Field(
        0.8,
        gt=0.0,
        lt=1.0,
        description="Jaccard similarity the LSH bands x rows are optimised for (datasketch's "
        "false positive / false negative criterion); ignored when bands and rows are given.",
    )
    bands: int | None = Field(None, ge=1, description="Explicit number of LSH bands (with rows).")
    rows: int | None = Field(None, ge=1, description="Explicit rows per band (with bands).")
    num_perm: int | None = Field(
        None,
        ge=1,
        le=1024,
        description="Permutations in a signature; default 128, or bands x rows when both given.",
    )
    false_positive_weight: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Weight of false positives against false negatives when choosing bands x "
        "rows from threshold (false negatives weigh 1 - this).",
    )
    ngram: int = Field(5, ge=1, le=32, description="Words per shingle.")
    char_ngram: int = Field(
        5, ge=1, le=32, description="Characters per shingle for texts written without spaces."
    )
    tokenizer: Tokenizer = Field(
        "auto",
        description="'words', 'chars', or 'auto': characters for documents mostly in Chinese, "
        "Japanese, Thai, Lao, Khmer, Myanmar or Tibetan script, words otherwise.",
    )
    seed: int = Field(1, ge=0, description="Seed of the permutations (datasketch's default is 1).")
    verify: bool = Field(
        False,
        description="Keep a candidate pair only if the estimated Jaccard of the full signatures "
        "reaches verify_threshold: fewer false positives for lower thresholds.",
    )
    verify_threshold: float | None = Field(
        None, gt=0.0, le=1.0, description="Similarity a verified pair needs; default threshold."
    )
    keep: Literal["first", "longest"] | KeepHighest = Field(
        "first",
        description="Which cluster member stays: 'first' in input order, 'longest' text, or "
        "{highest: COLUMN}.",
    )
    action: Literal["remove", "annotate"] = Field(
        "remove", description="'annotate' keeps every row and only adds the cluster columns."
    )
    against: list[str] = Field(
        default_factory=list,
        description="Other datasets (paths, globs, registry refs): input documents that "
        "near-duplicate any of their documents are removed too.",
    )
    memory_limit_mb: int = Field(
        256, ge=16, description="Memory for grouping band keys; more slices when exceeded."
    )

    _lsh: tuple[int, int, int] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check_lsh(self) -> DedupMinhash:
        if (self.bands is None) != (self.rows is None):
            raise ValueError("bands and rows go together: give both, or neither and a threshold")
        if self.bands and self.rows and self.num_perm and self.bands * self.rows > self.num_perm:
            raise ValueError(
                f"bands x rows = {self.bands * self.rows} exceeds num_perm = {self.num_perm}; "
                "raise num_perm or lower bands or rows"
            )
        return self

    def lsh_params(self) -> tuple[int, int, int]:
        """``(bands, rows, num_perm)`` this stage uses."""
        if self._lsh is None:
            if self.bands and self.rows:
                num_perm = self.num_perm or self.bands * self.rows
                self._lsh = (self.bands, self.rows, num_perm)
            else:
                num_perm = self.num_perm or 128
                bands, rows = optimal_params(
                    self.threshold, num_perm, false_positive_weight=self.false_positive_weight
                )
                self._lsh = (bands, rows, num_perm)
        return self._lsh

    def _score_column(self) -> str | None:
        return self.keep.highest if isinstance(self.keep, KeepHighest) else None

    def reads(self) -> tuple[str, ...]:
        score = self._score_column()
        return (schema.ID, schema.TEXT, *([score] if score else []))

    def output_fields(self) -> list[pa.Field]:
        return [schema.field("dup_cluster"), schema.field("dup_cluster_size")]

    def describe(self) -> dict[str, Any]:
        bands, rows, num_perm = self.lsh_params()
        return {
            **super().describe(),
            "lsh": {"bands": bands, "rows": rows, "num_perm": num_perm},
            "s_curve": s_curve(bands, rows),
        }

    def _config(self, score: str | None) -> SignConfig:
        bands, rows, num_perm = self.lsh_params()
        return SignConfig(
            ngram=self.ngram,
            char_ngram=self.char_ngram,
            tokenizer=self.tokenizer,
            num_perm=num_perm,
            seed=self.seed,
            bands=bands,
            rows=rows,
            score_column=score,
        )

    def memory_bytes(self) -> int:
        return self.memory_limit_mb << 20

    def map_part(self, part: Part, task: Task) -> int:
        return sign_part(part, self._config(self._score_column()), task.scratch)

    def reduce(self, parts: Sequence[Part], mapped: list[Any], task: Task) -> Reduce:
        spills = []
        for i, spec in enumerate(self.against):
            ext = InputSpill(task.scratch / f"against-{i}", prefix=f"against{i}")
            for _ in ext.stream(_open_against(spec)):
                pass
            spills.append(ext)
        # Documents of `against` datasets come first (negative indices), so every cluster holding
        # one keeps it.
        pinned = sum(ext.rows for ext in spills)
        start = -pinned
        sources: list[Source] = []
        calls: list[Call] = []
        for spec, ext in zip(self.against, spills, strict=True):
            shifted = [replace(part, start=part.start + start) for part in ext.parts]
            calls.extend(partial(sign_part, p, self._config(None), task.scratch) for p in shifted)
            sources.append(Source(spec, shifted, start, ext.rows))
            start += ext.rows
        signed = sum(mapped) + (sum((yield calls)) if calls else 0)
        sources.append(Source(None, parts, 0, sum(p.rows for p in parts)))
        bands, _, num_perm = self.lsh_params()
        plan = ClusterPlan(
            bands=bands,
            num_perm=num_perm,
            verify_threshold=(self.verify_threshold or self.threshold) if self.verify else None,
            keep="highest" if isinstance(self.keep, KeepHighest) else self.keep,
            remove=self.action == "remove",
        )
        log.info("dedup.minhash: %d documents signed (%d from other datasets)", signed, pinned)
        decisions = yield from cluster_decisions(task.scratch, sources, plan, task.memory)
        return decisions

    def narrow(self, decisions: RowDecisions, part: Part) -> RowDecisions:
        return decisions.narrow(part.start, part.start + part.rows)

    def apply(self, part: Part, decisions: RowDecisions, task: Task) -> Iterator[pa.RecordBatch]:
        return apply_to_part(decisions, part, _defaults)


def _defaults(batch: pa.RecordBatch) -> dict[str, pa.Array]:
    """Columns of a row outside every cluster: its own id and a size of one."""
    ids = batch.column(schema.ID).cast(pa.string())
    return {
        "dup_cluster": ids,
        "dup_cluster_size": pa.array(np.ones(batch.num_rows, dtype=np.int64)),
    }


def _open_against(spec: str) -> Iterator[pa.RecordBatch]:
    from curate.io.dataset import open_dataset

    yield from open_dataset(spec).iter_batches(columns=[schema.ID, schema.TEXT])
