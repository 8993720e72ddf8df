"""``hf:PATH_OR_ID``: any transformers text-classification model, local folder or Hub id.

The recipe names the label that means toxic (``label: toxic``); its probability becomes
``toxicity``. Probabilities are a softmax over the labels for single-label models, and a
sigmoid per label for multi-label models (``problem_type: multi_label_classification``) and
models with a single output. Hub ids are read from the Hugging Face cache (downloaded once when
online): Hub files are not model assets with checksums, so a local folder is the reproducible
choice.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

from curate.errors import MissingDependencyError, RecipeError
from curate.toxicity.transformer import TransformerScorer, import_torch

log = logging.getLogger(__name__)

PREFIX = "hf:"


def label_index(config: Any, label: str, source: str) -> int:
    """Index of ``label`` among the model's outputs (by name, or a number as a string)."""
    names = {int(i): str(n) for i, n in (getattr(config, "id2label", None) or {}).items()}
    for i, name in names.items():
        if name == label or name.lower() == label.lower():
            return i
    if label.isdigit() and int(label) < int(config.num_labels):
        return int(label)
    raise RecipeError(
        f"label: model {source} has no label {label!r} (labels: {', '.join(names.values())})",
        hint="set `label` to the name of the model's toxic class",
    )


def activation_for(config: Any) -> Literal["sigmoid", "softmax", "none"]:
    """Softmax for single-label classifiers, sigmoid for multi-label and one-output models,
    none (the raw output) for regression heads."""
    problem = getattr(config, "problem_type", None)
    if problem == "regression":
        return "none"
    multi = problem == "multi_label_classification"
    return "sigmoid" if multi or int(config.num_labels) == 1 else "softmax"


def load_pretrained(source: str) -> tuple[Any, Any]:
    """``(model, tokenizer)`` of a sequence-classification model: a local folder or a Hub id.

    Any failure to read the files (missing, damaged, wrong format) names the source.
    """
    import_torch()
    import transformers

    local = Path(source).expanduser()
    where = str(local) if local.is_dir() else source
    try:
        model = transformers.AutoModelForSequenceClassification.from_pretrained(where)
        tokenizer = transformers.AutoTokenizer.from_pretrained(where)
    except Exception as exc:  # transformers, safetensors and torch raise many unrelated types
        raise MissingDependencyError(
            f"cannot load text-classification model {source!r} ({str(exc).splitlines()[0]})",
            hint="give a local folder with config.json, weights and tokenizer files, or a Hub "
            "id already in the Hugging Face cache; re-download files that may be damaged",
        ) from exc
    return model, tokenizer


def load_hf(
    spec: str,
    *,
    label: str | None,
    device: str,
    batch_size: int,
    max_length: int | None,
) -> TransformerScorer:
    """A scorer for ``hf:PATH_OR_ID`` writing only ``toxicity``."""
    source = spec[len(PREFIX) :]
    if not label:
        raise RecipeError(
            f"model {spec!r} needs `label`, the name of its toxic class",
            hint="look it up in the model's config.json id2label, e.g. label: toxic",
        )
    model, tokenizer = load_pretrained(source)
    index = label_index(model.config, label, source)
    log.info("loaded %s (label %s = output %d) on %s", source, label, index, device)
    return TransformerScorer(
        model,
        tokenizer,
        heads={"toxicity": index},
        activation=activation_for(model.config),
        device=device,
        batch_size=batch_size,
        max_length=max_length,
        name=source,
    )
