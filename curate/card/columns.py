"""What each column of a curated dataset means, and which stage of the run wrote it."""

from __future__ import annotations

import logging
from typing import Any

import pyarrow as pa

from curate.card.markdown import code_span
from curate.io.features import input_features
from curate.quality.columns import BY_NAME as QUALITY

log = logging.getLogger(__name__)

#: Meanings of the columns built-in stages write (the design document's contract).
MEANINGS: dict[str, str] = {
    "id": "Stable unique document id (from the input's id column, or generated from its content).",
    "text": "The document text, after any rewriting stages (normalize, redact.pii).",
    "dup_count": "How many identical copies of this text were in the input (1 = unique).",
    "dup_cluster": "Id of the near-duplicate cluster (MinHash LSH) the document belongs to.",
    "dup_cluster_size": "Documents in that near-duplicate cluster before removal.",
    "lang": "Language detected by fastText LID (ISO 639-1 where one exists, else 639-3).",
    "lang_score": "Confidence of the detected language, in [0, 1].",
    "lang_mixed": "Share of the text in languages other than the main one, in [0, 1].",
    "script": "Dominant Unicode script of the text.",
    "toxicity": "Toxicity score in [0, 1]; higher is more toxic (machine-generated).",
    "toxicity_supported": "Whether the toxicity model reads the document's `lang` (false: "
    "`toxicity` is null, not a guess; null: the run had no `lang` column to decide it).",
    "identities": "Identity groups mentioned, as axis/group strings (lexicon match).",
    "pii_count": "Personal data spans redacted from the text.",
    "contamination_matches": "Distinct word n-grams the document shares with the evaluation "
    "sets of `decontaminate` (0 = none).",
    "contaminated_by": "Names of the evaluation sets the document shares n-grams with (empty "
    "when none).",
    "n_tokens": "Tokens of the text under the tokenizer of `score.tokens` (no special tokens).",
}

#: What a column carried from the input, unknown to curate's stages, is said to hold.
INPUT = "Carried through unchanged from the input."

#: Prefixes of column families, with what they mean.
PREFIXES: dict[str, str] = {
    "toxicity_": "Toxicity model sub-score in [0, 1].",
    "quality_": "Quality signal not written by this curate version's score.quality.",
}


def meaning(column: str) -> str:
    """What a column holds; input columns carried through say so.

    >>> meaning("lang_score")
    'Confidence of the detected language, in [0, 1].'
    >>> meaning("quality_word_count")
    'Quality signal: words; Gopher keeps documents with 50 to 100,000.'
    >>> meaning("url")
    'Carried through unchanged from the input.'
    """
    if column in MEANINGS:
        return MEANINGS[column]
    signal = QUALITY.get(column)
    if signal is not None:
        if signal.keep.startswith(signal.source):
            rule = signal.keep
        elif signal.keep in ("true", "false"):
            rule = f"{signal.source} keeps documents where it is {signal.keep}"
        else:
            rule = f"{signal.source} keeps documents with {signal.keep}"
        return f"Quality signal: {signal.description}; {rule}."
    for prefix, text in PREFIXES.items():
        if column.startswith(prefix):
            return text
    return INPUT


#: Class names a ``ClassLabel`` column's meaning lists; the card's ``dataset_info`` has them all.
MAX_CLASSES = 20


def meanings(
    schema: pa.Schema,
    *,
    renamed: dict[str, str] | None = None,
    written: set[str] | None = None,
) -> dict[str, str]:
    """What each column of ``schema`` holds, by name.

    With ``written`` (the columns the run's stages wrote), an input column that only shares its
    name with a stage's column (a gold ``lang`` kept beside ``pred_lang``) is described as the
    input's, not as what the stage would have written.

    A Hugging Face ``ClassLabel`` column carried from the input is stored as integers, so its
    meaning lists the class names (from the features ``datasets`` recorded in the schema):
    "Carried through unchanged" alone would leave a reader of the card with bare numbers.

    >>> import json
    >>> hf = {"info": {"features": {"label": {"_type": "ClassLabel", "names": ["neg", "pos"]}}}}
    >>> schema = pa.schema([("label", pa.int64())], metadata={"huggingface": json.dumps(hf)})
    >>> meanings(schema)["label"]
    'Class label carried through from the input: 0 = `neg`, 1 = `pos`.'
    """
    features = input_features(schema) or {}
    out = {}
    for name in schema.names:
        feature = features.get(name)
        names = None
        if isinstance(feature, dict) and feature.get("_type") == "ClassLabel":
            names = feature.get("names")
        original = (renamed or {}).get(name)
        if isinstance(names, list):
            out[name] = _class_label([str(n) for n in names])
        elif original is not None:
            prefix = name[: len(name) - len(original)]
            said = meaning(original).rstrip(".")
            out[name] = f"{said} (`{original}` written with the stage's output_prefix `{prefix}`)."
        else:
            out[name] = meaning(name)
            stage_name = out[name] != INPUT and name not in (written or ()) and name != "id"
            if written is not None and stage_name:
                said = out[name].rstrip(".")
                out[name] = (
                    f"Carried through from the input; no stage of this run wrote it ({said})."
                )
    return out


