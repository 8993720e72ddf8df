"""``score.toxicity``: a toxicity probability per document, and a model's sub-scores.

Models load lazily, once per worker process. Documents longer than a model's maximum input are
scored in chunks and aggregated, never truncated. See ``docs/toxicity-identity.md`` for the
models, what they were trained on and what they miss.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, PrivateAttr, field_validator, model_validator

from curate import schema
from curate.errors import MissingDependencyError, RecipeError
from curate.stage import MapStage, StageContext, set_column
from curate.toxicity import DETOXIFY_MODELS, ToxicityScorer, check_model, load_scorer
from curate.toxicity import output_columns as model_columns
from curate.toxicity.transformer import INSTALL_HINT

log = logging.getLogger(__name__)

_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


class ScoreToxicity(MapStage):
    """Add ``toxicity`` in [0, 1] (higher is more toxic) and the model's ``toxicity_*`` scores.

    >>> import pyarrow as pa
    >>> b = pa.record_batch({"id": ["1", "2"], "text": ["thanks, great edit", "you stupid idiot"]})
    >>> out = next(iter(ScoreToxicity()([b])))
    >>> [round(x, 1) for x in out.column("toxicity").to_pylist()]
    [0.0, 1.0]
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
    aggregate: Literal["max", "mean"] = Field(
        "max",
        description="How chunks of a long document combine: 'max' (the worst chunk) or "
        "'mean' (weighted by tokens per chunk).",
    )
    max_length: int | None = Field(
        None,
        ge=8,
        description="Chunk length in tokens (word tokens for the default model). Unset: the "
        "model's maximum input (512 for BERT/RoBERTa), 256 words for the default model.",
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
        if not _DEVICE.match(value):
            raise ValueError(f"device {value!r} is not one of auto, cpu, cuda, cuda:N, mps")
        return value

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

    def output_fields(self) -> list[pa.Field]:
        return [
            pa.field(c, schema.TYPES["toxicity"])
            for c in model_columns(self.model, subscores=self.subscores)
        ]

    def plan(self, columns: Mapping[str, pa.DataType]) -> dict[str, pa.DataType]:
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

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        text = batch.column(schema.TEXT)
        valid = pc.is_valid(text).to_numpy(zero_copy_only=False)
        present: list[Any] = text.filter(pc.is_valid(text)).to_pylist()
        scores = self.scorer().score(present, how=self.aggregate) if present else {}
        out = batch
        for f in self.output_fields():
            full = np.full(batch.num_rows, np.nan)
            if present:
                full[valid] = np.clip(scores[f.name], 0.0, 1.0)
            out = set_column(out, f.name, pa.array(full, type=f.type, mask=~valid))
        return out
