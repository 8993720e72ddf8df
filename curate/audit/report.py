"""Building the audit report (the content of ``audit.json``) for one dataset.

One streaming pass over the dataset (:mod:`curate.audit.scan`), one over the removal ledger when
there is one, then each section is computed from the tallies.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from pydantic import ValidationError

from curate.audit import (
    association,
    composition,
    effects,
    harm,
    impact,
    intersections,
    mentions,
    representation,
)
from curate.audit.columns import ColumnPlan, make_stage, toxicity_scorer
from curate.audit.kinds import DETAIL, split_terms
from curate.audit.labels import label_section, label_setup
from curate.audit.options import TEXT_SECTIONS, AuditOptions
from curate.audit.probe import probe_section
from curate.audit.provenance import provenance
from curate.audit.scan import column_names, scan
from curate.audit.tally import IDENTITIES, TOXICITY
from curate.errors import CurateError
from curate.io.dataset import Dataset

log = logging.getLogger(__name__)

REPORT_VERSION = 1
Scorer = Callable[[list[str]], np.ndarray]


def _identity_params(run_report: dict[str, Any] | None) -> dict[str, Any] | None:
    """Parameters of the run's own ``score.identity`` stage (so removed rows are matched like
    kept ones), or None when the run had none."""
    for entry in (run_report or {}).get("stages") or []:
        if isinstance(entry, dict) and entry.get("use") == "score.identity":
            params = entry.get("params")
            return dict(params) if isinstance(params, dict) else {}
    return None


@functools.lru_cache(maxsize=8)
def _lexicon_terms(
    params_json: str,
) -> tuple[
    tuple[str, ...], dict[str, frozenset[str]], dict[str, str], tuple[str, ...], tuple[str, ...]
]:
    """Known groups, each group's own words, and surface form -> group, of the identity stage
    built from ``params_json`` (cached: loading lexicons takes a second)."""
    try:
        from curate.stages import get_stage

        stage = get_stage("score.identity")(**json.loads(params_json))
        lexicon = stage.lexicon()  # type: ignore[attr-defined]
    except (CurateError, ImportError, ValidationError) as exc:
        log.warning("audit: lexicon terms unavailable (%s)", exc)
        return (), {}, {}, (), ()
    own: dict[str, set[str]] = {}
    forms: dict[str, str] = {}
    for term in lexicon.terms:
        for form in term.forms:
            own.setdefault(term.label, set()).update(form.lower().split())
            forms.setdefault(form.lower(), term.label)
    frozen = {label: frozenset(words) for label, words in own.items()}
    langs = tuple(lexicon.languages())
    return tuple(lexicon.labels()), frozen, forms, tuple(lexicon.sources), langs


def _identity_stage_params(lexicons: list[str], params: dict[str, Any]) -> dict[str, Any]:
    merged = dict(params)
    if lexicons:
        merged["lexicons"] = list(lexicons)
    return merged


def _identify(
    plan: ColumnPlan, params: dict[str, Any], lexicons: list[str], workdir: Path
) -> impact.Identify:
    stage = plan.stages.get(IDENTITIES)
    if stage is None:
        merged = {**_identity_stage_params(lexicons, params), "terms": True}
        stage = make_stage("score.identity", merged, workdir)
    ready = stage

    def identify(batch: pa.RecordBatch) -> tuple[pa.Array, pa.Array | None]:
        detail = ready.process(batch).column(DETAIL)
        identities, slurs, _ = split_terms(detail, include_slurs=plan.include_slurs)
        return identities, slurs

    return identify


def build_report(
    dataset: Dataset,
    options: AuditOptions,
    *,
    workdir: Path,
    scorer: Scorer | None = None,
    name: str = "",
) -> dict[str, Any]:
    """Audit ``dataset`` (without the comparison) and return the report dict."""
    wanted = set(options.sections)
    run_report = dataset.run_report()
    run_params = _identity_params(run_report)
    params = run_params or {}
    spec, label_tally = label_setup(
        column=options.label_column,
        mapping=options.label_map,
        ignore=options.label_ignore,
        positive=options.label_positive,
        threshold=options.toxicity_threshold,
        values=lambda: (
            b.column(0) for b in dataset.iter_batches(columns=[str(options.label_column)])
        ),
    )
    plan = ColumnPlan(
        column_names(dataset),
        workdir=workdir,
        lexicons=options.lexicons,
        identity_params=params,
        toxicity_column=options.toxicity_column,
        want_toxicity="harm" in wanted,
        include_slurs=options.slurs == "include",
        labels=spec,
        # The run's lexicon is known and the text is read anyway: match again to learn kinds.
        recompute_kinds=run_params is not None and bool(wanted & TEXT_SECTIONS),
    )
    text = bool(wanted & TEXT_SECTIONS)
    result = scan(
        dataset,
        plan,
        threshold=options.toxicity_threshold,
        text=text,
        association="association" in wanted,
        sample=options.sample,
        seed=options.seed,
        labels=label_tally,
    )
    tally = result.columns
    stage_params = json.dumps(_identity_stage_params(options.lexicons, params), sort_keys=True)
    # The lexicon behind `identities` is known when the audit ran the identity stage or the
    # run report names it; only then are unmentioned groups listed and own terms excluded.
    lexicon_known = IDENTITIES in plan.stages or run_params is not None
    lexicon = _lexicon_terms(stage_params) if lexicon_known else ((), {}, {}, (), ())
    known, own_terms, forms = lexicon[:3]
    min_docs = options.min_documents
    sections: dict[str, Any] = {}
    sections["composition"] = composition.composition_section(tally, result.lengths)
    composition.exact_copies_from_run(sections["composition"], run_report)
    composition.decontamination_from_run(sections["composition"], run_report)
    rep = representation.representation_section(
        tally, result.pronouns, min_documents=min_docs, known=known
    )
    terms = mentions.top_terms(tally.term_docs, slurs=plan.include_slurs)
    for group, row in rep["groups"].items():
        row["top_terms"] = terms.get(group, [])
    if "representation" in wanted:
        sections["representation"] = rep
    has_scores = tally.scored > 0
    harm_sec = None
    if "harm" in wanted and has_scores:
        harm_sec = harm.harm_section(
            tally,
            min_documents=min_docs,
            known=known,
            source=plan.sources.get(TOXICITY, ""),
            min_events=options.min_events,
        )
        sections["harm"] = harm_sec
    elif "harm" in wanted:
        sections["harm"] = {
            "available": False,
            "reason": plan.sources.get(TOXICITY, "no toxicity scores"),
        }
    if "representation" in wanted:
        sections["intersections"] = intersections.intersections_section(
            tally,
            min_documents=min_docs,
            min_events=options.min_events,
            scored=harm_sec is not None,
        )
    if "association" in wanted and result.words is not None:
        eligible = [g for g, row in rep["groups"].items() if not row["insufficient"]]
        sections["association"] = association.association_section(
            result.words, eligible=eligible, own_terms=own_terms
        )
    ledger_files = (
        impact.ledger_paths(options.removed) if options.removed else (dataset.ledger_files())
    )
    ledger = None
    order: list[str] = []
    if "filter_impact" in wanted and ledger_files:
        fraction = 1.0
        if result.sampled and result.rows_seen:
            fraction = tally.documents / result.rows_seen
        identify = None
        if options.lexicons or not _ledgers_have_identities(ledger_files):
            identify = _identify(plan, params, options.lexicons, workdir)
        ledger = impact.read_ledger(
            ledger_files,
            identify,
            fraction=fraction,
            seed=options.seed,
            include_slurs=plan.include_slurs,
        )
        order = impact.stage_order(ledger, run_report)
        sections["filter_impact"] = impact.impact_section(
            tally,
            ledger,
            order=order,
            min_events=options.min_events,
            min_documents=min_docs,
            groups=sorted(set(rep["groups"]) | set().union(*ledger.by_group.values())),
            identities="the ledger's `identities` column"
            if identify is None
            else "the `score.identity` stage run on their text",
        )
    if label_tally is not None and spec is not None:
        sections["labels"] = label_section(
            label_tally, column=spec[0], ignored=spec[2], min_documents=min_docs
        )
    slurs_found = bool(tally.slur_groups) or bool(ledger and ledger.by_slur_group)
    if tally.kinds_seen and not plan.include_slurs and slurs_found:
        sections["slurs"] = mentions.slur_section(
            tally,
            ledger=ledger,
            order=order,
            min_documents=min_docs,
            min_events=options.min_events,
            scored=has_scores and "harm" in wanted,
        )
    if "probe" in wanted and options.probe is not None:
        probe_scorer = scorer or toxicity_scorer(workdir)
        forms = forms or _lexicon_terms(stage_params)[2]
        sections["probe"] = probe_section(
            options.probe,
            scorer=probe_scorer,
            terms=forms,
            threshold=options.toxicity_threshold,
            scorer_name="given scorer" if scorer else "the `score.toxicity` stage",
            min_phrases=min_docs,
        )
    report = _assemble(dataset, options, result, plan, sections, rep, harm_sec, name)
    report["provenance"] = provenance(
        plan,
        tally,
        lexicon_sources=list(lexicon[3]),
        lexicon_languages=list(lexicon[4]),
        run_report=run_report,
        slurs=options.slurs,
    )
    return report


def _ledgers_have_identities(files: list[Path]) -> bool:
    import pyarrow.parquet as pq

    return all(IDENTITIES in pq.read_schema(f).names for f in files)


def _assemble(
    dataset: Dataset,
    options: AuditOptions,
    result: Any,
    plan: ColumnPlan,
    sections: dict[str, Any],
    rep: dict[str, Any],
    harm_sec: dict[str, Any] | None,
    name: str,
) -> dict[str, Any]:
    tally = result.columns
    # Every test of the report at once: flags are settled only after Holm's correction.
    multiplicity = effects.adjust({"sections": sections})
    groups: dict[str, Any] = {}
    for group, row in rep["groups"].items():
        h = (harm_sec or {}).get("groups", {}).get(group, {})
        groups[group] = {
            "documents": row["documents"],
            "share": row["share"],
            "ci95": row["ci95"],
            "toxic_rate": h.get("toxic_rate"),
            "toxic_rate_ci95": h.get("toxic_rate_ci95"),
            "disparity_ratio": h.get("disparity_ratio"),
            "disparity_ci95": h.get("disparity_ci95"),
            "flagged": bool(h.get("flagged")),
            "insufficient": row["insufficient"],
        }
    report: dict[str, Any] = {
        "version": REPORT_VERSION,
        "dataset": name or ", ".join(dataset.files[:3]),
        "documents": tally.documents,
        "languages": sections["composition"]["languages"]["shares"],
        "toxicity_threshold": options.toxicity_threshold,
        "groups": groups,
        "sources": {k.replace("__audit_", ""): v for k, v in plan.sources.items()},
        "sample": {
            "requested": options.sample,
            "seed": options.seed,
            "rows_seen": result.rows_seen,
            "sampled": result.sampled,
        },
        "options": options.model_dump(mode="json"),
        "multiplicity": multiplicity,
        "sections": sections,
    }
    if "filter_impact" in sections:
        report["filter_impact"] = sections["filter_impact"]["groups"]
    return report
