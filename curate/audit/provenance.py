"""What the audit's numbers rest on: the lexicons and scorer used, and what the report leaves
out. It becomes the report's "Limitations and provenance" section.

>>> lines = limitations({"provenance": {"lexicons": [], "lexicon_languages": ["en"],
...     "scorer": None, "kinds_known": False, "slurs": "separate",
...     "documents_without_lexicon": 0}, "documents": 0, "sample": {"sampled": False},
...     "sections": {}})
>>> lines[0].startswith("Mentions are lexicon matches")
True
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from pathlib import Path
from typing import Any

from curate.audit.columns import ColumnPlan
from curate.audit.tally import TOXICITY, UNKNOWN_LANG, ColumnTally
from curate.errors import MissingDependencyError
from curate.identity import lexicon


def sha256(path: Path) -> str | None:
    """The file's SHA-256, or None when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def scorer_info(model: str, params: dict[str, Any]) -> dict[str, Any]:
    """Name, version and file checksums of a ``score.toxicity`` model."""
    files: dict[str, str | None] = {}
    version = None
    if model == "default":
        from curate.toxicity import linear

        version = f"alt-profanity-check {_version('alt-profanity-check')}"
        try:
            folder = linear.data_dir()
            files = {name: sha256(folder / name) for name in linear.MODEL_FILES}
        except Exception as exc:  # the model files are optional for the report itself
            files = {"error": str(exc)}
    elif model.startswith("detoxify"):
        version = f"detoxify {_version('detoxify')}"
        ckpt = params.get("checkpoint")
        if ckpt:
            files = {str(ckpt): sha256(Path(str(ckpt)))}
    elif model.startswith("hf:"):
        version = f"transformers {_version('transformers')}"
        files = {p.name: sha256(p) for p in sorted(Path(model[3:]).glob("*.safetensors"))}
    return {"model": model, "version": version, "sha256": files}


def _run_toxicity(run_report: dict[str, Any] | None) -> dict[str, Any] | None:
    for entry in (run_report or {}).get("stages") or []:
        if isinstance(entry, dict) and entry.get("use") == "score.toxicity":
            raw = entry.get("params")
            params: dict[str, Any] = raw if isinstance(raw, dict) else {}
            return scorer_info(str(params.get("model", "default")), params)
    return None


def provenance(
    plan: ColumnPlan,
    tally: ColumnTally,
    *,
    lexicon_sources: list[str],
    lexicon_languages: list[str],
    run_report: dict[str, Any] | None,
    slurs: str,
) -> dict[str, Any]:
    """The facts the limitations section states, kept in ``audit.json``."""
    stage = plan.stages.get(TOXICITY)
    if stage is not None:
        scorer: dict[str, Any] | None = scorer_info(
            str(getattr(stage, "model", "default")), stage.model_dump()
        )
    else:
        scorer = _run_toxicity(run_report)
    covered = set(lexicon_languages) | {"mul"}
    without = sum(
        n for lang, n in tally.languages.items() if lang not in covered and lang != UNKNOWN_LANG
    )
    return {
        "lexicons": [{"file": _shown(s), "sha256": sha256(Path(s))} for s in lexicon_sources],
        "lexicon_languages": lexicon_languages,
        "scorer": scorer,
        "kinds_known": plan.kinds_known,
        "slurs": slurs,
        "documents_without_lexicon": without,
    }


def limitations(report: dict[str, Any]) -> list[str]:
    """Plain sentences for the report's limitations section."""
    prov = report["provenance"]
    out = [
        "Mentions are lexicon matches, not judgements of what a text is about: a document "
        "mentions a group when one of the group's terms occurs in it. Terms flagged ambiguous "
        "(e.g. 'black', 'queen') often have other senses; each group's top terms are listed "
        "so a count resting on one word shows."
    ]
    if not prov["kinds_known"]:
        out.append(
            "The identities were read from the dataset without `identity_terms`, so slurs "
            "could not be told from other mentions and are counted as mentions; run "
            "`score.identity` with `terms: true`, or pass `--lexicon`, to separate them."
        )
    elif prov["slurs"] == "include":
        out.append("Slurs were counted as mentions of the group they name (`slurs: include`).")
    else:
        out.append("Slurs are not counted as mentions; they have their own section when found.")
    langs = ", ".join(prov["lexicon_languages"]) or "none"
    out.append(
        f"Lexicon terms count only in documents of their own language (lexicons for: {langs}); "
        f"{prov['documents_without_lexicon']:,} documents are in a language no lexicon covers "
        "and can mention no group."
    )
    for lex in prov["lexicons"]:
        out.append(f"Lexicon {lex['file']} (sha256 {lex['sha256'] or 'unreadable'}).")
    scorer = prov["scorer"]
    if scorer is not None:
        sums = ", ".join(f"{k} {v}" for k, v in scorer["sha256"].items()) or "no file recorded"
        out.append(
            f"Toxicity scorer: {scorer['model']} ({scorer['version'] or 'version unknown'}; "
            f"sha256: {sums}). Its scores are a model's guesses, with the model's own biases "
            "(the probe section measures some of them)."
        )
    else:
        out.append(
            "The toxicity scores' model is not recorded (they came from a column of the "
            "dataset); their biases are unknown to this report."
        )
    if report["sample"].get("sampled"):
        out.append("Only a seeded sample of the documents was audited.")
    multiplicity = report.get("multiplicity") or {}
    if multiplicity.get("tests"):
        out.append(
            f"Flags are corrected for multiplicity with Holm's method over "
            f"{multiplicity['tests']} tests (family-wise error rate {multiplicity['alpha']:g}); "
            "groups below the minimum documents or events are not tested."
        )
    return out


def _shown(source: str) -> str:
    """A lexicon's file as a shared report names it: a built-in one by its name in the package
    (``builtin:en.yaml``), not by where this machine installed it; a user's own file as given."""
    path = Path(source)
    try:
        if path.resolve().parent == lexicon.builtin_dir().resolve():
            return f"builtin:{path.name}"
    except (OSError, MissingDependencyError):
        pass
    return source
