"""Batched, chunked inference with a ``transformers`` sequence-classification model.

Shared by the Detoxify and ``hf:`` toxicity models and ``score.classifier``'s ``hf:`` models.
Texts are tokenized in one call with the fast tokenizer's overflow windows, so a text longer than
the model's maximum length becomes several chunks instead of being cut; chunks are sorted by
length and run in batches (little padding), then aggregated back per text
(:mod:`curate.toxicity.chunks`). torch is imported only here and only when such a model is
requested.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Literal

import numpy as np

from curate.errors import MissingDependencyError, RecipeError
from curate.toxicity import chunks
from curate.toxicity.chunks import Aggregate, aggregate

log = logging.getLogger(__name__)

INSTALL_HINT = 'pip install "llmos-curate[detoxify]"'
#: Models whose position ids start after the padding index, so two positions are unusable.
_OFFSET_POSITIONS = frozenset({"roberta", "xlm-roberta", "camembert", "longformer"})


def import_torch() -> Any:
    """``torch``, or a MissingDependencyError with the pip command when it is not installed."""
    try:
        import torch
        import transformers  # noqa: F401  (checked here so the error names the extra)
    except ImportError as exc:
        raise MissingDependencyError(
            f"this model needs torch and transformers, which are not installed ({exc})",
            hint=INSTALL_HINT,
        ) from exc
    return torch


_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def check_device(value: str) -> str:
    """``value`` when it names a device :func:`pick_device` understands, else ValueError."""
    if not _DEVICE.match(value):
        raise ValueError(f"device {value!r} is not one of auto, cpu, cuda, cuda:N, mps")
    return value


def pick_device(spec: str) -> str:
    """``auto`` becomes ``cuda`` when a GPU is visible, else ``mps`` on Apple silicon, else cpu."""
    torch = import_torch()
    if spec != "auto":
        return spec
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def set_threads(threads: int | None) -> None:
    """Limit torch's CPU threads for this process (None leaves torch's default)."""
    if threads:
        import_torch().set_num_threads(threads)


def model_max_length(tokenizer: Any, config: Any) -> int:
    """The longest input, in tokens with special tokens, that the model can read."""
    limit = int(getattr(config, "max_position_embeddings", 512) or 512)
    if getattr(config, "model_type", "") in _OFFSET_POSITIONS:
        limit -= 2
    declared = getattr(tokenizer, "model_max_length", None)
    if isinstance(declared, int) and 0 < declared < limit:
        limit = declared
    return limit


class TransformerScorer:
    """Scores texts with chosen output heads of a sequence-classification model."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        heads: dict[str, int],
        activation: Literal["sigmoid", "softmax", "none"],
        device: str,
        batch_size: int,
        max_length: int | None,
        name: str,
    ) -> None:
        limit = model_max_length(tokenizer, model.config)
        if max_length is not None and max_length > limit:
            raise RecipeError(
                f"max_length {max_length} is longer than model {name} can read ({limit} tokens)",
                hint=f"use max_length <= {limit}, or leave it unset for the model's maximum",
            )
        self.max_length = max_length or limit
        self.name = name
        self.heads = heads
        self.activation = activation
        self.device = device
        self.batch_size = batch_size
        self.tokenizer = tokenizer
        self.model = model.to(device).eval()
        self._specials = int(tokenizer.num_special_tokens_to_add(pair=False))
        if self.max_length <= self._specials:
            raise RecipeError(
                f"max_length {self.max_length} leaves no room for text in model {name}",
                hint=f"use max_length > {self._specials}",
            )

    def columns(self) -> list[str]:
        return list(self.heads)

    def _windows(self, texts: list[str]) -> tuple[dict[str, Any], np.ndarray]:
        enc = self.tokenizer(
            texts,
            truncation=True,
            max_length=self.max_length,
            stride=0,
            return_overflowing_tokens=True,
            padding=False,
        )
        mapping = enc.get("overflow_to_sample_mapping")
        if mapping is None:
            raise MissingDependencyError(
                f"the tokenizer of {self.name} cannot split long texts into chunks",
                hint="use a model with a fast (Rust) tokenizer, i.e. a tokenizer.json file",
            )
        return enc, np.asarray(mapping, dtype=np.int64)

    def logits(self, enc: dict[str, Any]) -> np.ndarray:
        """Raw model outputs for every window, in input order."""
        torch = import_torch()
        ids = enc["input_ids"]
        keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in enc]
        order = np.argsort([-len(x) for x in ids], kind="stable")
        out: np.ndarray | None = None
        with torch.inference_mode():
            for start in range(0, len(ids), self.batch_size):
                rows = order[start : start + self.batch_size]
                feats = [{k: enc[k][int(i)] for k in keys} for i in rows]
                batch = self.tokenizer.pad(feats, return_tensors="pt").to(self.device)
                values = self.model(**batch).logits.float().cpu().numpy()
                if out is None:
                    out = np.empty((len(ids), values.shape[1]), dtype=np.float64)
                out[rows] = values
        return out if out is not None else np.zeros((0, 0))

    def score(self, texts: list[str], *, how: Aggregate = "mean") -> dict[str, np.ndarray]:
        """One array of probabilities per head column, aggregated over each text's chunks.

        Texts are tokenized in groups of at most :data:`~curate.toxicity.chunks.PIECE_CHARS`
        characters, and a longer text piece by piece (pieces end after whitespace; windows start
        again at each piece, every million characters), so the tokenizer's encodings never hold
        more than a piece: a 200 MB document is not tokenized at once.
        """
        if not texts:
            return {c: np.zeros(0) for c in self.heads}
        picked: list[np.ndarray] = []
        tokens: list[np.ndarray] = []
        owners: list[np.ndarray] = []
        for first, group in chunks.groups(texts):
            long_text = len(group) == 1 and len(group[0]) > chunks.PIECE_CHARS
            # a generator: one piece of a long text is held at a time
            parts = ([piece] for piece in chunks.pieces(group[0])) if long_text else iter([group])
            for part in parts:
                p, t, mapping = self._window_scores(part)
                picked.append(p)
                tokens.append(t)
                owners.append(first + (np.zeros_like(mapping) if long_text else mapping))
        per_text = aggregate(
            np.concatenate(picked),
            np.concatenate(owners),
            np.concatenate(tokens),
            n_docs=len(texts),
            how=how,
        )
        return {c: per_text[:, j] for j, c in enumerate(self.heads)}

    def _window_scores(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per window of ``texts``: head probabilities, text tokens, and the text it is from."""
        enc, mapping = self._windows(texts)
        raw = self.logits(enc)
        if self.activation == "softmax":
            shifted = np.exp(raw - raw.max(axis=1, keepdims=True))
            probs = shifted / shifted.sum(axis=1, keepdims=True)
        elif self.activation == "sigmoid":
            probs = 1.0 / (1.0 + np.exp(-raw))
        else:
            probs = raw
        picked = probs[:, list(self.heads.values())]
        tokens = np.array([len(x) for x in enc["input_ids"]], dtype=np.float64) - self._specials
        return picked, tokens, mapping
