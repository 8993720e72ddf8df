"""The stage registry: built-in stages plus plugins from the ``curate.stages`` entry point group.

Built-ins are listed explicitly and imported lazily, so ``curate stages`` never imports torch.
A plugin registers ``name = "package.module:StageClass"`` in its entry point group
``curate.stages``; a plugin that reuses a taken name is an error, not a silent override, and an
entry point that does not load, or names something other than a stage, is a
:class:`~curate.errors.PluginError` naming the distribution and the entry point.

>>> from curate.stages import get_stage
>>> get_stage("filter").name
'filter'
"""

from __future__ import annotations

import difflib
import importlib
from functools import cache
from importlib.metadata import EntryPoint, entry_points

from curate.errors import PluginError, RecipeError
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


def _origin(ep: EntryPoint) -> str:
    dist = f"distribution {ep.dist.name}" if ep.dist is not None else "an unknown distribution"
    return f"entry point {ep.name} = {ep.value!r} of {dist} (group {ENTRY_POINT_GROUP})"


def _load_plugin(ep: EntryPoint) -> type[Stage]:
    """The class of a plugin's entry point; a broken one is a :class:`PluginError`."""
    try:
        obj = ep.load()
    except Exception as exc:
        raise PluginError(
            f"{_origin(ep)} does not load: {type(exc).__name__}: {exc}",
            hint="reinstall or fix that package, or uninstall it to run without the stage",
        ) from exc
    if not (isinstance(obj, type) and issubclass(obj, Stage)):
        raise PluginError(
            f"{_origin(ep)} names {obj!r}, not a subclass of curate.stage.Stage",
            hint="point the entry point at a MapStage or curate.core.GlobalStage subclass",
        )
    if obj.name != ep.name:
        raise PluginError(
            f"{_origin(ep)} names a stage that declares name {obj.name!r}",
            hint="make the entry point's name and the class's `name` the same",
        )
    return obj


@cache
def _plugins() -> dict[str, EntryPoint]:
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in BUILTINS or ep.name in found:
            raise PluginError(
                f"stage name {ep.name!r} is registered twice ({_origin(ep)})",
                hint="rename the plugin's entry point; built-in names cannot be overridden",
            )
        found[ep.name] = ep
    return found


def stage_names() -> list[str]:
    """Every known stage name, built-ins first."""
    return [*BUILTINS, *sorted(_plugins())]


def get_stage(name: str) -> type[Stage]:
    """The stage class registered under ``name``; a close match is suggested on a typo."""
    if name in BUILTINS:
        return _load(BUILTINS[name])
    plugin = _plugins().get(name)
    if plugin is None:
        close = difflib.get_close_matches(name, stage_names(), n=1)
        hint = f"did you mean {close[0]!r}?" if close else "run `curate stages` to list stages"
        raise RecipeError(f"unknown stage {name!r}", hint=hint)
    return _load_plugin(plugin)
