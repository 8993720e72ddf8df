"""Text classifiers for ``score.classifier`` and ``curate train classifier``.

A model is named by a spec:

* a path to a fastText supervised model (``.bin`` / ``.ftz``), e.g. one trained by
  ``curate train classifier`` or DCLM's quality classifier;
* a model asset name from ``curate models list`` (``dclm-fasttext``, ``fineweb-edu-classifier``);
* ``hf:PATH_OR_ID``, a ``transformers`` sequence-classification model, run with the same
  chunking, batching and aggregation as ``score.toxicity``'s ``hf:`` models.

>>> kind_of("models/quality.bin"), kind_of("hf:./edu"), kind_of("dclm-fasttext")
('fasttext', 'hf', 'fasttext')
>>> column_name("quality", "__label__hq")
'quality_hq'
"""

from __future__ import annotations

import re
from typing import Literal

from curate.errors import RecipeError
from curate.models import ASSETS

HF_PREFIX = "hf:"
FASTTEXT_SUFFIXES = (".bin", ".ftz")
#: Model assets that are Hub models: the spec they stand for.
HF_ASSETS = {"fineweb-edu-classifier": "hf:HuggingFaceFW/fineweb-edu-classifier"}
#: The label a known model's ``<prefix>_score`` reports when the recipe names none.
KNOWN_LABELS = {"dclm-fasttext": "hq"}


def kind_of(spec: str) -> Literal["fasttext", "hf"]:
    """Which kind of model ``spec`` names, or a RecipeError saying what is accepted."""
    spec = HF_ASSETS.get(spec, spec)
    if spec.startswith(HF_PREFIX) and len(spec) > len(HF_PREFIX):
        return "hf"
    asset = ASSETS.get(spec)
    if asset is not None and asset.kind == "fasttext-classifier":
        return "fasttext"
    if spec.lower().endswith(FASTTEXT_SUFFIXES):
        return "fasttext"
    known = sorted(a.name for a in ASSETS.values() if "classifier" in a.kind)
    raise RecipeError(
        f"model: {spec!r} is not a classifier curate can load",
        hint="give a fastText .bin/.ftz path, hf:PATH_OR_ID, or one of " + ", ".join(known),
    )


def column_name(prefix: str, label: str) -> str:
    """Output column for one label's probability: ``<prefix>_<label>`` with a safe label."""
    from curate.classify.fasttext_model import strip_label

    return f"{prefix}_{re.sub(r'[^0-9A-Za-z_]+', '_', strip_label(label)).strip('_').lower()}"


__all__ = ["FASTTEXT_SUFFIXES", "HF_ASSETS", "HF_PREFIX", "KNOWN_LABELS", "column_name", "kind_of"]
