"""Card sections about what is in the data: languages, duplicates, scores, bias and limitations."""

from __future__ import annotations

from collections import Counter
from typing import Any

from curate.card import stats, vocab
from curate.card.facts import DatasetFacts
from curate.card.markdown import cell, code_span, percent, table, text
from curate.card.metadata import MIN_LANGUAGE_SHARE

#: Other ``lang`` values named below the languages table; the rest are counted.
MAX_OTHER = 20


def languages(facts: DatasetFacts, counts: Counter[str], listed: list[str]) -> str:
    """Documents per language of the card's ``language:`` list (``listed``); every other value
    of ``lang`` (rare, undetermined, or a code the Hub does not know) is summed up below."""
    if not counts:
        return (
            "## Languages\n\nThe dataset has no `lang` column; add the `score.language` stage "
            "to the recipe to measure its languages."
        )
    total = sum(counts.values())
    names = vocab.language_names()
    rows = [
        (
            code_span(lang),
            text(names.get(lang, "unknown code")),
            counts[lang],
            percent(counts[lang], total),
        )
        for lang in sorted(listed, key=lambda code: (-counts[code], code))
    ]
    source = "the `lang` column" if "lang" in facts.schema.names else "the audit"
    parts = ["## Languages", f"Documents per language, from {source}:"]
    parts.append(table(["code", "language", "documents", "share"], rows))
    rest = [(lang, n) for lang, n in counts.most_common() if lang not in set(listed)]
    if rest:
        shown = ", ".join(f"{code_span(lang)} ({cell(n)})" for lang, n in rest[:MAX_OTHER])
        more = f" and {len(rest) - MAX_OTHER} more" if len(rest) > MAX_OTHER else ""
        left = sum(n for _lang, n in rest)
        noun, verb = ("document", "has") if left == 1 else ("documents", "have")
        parts.append(
            f"The other {cell(left)} {noun} ({percent(left, total)}) {verb} a `lang` value "
            "that is not in the card's `language:` list, which holds the Hub's language codes "
            f"found in at least {percent(MIN_LANGUAGE_SHARE, 1)} of documents unless the author "
            f"set it: {shown}{more}."
        )
    return "\n\n".join(parts)


def duplicates(facts: DatasetFacts) -> str:
    dedup = [s for s in facts.stages if str(s.get("use", "")).startswith("dedup.")]
    clusters = stats.duplicate_clusters(facts)
    if not dedup and not clusters:
        return (
            "## Duplicates\n\nThe recipe ran no deduplication stage; the dataset may contain "
            "duplicates."
        )
    parts = ["## Duplicates"]
    if dedup:
        rows = [
            (
                code_span(s.get("label") or s.get("use")),
                s.get("rows_in"),
                s.get("removed"),
                percent(float(s.get("removed") or 0), float(s.get("rows_in") or 0)),
            )
            for s in dedup
        ]
        parts.append(table(["stage", "rows in", "removed", "share removed"], rows))
    if clusters:
        parts.append(
            f"{cell(clusters['rows_in_clusters'])} kept documents belong to a near-duplicate "
            "cluster of more than one document; the largest cluster had "
            f"{cell(clusters['largest_cluster'])} documents."
        )
    return "\n\n".join(parts)


def _distribution_rows(dist: stats.Distribution) -> tuple[object, ...]:
    q = dist.quantiles
    return (
        code_span(dist.column),
        dist.count,
        dist.missing,
        dist.mean,
        q.get("p10"),
        q.get("p50"),
        q.get("p90"),
        q.get("p99"),
    )


