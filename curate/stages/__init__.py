"""The stage registry: built-in stages plus plugins from the ``curate.stages`` entry point group.

Built-ins are listed explicitly and imported lazily, so ``curate stages`` never imports torch.
A plugin registers ``name = "package.module:StageClass"`` in its entry point group
``curate.stages``; a plugin that reuses a taken name is an error, not a silent override.

>>> from curate.stages import get_stage
>>> get_stage("filter").name
'filter'
"""

from __future__ import annotations

import difflib
import importlib
from functools import cache
from importlib.metadata import entry_points

from curate.errors import RecipeError
from curate.stage import Stage

#: Built-in stage name -> "module:Class". One stage per module.
BUILTINS: dict[str, str] = {
    "normalize": "curate.stages.normalize:Normalize",
    "filter": "curate.stages.filter:Filter",
    "dedup.exact": "curate.stages.dedup_exact:DedupExact",
    "dedup.paragraphs": "curate.stages.dedup_paragraphs:DedupParagraphs",
    "dedup.minhash": "curate.stages.dedup_minhash:DedupMinhash",
    "score.language": "curate.stages.score_language:ScoreLanguage",
    "score.quality": "curate.stages.score_quality:ScoreQuality",
    "score.toxicity": "curate.stages.score_toxicity:ScoreToxicity",
    "score.classifier": "curate.stages.score_classifier:ScoreClassifier",
    "score.identity": "curate.stages.score_identity:ScoreIdentity",
    "redact.pii": "curate.stages.redact_pii:RedactPii",
    "decontaminate": "curate.stages.decontaminate:Decontaminate",
    "score.tokens": "curate.stages.score_tokens:ScoreTokens",
}

ENTRY_POINT_GROUP = "curate.stages"


def _load(ref: str) -> type[Stage]:
    module, _, attr = ref.partition(":")
    obj = getattr(importlib.import_module(module), attr)
    if not (isinstance(obj, type) and issubclass(obj, Stage)):
        raise RecipeError(f"{ref} is not a curate Stage subclass")
    return obj


@cache
def _plugin_refs() -> dict[str, str]:
    found: dict[str, str] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in BUILTINS or ep.name in found:
            raise RecipeError(
                f"stage name {ep.name!r} is registered twice (plugin {ep.value})",
                hint="rename the plugin's entry point; built-in names cannot be overridden",
            )
        found[ep.name] = ep.value
    return found


def stage_names() -> list[str]:
    """Every known stage name, built-ins first."""
    return [*BUILTINS, *sorted(_plugin_refs())]


def get_stage(name: str) -> type[Stage]:
    """The stage class registered under ``name``; a close match is suggested on a typo."""
    ref = BUILTINS.get(name) or _plugin_refs().get(name)
    if ref is None:
        close = difflib.get_close_matches(name, stage_names(), n=1)
        hint = f"did you mean {close[0]!r}?" if close else "run `curate stages` to list stages"
        raise RecipeError(f"unknown stage {name!r}", hint=hint)
    cls = _load(ref)
    if cls.name != name:
        raise RecipeError(f"{ref} declares name {cls.name!r} but is registered as {name!r}")
    return cls
