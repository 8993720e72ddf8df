"""``score.classifier``: any text classifier as a stage, writing ``<prefix>_score``.

fastText models score each document as one normalised line (:mod:`curate.classify.text`);
``hf:`` models run through the same chunked, batched code as ``score.toxicity``. Models load
lazily, once per worker process; model files are resolved like every model asset (path, asset
name, cache) and their sha256 goes into the run report.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, PrivateAttr, field_validator, model_validator

from curate import models, schema
from curate.classify import HF_ASSETS, HF_PREFIX, KNOWN_LABELS, column_name, kind_of
from curate.classify.text import normalize
from curate.errors import RecipeError
from curate.stage import MapStage, StageContext, set_column
from curate.toxicity.transformer import check_device

log = logging.getLogger(__name__)

_PREFIX = re.compile(r"^[a-z][a-z0-9_]*$")
#: fastText files up to this size are opened by `curate check` to list and check labels.
_INSPECT_BYTES = 200 << 20


class ScoreClassifier(MapStage):
    """Add ``<prefix>_score`` (and ``<prefix>_<label>`` for each of ``labels``) from a classifier.

    >>> stage = ScoreClassifier(model="models/quality.bin", prefix="quality", label="hq",
    ...                         labels=["hq", "cc"])
    >>> stage.writes()
    ('quality_score', 'quality_hq', 'quality_cc')
    """

    name: ClassVar[str] = "score.classifier"
    summary: ClassVar[str] = (
        "Score documents with a fastText (.bin/.ftz) or hf: text classifier: <prefix>_score."
    )

    model: str = Field(
        description="A fastText supervised model (.bin/.ftz path, e.g. from `curate train "
        "classifier`), a model asset (dclm-fasttext, fineweb-edu-classifier; see `curate "
        "models list`), or 'hf:PATH_OR_ID' for a transformers sequence-classification model.",
    )
    prefix: str = Field(
        "classifier", description="Column prefix: writes <prefix>_score (lower case, a-z0-9_)."
    )
    label: str | None = Field(
        None,
        description="The label (fastText, without __label__) or output head (hf: name or index) "
        "whose probability is <prefix>_score. Unset: 'hq' for dclm-fasttext, the only output "
        "of a one-output (regression) hf model; otherwise required.",
    )
    labels: list[str] = Field(
        default_factory=list,
        description="Also write each of these labels' probabilities as <prefix>_<label>.",
    )
    aggregate: Literal["max", "mean", "share"] = Field(
        "mean",
        description="hf: models: how the chunks of a long document combine ('mean' weighted by "
        "tokens, 'max', or 'share' of tokens in chunks scoring 0.5 or more).",
    )
    max_length: int | None = Field(
        None, ge=8, description="hf: models: chunk length in tokens. Unset: the model's maximum."
    )
    batch_size: int = Field(32, ge=1, description="hf: models: chunks per forward pass.")
    device: str = Field("auto", description="hf: models: 'auto', 'cpu', 'cuda', 'cuda:N', 'mps'.")
    threads: int | None = Field(
        None,
        ge=1,
        description="hf: models: torch CPU threads per worker. Unset: cores / workers.",
    )

    _loaded: Any = PrivateAttr(default=None)
    _threads: int | None = PrivateAttr(default=None)

    @field_validator("model")
    @classmethod
    def _check_model(cls, value: str) -> str:
        try:
            kind_of(value)
        except RecipeError as exc:
            raise ValueError(f"{exc.message} ({exc.hint})") from exc
        return value

    @field_validator("device")
    @classmethod
    def _check_device(cls, value: str) -> str:
        return check_device(value)

    @field_validator("prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        if not _PREFIX.match(value):
            raise ValueError(f"prefix {value!r}: use lower-case letters, digits and _")
        return value

    @model_validator(mode="after")
    def _check_label(self) -> ScoreClassifier:
        if self.model_kind == "fasttext" and self.score_label is None:
            raise ValueError(
                "a fastText model needs `label`, the class whose probability is the score "
                "(e.g. label: hq)"
            )
        hf_only = ("max_length", "threads")
        if self.model_kind == "fasttext" and any(getattr(self, k) is not None for k in hf_only):
            raise ValueError("`max_length` and `threads` only apply to hf: models")
        return self

    @property
    def model_kind(self) -> Literal["fasttext", "hf"]:
        return kind_of(self.model)

    @property
    def score_label(self) -> str | None:
        return self.label if self.label is not None else KNOWN_LABELS.get(self.model)

    def extra_columns(self) -> dict[str, str]:
        """``{column: label}`` of the per-label probability columns."""
        return {column_name(self.prefix, lab): lab for lab in self.labels}

    def output_fields(self) -> list[pa.Field]:
        names = [f"{self.prefix}_score", *self.extra_columns()]
        return [pa.field(n, pa.float64()) for n in dict.fromkeys(names)]

    def model_path(self) -> Path:
        """The fastText file: an asset by the resolution order, else the path as given."""
        if self.model in models.ASSETS:
            return models.resolve(self.model)
        path = Path(self.model).expanduser()
        if not path.is_file():
            raise RecipeError(
                f"model: {path} does not exist",
                hint="train one with `curate train classifier`, or give the path of a "
                "fastText .bin/.ftz file",
            )
        return path

    def _hf_source(self) -> str:
        return HF_ASSETS.get(self.model, self.model)[len(HF_PREFIX) :]

    def model_labels(self) -> list[str] | None:
        """The model's labels when they can be read cheaply (no download, small files)."""
        if self.model_kind == "hf":
            config = Path(self._hf_source()).expanduser() / "config.json"
            if not config.is_file():
                return None
            data = json.loads(config.read_text(encoding="utf-8"))
            names = {int(k): str(v) for k, v in (data.get("id2label") or {}).items()}
            return [names[i] for i in sorted(names)]
        location = models.locate(self.model) if self.model in models.ASSETS else None
        path = location.path if location is not None else Path(self.model).expanduser()
        if path is None or not path.is_file() or path.stat().st_size > _INSPECT_BYTES:
            return None
        from curate.classify.fasttext_model import FastTextClassifier

        return FastTextClassifier.load(path).labels

    def plan(self, columns: Mapping[str, pa.DataType]) -> dict[str, pa.DataType]:
        out = super().plan(columns)
        known = self.model_labels()
        wanted = [x for x in (self.score_label, *self.labels) if x is not None]
        if known is not None and self.model_kind == "fasttext":
            from curate.classify.fasttext_model import strip_label

            missing = [x for x in wanted if strip_label(x) not in known]
            if missing:
                raise RecipeError(
                    f"label: model {self.model} has no label {', '.join(missing)}",
                    hint=f"its labels are {', '.join(known)}",
                )
        return out

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        label = self.score_label if self.score_label is not None else "its only output"
        what = {f"{self.prefix}_score": f"probability of {label}"}
        what.update({c: f"probability of {lab}" for c, lab in self.extra_columns().items()})
        out["outputs"] = what
        labels = self.model_labels()
        if labels is not None:
            out["model_labels"] = labels
        return out

    def setup(self, ctx: StageContext) -> None:
        super().setup(ctx)
        if self.threads is None and ctx.workers > 1:
            self._threads = max(1, (os.cpu_count() or 1) // ctx.workers)

    def model_versions(self) -> dict[str, str]:
        if self.model_kind == "fasttext":
            path = self.model_path()
            return {self.model: models.sha256_file(path)}
        folder = Path(self._hf_source()).expanduser()
        weights = sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin"))
        if not folder.is_dir() or not weights:
            return {self.model: "unverified (Hugging Face cache)"}
        return {f"{self.model}/{w.name}": models.sha256_file(w) for w in weights}

    def loaded(self) -> Any:
        """The model, once per worker process."""
        if self._loaded is None:
            if self.model_kind == "fasttext":
                from curate.classify.fasttext_model import FastTextClassifier

                self._loaded = FastTextClassifier.load(self.model_path())
            else:
                from curate.classify.hf_model import load_hf_classifier

                self._loaded = load_hf_classifier(
                    self._hf_source(),
                    score_column=f"{self.prefix}_score",
                    label=self.score_label,
                    extra=self.extra_columns(),
                    device=self.device,
                    threads=self.threads or self._threads,
                    batch_size=self.batch_size,
                    max_length=self.max_length,
                )
        return self._loaded

    def _fasttext_scores(self, lines: list[str]) -> dict[str, np.ndarray]:
        from curate.classify.fasttext_model import strip_label

        model = self.loaded()
        probs = model.probabilities(lines)
        index = {name: j for j, name in enumerate(model.labels)}
        wanted = {f"{self.prefix}_score": str(self.score_label), **self.extra_columns()}
        out = {}
        for col, lab in wanted.items():
            if strip_label(lab) not in index:
                raise RecipeError(
                    f"label: model {self.model} has no label {lab!r}",
                    hint=f"its labels are {', '.join(model.labels)}",
                )
            out[col] = probs[:, index[strip_label(lab)]]
        return out

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        text = normalize(batch.column(schema.TEXT))
        valid = pc.is_valid(text)
        present: list[str] = text.filter(valid).to_pylist()
        if not present:
            scores: dict[str, np.ndarray] = {}
        elif self.model_kind == "fasttext":
            scores = self._fasttext_scores(present)
        else:
            scores = self.loaded().score(present, how=self.aggregate)
        mask = valid.to_numpy(zero_copy_only=False)
        for f in self.output_fields():
            full = np.full(batch.num_rows, np.nan)
            if present:
                full[mask] = scores[f.name]
            batch = set_column(batch, f.name, pa.array(full, type=f.type, mask=~mask))
        return batch
