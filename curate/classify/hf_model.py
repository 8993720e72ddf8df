"""``hf:`` sequence-classification models for ``score.classifier``.

Loading, chunking, batching and aggregation are :mod:`curate.toxicity.hf` and
:class:`curate.toxicity.transformer.TransformerScorer`, the code ``score.toxicity`` runs; only
the choice of output heads differs. A regression head (``problem_type: regression``, as
FineWeb-Edu's classifier) is reported as it is, without a squashing function.
"""

from __future__ import annotations

from typing import Any

from curate.errors import RecipeError
from curate.toxicity.hf import activation_for, label_index, load_pretrained
from curate.toxicity.transformer import TransformerScorer, pick_device, set_threads


def head_names(config: Any) -> list[str]:
    """The model's outputs by name, in order."""
    names = {int(i): str(n) for i, n in (getattr(config, "id2label", None) or {}).items()}
    return [names.get(i, str(i)) for i in range(int(config.num_labels))]


def load_hf_classifier(
    source: str,
    *,
    score_column: str,
    label: str | None,
    extra: dict[str, str],
    device: str,
    threads: int | None,
    batch_size: int,
    max_length: int | None,
) -> TransformerScorer:
    """A scorer writing ``score_column`` (label ``label``) and ``{column: label}`` of ``extra``."""
    set_threads(threads)
    model, tokenizer = load_pretrained(source)
    config = model.config
    if label is None:
        if int(config.num_labels) != 1:
            raise RecipeError(
                f"label: model {source} has {config.num_labels} outputs "
                f"({', '.join(head_names(config))}); say which one is the score",
                hint="set `label` to one of the names above",
            )
        label = "0"
    heads = {score_column: label_index(config, label, source)}
    heads.update({col: label_index(config, name, source) for col, name in extra.items()})
    return TransformerScorer(
        model,
        tokenizer,
        heads=heads,
        activation=activation_for(config),
        device=pick_device(device),
        batch_size=batch_size,
        max_length=max_length,
        name=source,
    )