def _class_label(names: list[str]) -> str:
    shown = ", ".join(f"{i} = {code_span(n)}" for i, n in enumerate(names[:MAX_CLASSES]))
    more = len(names) - MAX_CLASSES
    rest = f" and {more} more (listed in the front matter's `dataset_info`)" if more > 0 else ""
    return f"Class label carried through from the input: {shown}{rest}."


#: Which built-in stage writes each column (the design's contract); used when a stage cannot be
#: rebuilt to ask it, e.g. a run made by another curate version.
CONTRACT: dict[str, str] = {
    "dup_count": "dedup.exact",
    "dup_cluster": "dedup.minhash",
    "dup_cluster_size": "dedup.minhash",
    "lang": "score.language",
    "lang_score": "score.language",
    "lang_mixed": "score.language",
    "script": "score.language",
    "toxicity": "score.toxicity",
    "toxicity_": "score.toxicity",
    "quality_": "score.quality",
    "identities": "score.identity",
    "pii_count": "redact.pii",
    "contamination_matches": "decontaminate",
    "contaminated_by": "decontaminate",
    "n_tokens": "score.tokens",
}


def _contract_stage(column: str) -> str | None:
    if column in CONTRACT:
        return CONTRACT[column]
    for prefix in ("toxicity_", "quality_"):
        if column.startswith(prefix):
            return CONTRACT[prefix]
    return None


def prefixes(recipe: dict[str, Any]) -> dict[str, str]:
    """Stage label -> the ``output_prefix`` the resolved recipe gave it."""
    stages = recipe.get("stages")
    out: dict[str, str] = {}
    for spec in stages if isinstance(stages, list) else []:
        params = spec.get("with") if isinstance(spec, dict) else None
        prefix = params.get("output_prefix") if isinstance(params, dict) else None
        if isinstance(prefix, str) and prefix:
            out[str(spec.get("id") or spec.get("use"))] = prefix
    return out


def writers(
    stages: list[dict[str, Any]], columns: list[str], *, prefixed: dict[str, str] | None = None
) -> dict[str, str]:
    """Column -> label of the last stage in the run that wrote it.

    Stages are rebuilt from their recorded parameters (and ``prefixed``, their labels' output
    prefixes) to ask which columns they write; for a stage that cannot be rebuilt, the design's
    column contract answers instead.

    >>> run = [{"use": "score.toxicity", "label": "tox", "params": {"bogus": 1}}]
    >>> writers(run, ["toxicity_insult"])
    {'toxicity_insult': 'tox'}
    >>> run = [{"use": "score.language", "label": "pred", "params": {}}]
    >>> writers(run, ["lang", "pred_lang"], prefixed={"pred": "pred_"})
    {'pred_lang': 'pred'}
    """
    from curate.stages import get_stage

    found: dict[str, str] = {}
    for entry in stages:
        use = str(entry.get("use", ""))
        label = str(entry.get("label") or use)
        try:
            stage = get_stage(use)(**(entry.get("params") or {}))
            if (prefixed or {}).get(label):
                stage.set_output_prefix((prefixed or {})[label])
            names = set(stage.writes())
        except Exception as exc:  # a card must render even when a plugin stage is gone
            log.debug("cannot ask stage %s which columns it writes: %s", use, exc)
            names = {c for c in columns if _contract_stage(c) == use}
        for name in columns:
            if name in names:
                found[name] = label
    return found


def renamed(stages: list[dict[str, Any]], prefixed: dict[str, str]) -> dict[str, str]:
    """Column -> the name its stage gives it without an output prefix (``pred_lang`` ->
    ``lang``), for the columns of prefixed stages."""
    from curate.stages import get_stage

    out: dict[str, str] = {}
    for entry in stages:
        prefix = prefixed.get(str(entry.get("label") or entry.get("use")))
        if not prefix:
            continue
        try:
            stage = get_stage(str(entry.get("use", "")))(**(entry.get("params") or {}))
            out.update({prefix + f.name: f.name for f in stage.output_fields()})
        except Exception as exc:  # as in writers(): the card renders without it
            log.debug("cannot rebuild stage %s: %s", entry.get("use"), exc)
    return out
