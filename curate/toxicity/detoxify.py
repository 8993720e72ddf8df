"""Detoxify checkpoints, loaded without executing pickled code.

A Detoxify checkpoint is a ``torch.save`` of ``{"config": ..., "state_dict": ...}``: the
training config (architecture under ``config.arch.args``: ``model_type``, ``model_name``,
``tokenizer_name``, ``num_classes``; class names under ``config.dataset.args.classes`` or
``config.arch.args.classes``) and the weights. Detoxify's own loader unpickles it with
``weights_only=False``, which runs any code the file carries; here it is read with
``torch.load(..., weights_only=True)``, which accepts only tensors and plain containers.

The model is rebuilt from ``model_type``, a Hugging Face id such as ``bert-base-uncased``, whose
``config.json`` and tokenizer files come from the Hugging Face cache, or from the folder named by
the stage's ``tokenizer`` parameter for a fully offline run. The ``unbiased`` model has 16
outputs: the 7 toxicity heads its ``predict`` returns and 9 identity heads it drops; both are
read from the logits here.
"""

from __future__ import annotations

import logging
import pickle
from pathlib import Path
from typing import Any

from curate import models
from curate.errors import DataError, MissingDependencyError
from curate.toxicity.transformer import TransformerScorer, import_torch

log = logging.getLogger(__name__)

ORIGINAL = ["toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack"]
UNBIASED = [
    "toxicity",
    "severe_toxicity",
    "obscene",
    "identity_attack",
    "insult",
    "threat",
    "sexual_explicit",
]
#: Identity heads of the unbiased model, in logit order after its toxicity heads.
IDENTITY_HEADS = [
    "male",
    "female",
    "homosexual_gay_or_lesbian",
    "christian",
    "jewish",
    "muslim",
    "black",
    "white",
    "psychiatric_or_mental_illness",
]
#: Detoxify's class names in older configs, and the names its ``predict`` reports.
RENAMES = {
    "toxic": "toxicity",
    "severe_toxic": "severe_toxicity",
    "identity_hate": "identity_attack",
}

#: Model name -> (asset name, toxicity heads, whether identity heads are written).
MODELS: dict[str, tuple[str, list[str], bool]] = {
    "detoxify-original": ("detoxify-original", ORIGINAL, False),
    "detoxify-unbiased": ("detoxify-unbiased", UNBIASED, True),
    "detoxify-multilingual": ("detoxify-multilingual", UNBIASED, False),
}


def column_for(head: str) -> str:
    """Output column of a Detoxify head: ``toxicity`` itself, else ``toxicity_<head>``."""
    if head == "toxicity":
        return "toxicity"
    if head == "severe_toxicity":
        return "toxicity_severe"
    return f"toxicity_{head}"


def output_columns(model: str, *, subscores: bool) -> list[str]:
    """Columns a Detoxify model writes, known without loading it."""
    _, heads, identities = MODELS[model]
    if not subscores:
        return ["toxicity"]
    cols = [column_for(h) for h in heads]
    if identities:
        cols += [f"toxicity_identity_{h}" for h in IDENTITY_HEADS]
    return cols


def read_checkpoint(path: Path) -> dict[str, Any]:
    """The checkpoint's dict, refusing anything but tensors and plain data."""
    torch = import_torch()
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as exc:
        raise DataError(
            f"{path}: not a checkpoint that can be read safely ({str(exc).splitlines()[0]})",
            hint="use an official Detoxify checkpoint; files that need code execution to "
            "unpickle are refused",
        ) from exc
    if not isinstance(loaded, dict) or "config" not in loaded or "state_dict" not in loaded:
        raise DataError(
            f"{path}: a Detoxify checkpoint holds 'config' and 'state_dict'",
            hint="pass the .ckpt file from a Detoxify release",
        )
    return loaded


def _layout(ckpt: dict[str, Any], path: Path) -> tuple[dict[str, Any], list[str], list[str]]:
    """Architecture args, toxicity class names and identity class names of a checkpoint."""
    config = ckpt["config"]
    try:
        arch = dict(config["arch"]["args"])
    except (KeyError, TypeError) as exc:
        raise DataError(f"{path}: config.arch.args is missing", hint="not a Detoxify file") from exc
    sections = [config.get("dataset", {}).get("args", {}), arch]
    classes = next((s["classes"] for s in sections if s.get("classes")), None)
    if not classes:
        raise DataError(f"{path}: the config names no classes", hint="not a Detoxify file")
    classes = [RENAMES.get(c, c) for c in classes]
    identity = next((s["identity_classes"] for s in sections if s.get("identity_classes")), None)
    n_out = int(arch.get("num_classes", len(classes)))
    if identity is None and n_out == len(classes) + len(IDENTITY_HEADS):
        identity = IDENTITY_HEADS
    return arch, classes, list(identity or [])


