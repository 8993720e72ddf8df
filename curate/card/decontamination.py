"""The card's "Decontamination" section: which evaluation sets were kept out, and how many
documents each removed.

Counts per set come from the ledger's ``detail`` of the ``decontaminate`` stages (each removed
row names the set of its first match), so they add up to the stage's ``contaminated`` count in
the run report.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from curate.card.facts import DatasetFacts
from curate.card.markdown import cell, code_span, table, text
from curate.ledger import ledger_files
from curate.stages.decontaminate import Decontaminate

STAGE = "decontaminate"


def removed_per_set(facts: DatasetFacts, label: str) -> dict[str, int]:
    """Documents stage ``label`` removed, by the evaluation set of their first match."""
    files = ledger_files(facts.root)
    if not files:
        return {}
    rows = (
        pl.scan_parquet(files, missing_columns="insert", extra_columns="ignore")
        .select("stage", "reason", "detail")
        .filter((pl.col("stage") == label) & (pl.col("reason") == "contaminated"))
        .select(pl.col("detail").str.extract(r"^set=(.*?) item=", 1).alias("set"))
        .group_by("set")
        .len()
        .collect()
    )
    return {str(s): int(n) for s, n in rows.iter_rows()}


def section(facts: DatasetFacts) -> str:
    """Markdown for every ``decontaminate`` stage of the run; empty when there is none."""
    stages = [s for s in facts.stages if s.get("use") == STAGE]
    if not stages:
        return ""
    parts = ["### Decontamination"]
    for stage in stages:
        parts.append(_one(facts, stage))
    return "\n\n".join(parts)


def _one(facts: DatasetFacts, stage: dict[str, Any]) -> str:
    params = stage.get("params") if isinstance(stage.get("params"), dict) else {}
    assert isinstance(params, dict)
    label = str(stage.get("label") or STAGE)
    removed = removed_per_set(facts, label)
    sets = [str(s.name) for s in Decontaminate.model_validate(params).sets()]
    annotate = params.get("action") == "annotate"
    rows = [(text(name), "" if annotate else cell(removed.get(name, 0))) for name in sets]
    intro = (
        f"Stage {code_span(label)} compared every document with the word {params.get('n')}-grams "
        f"of {len(sets)} evaluation set(s), after lower-casing and removing punctuation; items "
        f"shorter than {params.get('n')} words were matched whole when they had at least "
        f"{params.get('min_words')} words. "
    )
    if annotate:
        intro += (
            "Nothing was removed (`action: annotate`): `contamination_matches` and "
            "`contaminated_by` say which documents match."
        )
    else:
        intro += (
            f"Documents sharing at least {params.get('min_matches')} n-gram(s) with a set were "
            f"removed ({cell(stage.get('removed') or 0)} in all); the ledger names the set, "
            "item and words of each first match."
        )
    return "\n\n".join([intro, table(["evaluation set", "documents removed"], rows)])