def scores(facts: DatasetFacts, audit_threshold: float | None) -> str:
    tox = stats.distribution(facts, "toxicity")
    quality = [d for d in (stats.distribution(facts, c) for c in stats.quality_columns(facts)) if d]
    if tox is None and not quality:
        return ""
    parts = ["## Toxicity and Quality"]
    head = ["column", "documents", "missing", "mean", "p10", "median", "p90", "p99"]
    if tox is not None:
        parts.append("Toxicity scores (machine-generated, in [0, 1], higher is more toxic):")
        parts.append(table(head, [_distribution_rows(tox)]))
        if tox.histogram:
            parts.append(
                table(
                    ["score", "documents", "share"],
                    [
                        (f"{lo:.1f}-{hi:.1f}", n, percent(n, tox.count))
                        for lo, hi, n in tox.histogram
                    ],
                )
            )
        if audit_threshold is not None and tox.histogram:
            above = sum(n for lo, _hi, n in tox.histogram if lo >= audit_threshold)
            parts.append(
                f"About {percent(above, tox.count)} of scored documents are at or above the "
                f"audit's toxicity threshold of {audit_threshold:g}."
            )
    if quality:
        parts.append("Quality signals:")
        parts.append(table(head, [_distribution_rows(d) for d in quality]))
    return "\n\n".join(parts)


def impact_sentences(impact: Any) -> list[str]:
    """Sentences for the groups the audit flagged as removed disproportionately by a stage.

    ``impact`` is the audit's ``filter_impact``: stage -> group -> {ratio, flagged, ...}.

    >>> impact_sentences({"toxic": {"religion/muslim": {"ratio": 2.5, "flagged": True}}})[0][:60]
    'Stage `toxic` removed documents mentioning `religion/muslim`'

    """
    out: list[str] = []
    if not isinstance(impact, dict):
        return out
    for stage, groups in impact.items():
        if not isinstance(groups, dict):
            continue
        for group, row in groups.items():
            if not isinstance(row, dict) or not row.get("flagged"):
                continue
            ratio = row.get("ratio")
            if isinstance(ratio, (int, float)):
                out.append(
                    f"Stage {code_span(stage)} removed documents mentioning {code_span(group)} "
                    f"at {ratio:.1f} times its overall removal rate."
                )
    return out


def audit_findings(audit: dict[str, Any]) -> list[str]:
    """The audit's findings as sentences; derived from ``filter_impact`` only for an audit
    report that has no ``findings`` of its own (its findings already cover filter impact)."""
    findings = audit.get("findings")
    if isinstance(findings, list):
        return [str(f) for f in findings if str(f).strip()]
    return impact_sentences(audit.get("filter_impact"))


def bias(facts: DatasetFacts) -> str:
    parts = ["## Bias, Risks, and Limitations"]
    audit = facts.audit
    if audit:
        findings = audit_findings(audit)
        if findings:
            parts.append("The bias audit (`curate/audit/`) found:")
            parts.append("\n".join(f"- {text(f)}" for f in findings))
        else:
            parts.append(
                "The bias audit (`curate/audit/`) found no disparity above its thresholds."
            )
    else:
        parts.append(
            "This dataset was not audited. Add `audit: {}` to the recipe or run "
            "`curate audit DATASET` to measure identity-group representation and toxicity "
            "disparities."
        )
    limits = [
        "Every score and label here (language, toxicity, quality, identity mentions) is the "
        "output of an automatic model or lexicon, not a human judgement, and carries that "
        "method's errors; they are least reliable on short texts, dialects and languages the "
        "models saw little of.",
        "Filtering on such scores removes text unevenly across dialects, topics and groups; the "
        "removal ledger in `curate/removed/` keeps every removed document so this can be checked.",
    ]
    if "identities" in facts.schema.names:
        limits.append(
            "Identity mentions come from word lists: they miss indirect references and count "
            "mentions regardless of whether the text is about the group."
        )
    parts += ["### Limitations", "\n".join(f"- {line}" for line in limits)]
    parts += [
        "### Recommendations",
        "Read the audit and the removal ledger before training, evaluate models trained on this "
        "data for the groups and languages listed above, and do not treat the scores as ground "
        "truth.",
    ]
    return "\n\n".join(parts)