def build_model(
    ckpt: dict[str, Any], path: Path, *, tokenizer_dir: str | None
) -> tuple[Any, Any, list[str]]:
    """The transformers model and tokenizer of a checkpoint, and every output's name."""
    import transformers

    arch, classes, identity = _layout(ckpt, path)
    source = tokenizer_dir or str(arch["model_type"])
    try:
        model_class = getattr(transformers, str(arch["model_name"]))
        config = model_class.config_class.from_pretrained(
            source, num_labels=int(arch["num_classes"]), local_files_only=tokenizer_dir is not None
        )
        tokenizer = transformers.AutoTokenizer.from_pretrained(
            source, local_files_only=tokenizer_dir is not None
        )
    except (OSError, ValueError, AttributeError) as exc:
        raise MissingDependencyError(
            f"{path}: cannot load the config and tokenizer of {source!r} ({exc})",
            hint="set the stage's `tokenizer` to a folder with config.json and tokenizer files "
            f"for {arch['model_type']} (e.g. saved with save_pretrained), or fill the Hugging "
            "Face cache while online",
        ) from exc
    model = model_class(config)
    missing, unexpected = model.load_state_dict(ckpt["state_dict"], strict=False)
    # Older transformers saved position ids as weights; they are rebuilt, not learned.
    unexpected = [k for k in unexpected if not k.endswith("position_ids")]
    if missing or unexpected:
        raise DataError(
            f"{path}: weights do not fit {arch['model_name']} "
            f"(missing {missing[:3]}, unexpected {unexpected[:3]})",
            hint="the checkpoint and its config.arch.args disagree; re-download it",
        )
    return model, tokenizer, classes + identity


def load_detoxify(
    model: str,
    *,
    checkpoint: str | None,
    tokenizer: str | None,
    device: str,
    batch_size: int,
    max_length: int | None,
    subscores: bool,
) -> TransformerScorer:
    """A scorer for one of :data:`MODELS`, its weights resolved as a model asset."""
    asset, heads, identities = MODELS[model]
    path = resolve_checkpoint(asset, checkpoint)
    ckpt = read_checkpoint(path)
    net, tok, outputs = build_model(ckpt, path, tokenizer_dir=tokenizer)
    wanted = heads + (IDENTITY_HEADS if identities else []) if subscores else ["toxicity"]
    absent = [h for h in wanted if h not in outputs]
    if absent:
        raise DataError(
            f"{path}: checkpoint has no {absent[0]!r} output (it has {', '.join(outputs)})",
            hint=f"use the checkpoint released for {model}, or set subscores: false",
        )
    columns = output_columns(model, subscores=subscores)
    head_index = {c: outputs.index(h) for c, h in zip(columns, wanted)}
    log.info("loaded %s from %s on %s", model, path, device)
    return TransformerScorer(
        net,
        tok,
        heads=head_index,
        activation="sigmoid",
        device=device,
        batch_size=batch_size,
        max_length=max_length,
        name=model,
    )


def resolve_checkpoint(asset: str, explicit: str | None) -> Path:
    """Checkpoint path: parameter, environment variable, cache, then a verified download.

    Assets without a recorded sha256 are never downloaded; a copy the user placed in the cache
    is used as it is.
    """
    found = models.locate(asset, explicit=explicit)
    if found.path is not None:
        return found.path
    target = models.cache_path(found.asset)
    if found.origin == "missing" and not found.asset.sha256 and target.is_file():
        return target
    if found.origin == "missing" and not found.asset.sha256:
        raise MissingDependencyError(
            f"model {asset} is not available and has no recorded sha256 to download it safely",
            hint=f"download {found.asset.urls[0]} yourself and pass its path as `checkpoint:`, "
            f"set ${found.asset.env_var}, or put it at {target}",
        )
    return models.resolve(asset, explicit=explicit)
