"""Toxicity models for ``score.toxicity``.

* ``default``: the linear model shipped by alt-profanity-check (no torch; see
  :mod:`curate.toxicity.linear`),
* ``detoxify-original`` / ``detoxify-unbiased`` / ``detoxify-multilingual``: Detoxify checkpoints
  (extra ``[detoxify]``; :mod:`curate.toxicity.detoxify`),
* ``hf:PATH_OR_ID``: a transformers text-classification model (:mod:`curate.toxicity.hf`).

Importing this package never imports torch.

>>> output_columns("detoxify-original", subscores=True)[:3]
['toxicity', 'toxicity_severe', 'toxicity_obscene']
>>> output_columns("hf:./my-model", subscores=True)
['toxicity']
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from curate.errors import RecipeError
from curate.toxicity.chunks import Aggregate

DETOXIFY_MODELS = ("detoxify-original", "detoxify-unbiased", "detoxify-multilingual")
MODEL_CHOICES = ("default", *DETOXIFY_MODELS, "hf:PATH_OR_ID")
#: Languages each model was trained on (ISO 639-1, as ``score.language`` writes ``lang``).
#: The default and the first two Detoxify models saw English only; Detoxify multilingual was
#: trained on the Jigsaw 2020 data: English plus the six languages of its validation and test
#: sets. ``hf:`` models declare nothing: every language is scored unless ``languages`` is set.
LANGUAGES: dict[str, tuple[str, ...]] = {
    "default": ("en",),
    "detoxify-original": ("en",),
    "detoxify-unbiased": ("en",),
    "detoxify-multilingual": ("en", "es", "fr", "it", "pt", "ru", "tr"),
}


class ToxicityScorer(Protocol):
    """What the stage needs from a loaded model."""

    @property
    def name(self) -> str: ...

    @property
    def max_length(self) -> int:
        """Chunk length, in the model's tokens."""

    def columns(self) -> list[str]: ...

    def score(self, texts: list[str], *, how: Aggregate = "mean") -> dict[str, np.ndarray]: ...


def check_model(model: str) -> str:
    """``model`` if it names a known model, else a RecipeError listing the choices."""
    if model in ("default", *DETOXIFY_MODELS) or (model.startswith("hf:") and len(model) > 3):
        return model
    raise RecipeError(
        f"model: unknown toxicity model {model!r}",
        hint=f"use one of {', '.join(MODEL_CHOICES)}",
    )


def supported_languages(model: str) -> tuple[str, ...] | None:
    """Languages ``model`` is known to score; None when it declares none (every language).

    >>> supported_languages("default"), supported_languages("hf:./m")
    (('en',), None)
    """
    return LANGUAGES.get(model)


def output_columns(model: str, *, subscores: bool) -> list[str]:
    """Columns a model writes, without loading it."""
    if model in DETOXIFY_MODELS:
        from curate.toxicity.detoxify import output_columns as detoxify_columns

        return detoxify_columns(model, subscores=subscores)
    return ["toxicity"]


def load_scorer(
    model: str,
    *,
    checkpoint: str | None = None,
    tokenizer: str | None = None,
    label: str | None = None,
    device: str = "auto",
    threads: int | None = None,
    batch_size: int = 32,
    max_length: int | None = None,
    subscores: bool = True,
) -> ToxicityScorer:
    """Load a model by name (see :data:`MODEL_CHOICES`)."""
    check_model(model)
    if model == "default":
        from curate.toxicity.linear import LinearToxicity

        return LinearToxicity.load(max_length=max_length)
    from curate.toxicity.transformer import pick_device, set_threads

    set_threads(threads)
    where = pick_device(device)
    if model in DETOXIFY_MODELS:
        from curate.toxicity.detoxify import load_detoxify

        return load_detoxify(
            model,
            checkpoint=checkpoint,
            tokenizer=tokenizer,
            device=where,
            batch_size=batch_size,
            max_length=max_length,
            subscores=subscores,
        )
    from curate.toxicity.hf import load_hf

    return load_hf(model, label=label, device=where, batch_size=batch_size, max_length=max_length)


__all__ = [
    "DETOXIFY_MODELS",
    "MODEL_CHOICES",
    "ToxicityScorer",
    "check_model",
    "load_scorer",
    "output_columns",
    "supported_languages",
]
