"""``score.toxicity``: a toxicity probability per document, and a model's sub-scores.

Models load lazily, once per worker process. Documents longer than a model's maximum input are
scored in chunks and aggregated, never truncated. Each model declares the languages it was
trained on: when the batch has a ``lang`` column (``score.language`` before this stage), documents
in other languages get a null ``toxicity`` and ``toxicity_supported = false`` instead of an
English model's guess. See ``docs/toxicity-identity.md`` for the models, what they were trained
on and what they miss.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, PrivateAttr, field_validator, model_validator

from curate import schema
from curate.errors import MissingDependencyError, RecipeError
from curate.stage import MapStage, Stage, StageContext, set_column
from curate.toxicity import (
    DETOXIFY_MODELS,
    ToxicityScorer,
    check_model,
    load_scorer,
    supported_languages,
)
from curate.toxicity import output_columns as model_columns
from curate.toxicity.transformer import INSTALL_HINT, check_device

log = logging.getLogger(__name__)

SUPPORTED = "toxicity_supported"
EVERY_LANGUAGE = "*"


class ScoreToxicity(MapStage):
    """Add ``toxicity`` in [0, 1] (higher is more toxic) and the model's ``toxicity_*`` scores.

    >>> import pyarrow as pa
    >>> b = pa.record_batch({"id": ["1", "2"], "text": ["thanks, great edit", "you stupid idiot"]})
    >>> out = next(iter(ScoreToxicity()([b])))
    >>> [round(x, 1) for x in out.column("toxicity").to_pylist()]
    [0.0, 1.0]
    >>> b = b.append_column("lang", pa.array(["en", "de"]))
    >>> out = next(iter(ScoreToxicity()([b])))
    >>> out.column("toxicity")[1].as_py(), out.column("toxicity_supported").to_pylist()
    (None, [True, False])
    """

    name: ClassVar[str] = "score.toxicity"
    summary: ClassVar[str] = (
        "Toxicity probability per document (default linear model, Detoxify, or any HF classifier)."
    )

    model: str = Field(
        "default",
        description="'default' (alt-profanity-check's linear model: CPU, no torch), "
        "'detoxify-original', 'detoxify-unbiased', 'detoxify-multilingual' (extra "
        "[detoxify]), or 'hf:PATH_OR_ID' for a transformers text-classification model.",
    )
    label: str | None = Field(
        None, description="For hf: models, the output label that means toxic (e.g. 'toxic')."
    )
    checkpoint: str | None = Field(
        None,
        description="For Detoxify models, the .ckpt file. Unset: $CURATE_DETOXIFY_<MODEL>, then "
        "the cache, then a checksum-verified download (see `curate models`).",
    )
    tokenizer: str | None = Field(
        None,
        description="For Detoxify models, a folder with the base model's config.json and "
        "tokenizer files (bert-base-uncased, roberta-base or xlm-roberta-base) for offline "
        "use. Unset: the Hugging Face cache.",
    )
    subscores: bool = Field(
        True,
        description="Write the model's other heads as toxicity_* columns (Detoxify: "
        "severe, obscene, threat, insult, identity_attack, ...; the unbiased model also its "
        "identity heads as toxicity_identity_*).",
    )
    aggregate: Literal["max", "mean", "share"] = Field(
        "mean",
        description="How chunks of a long document combine: 'mean' (weighted by tokens per "
        "chunk; keeps long clean text low), 'max' (the worst chunk: one rude paragraph marks "
        "the document) or 'share' (share of tokens in chunks scoring 0.5 or more).",
    )
    max_length: int | None = Field(
        None,
        ge=8,
        description="Chunk length in tokens (word tokens for the default model). Unset: the "
        "model's maximum input (512 for BERT/RoBERTa), 64 words for the default model.",
    )
    languages: list[str] | None = Field(
        None,
        description="Languages to score (ISO 639-1 codes as score.language writes them); "
        "documents whose `lang` is another language get null toxicity and "
        "toxicity_supported = false. Unset: the model's own list (default, "
        "detoxify-original, detoxify-unbiased: en; detoxify-multilingual: en es fr it pt ru "
        "tr; hf: every language). ['*'] scores every language.",
    )
    batch_size: int = Field(32, ge=1, description="Chunks per forward pass (transformer models).")
    device: str = Field(
        "auto",
        description="'auto' (a GPU when one is visible), 'cpu', 'cuda', 'cuda:N' or 'mps'.",
    )
    threads: int | None = Field(
        None,
        ge=1,
        description="CPU threads for torch in each worker. Unset: the machine's cores divided "
        "by the executor's workers.",
    )

    _scorer: ToxicityScorer | None = PrivateAttr(default=None)
    _threads: int | None = PrivateAttr(default=None)
    _sees_lang: bool = PrivateAttr(default=False)

    @field_validator("model")
    @classmethod
    def _check_model(cls, value: str) -> str:
        try:
            return check_model(value)
        except RecipeError as exc:
            raise ValueError(f"{exc.message} ({exc.hint})") from exc

    @field_validator("device")
    @classmethod
    def _check_device(cls, value: str) -> str:
        return check_device(value)

    @model_validator(mode="after")
    def _check_combination(self) -> ScoreToxicity:
        hf = self.model.startswith("hf:")
        if hf and not self.label:
            raise ValueError(f"model {self.model!r} needs `label`, the name of its toxic class")
        if self.label and not hf:
            raise ValueError("`label` only applies to hf: models")
        if (self.checkpoint or self.tokenizer) and self.model not in DETOXIFY_MODELS:
            raise ValueError("`checkpoint` and `tokenizer` only apply to detoxify-* models")
        return self

    def supported(self) -> tuple[str, ...] | None:
        """Languages scored; None for every language."""
        chosen = self.languages if self.languages is not None else supported_languages(self.model)
        if chosen is None or EVERY_LANGUAGE in chosen:
            return None
        return tuple(chosen)

    def output_fields(self) -> list[pa.Field]:
        scores = [
            pa.field(c, schema.TYPES["toxicity"])
            for c in model_columns(self.model, subscores=self.subscores)
        ]
        return [*scores, schema.field(SUPPORTED)]

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out["languages"] = list(self.supported() or [EVERY_LANGUAGE])
        return out

    def downstream_warnings(self, later: Sequence[Stage]) -> list[str]:
        """What ``curate check`` should say about stages after this one that read toxicity."""
        langs = self.supported()
        readers = [s for s in later if set(s.reads()) & set(self.writes()) - {SUPPORTED}]
        if langs is None or not readers:
            return []
        names = ", ".join(langs)
        if not self._sees_lang:
            return [
                f"score.toxicity ({self.model}) supports {names} only, but there is no `lang` "
                "column before it, so documents in other languages get the model's guess; add "
                "score.language before score.toxicity"
            ]
        # A condition that names null handling (IS NULL, coalesce, toxicity_supported) is the
        # user's decision already.
        readers = [
            r
            for r in readers
            if not re.search(r"\bnull\b|coalesce|" + SUPPORTED, str(getattr(r, "where", "")), re.I)
        ]
        return [
            f"{r.name} reads toxicity, which is null for documents not in {names} "
            f"({SUPPORTED} = false); a filter removes rows where its condition is null, so "
            "write e.g. `toxicity IS NULL OR toxicity < 0.5` to keep them"
            for r in readers
        ]

    def plan(self, columns: Mapping[str, pa.DataType]) -> dict[str, pa.DataType]:
        self._sees_lang = "lang" in columns
        out = super().plan(columns)
        if self.model != "default":
            missing = [m for m in ("torch", "transformers") if importlib.util.find_spec(m) is None]
            if missing:
                raise MissingDependencyError(
                    f"score.toxicity model {self.model!r} needs {' and '.join(missing)}, "
                    "which are not installed",
                    hint=INSTALL_HINT,
                )
        return out

    def setup(self, ctx: StageContext) -> None:
        super().setup(ctx)
        if self.threads is None and ctx.workers > 1:
            self._threads = max(1, (os.cpu_count() or 1) // ctx.workers)

    def scorer(self) -> ToxicityScorer:
        """The loaded model, once per worker process."""
        if self._scorer is None:
            self._scorer = load_scorer(
                self.model,
                checkpoint=self.checkpoint,
                tokenizer=self.tokenizer,
                label=self.label,
                device=self.device,
                threads=self.threads or self._threads,
                batch_size=self.batch_size,
                max_length=self.max_length,
                subscores=self.subscores,
            )
        return self._scorer

    def _supported_mask(self, batch: pa.RecordBatch) -> pa.Array | None:
        """Per row, whether its language is scored; None when that cannot be told."""
        langs = self.supported()
        if "lang" not in batch.schema.names:
            return None
        if langs is None:
            return pa.array(np.ones(batch.num_rows, dtype=bool))
        return pc.fill_null(pc.is_in(batch.column("lang"), pa.array(langs)), False)

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        text = batch.column(schema.TEXT)
        supported = self._supported_mask(batch)
        scored = pc.is_valid(text) if supported is None else pc.and_(pc.is_valid(text), supported)
        valid = scored.to_numpy(zero_copy_only=False)
        present: list[Any] = text.filter(scored).to_pylist()
        scores = self.scorer().score(present, how=self.aggregate) if present else {}
        out = batch
        for f in self.output_fields()[:-1]:
            full = np.full(batch.num_rows, np.nan)
            if present:
                full[valid] = np.clip(scores[f.name], 0.0, 1.0)
            out = set_column(out, f.name, pa.array(full, type=f.type, mask=~valid))
        if supported is None:
            supported = pa.nulls(batch.num_rows, pa.bool_())
        return set_column(out, SUPPORTED, supported)
