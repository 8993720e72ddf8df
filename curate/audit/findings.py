"""The audit's top findings as plain sentences, for the Markdown report and the dataset card.

>>> harm = {"groups": {"religion/muslim": {"flagged": True, "disparity_ratio": 3.1,
...          "disparity_ci95": [2.4, 4.0], "toxic_rate": 0.124, "rest_toxic_rate": 0.04}}}
>>> print(harm_findings(harm)[0])  # doctest: +NORMALIZE_WHITESPACE
Documents mentioning religion/muslim are 3.1x (2.4 to 4.0) as likely to be toxic as others
(12.4% vs 4.0%).
"""

from __future__ import annotations

import math
from typing import Any

#: Representation gaps worth a sentence: an axis whose largest group has this many times the
#: documents of its smallest, or pronouns this unbalanced.
GAP = 2.0
LIMIT = 8
#: Pronoun counts below this are too few for a sentence.
MIN_PRONOUNS = 30

LANGUAGE_NAMES = {
    "en": "English",
    "fr": "French",
    "es": "Spanish",
    "pt": "Portuguese",
    "it": "Italian",
    "sv": "Swedish",
    "de": "German",
    "nl": "Dutch",
    "zh": "Chinese",
    "und": "unidentified",
}


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _times(x: float) -> str:
    """A ratio with the precision a reader needs: 12, 3.1, 0.47."""
    return f"{x:.0f}" if x >= 10 else f"{x:.1f}" if x >= 1 else f"{x:.2f}"


def _severity(ratio: float) -> float:
    return abs(math.log(ratio)) if ratio > 0 else math.inf


def harm_findings(harm: dict[str, Any] | None) -> list[str]:
    """One sentence per flagged disparity ratio, strongest first."""
    if not harm:
        return []
    flagged = [(g, r) for g, r in harm["groups"].items() if r.get("flagged")]
    flagged.sort(key=lambda gr: -_severity(gr[1]["disparity_ratio"]))
    out = []
    for group, row in flagged[:LIMIT]:
        lo, hi = row["disparity_ci95"]
        out.append(
            f"Documents mentioning {group} are {_times(row['disparity_ratio'])}x "
            f"({_times(lo)} to {_times(hi)}) as likely to be toxic as others "
            f"({_pct(row['toxic_rate'])} vs {_pct(row['rest_toxic_rate'])})."
        )
    return out


def representation_findings(rep: dict[str, Any] | None, min_documents: int) -> list[str]:
    """Axes with large gaps between groups, unbalanced pronouns, insufficient groups."""
    if not rep:
        return []
    out = []
    for axis, row in rep["axes"].items():
        ratio = row.get("max_min_ratio")
        if ratio is not None and ratio >= GAP:
            big, small = row["max_group"], row["min_group"]
            docs = rep["groups"]
            out.append(
                f"In the {axis} axis, {big} is mentioned in {ratio:.1f}x as many documents as "
                f"{small} ({docs[big]['documents']:,} vs {docs[small]['documents']:,})."
            )
    for lang, row in (rep.get("pronouns") or {}).items():
        male, female = row["counts"]["male"], row["counts"]["female"]
        if min(male, female) == 0 or male + female < MIN_PRONOUNS:
            continue
        words = row["words"]
        more, less = ("male", "female") if male >= female else ("female", "male")
        ratio = max(male, female) / min(male, female)
        if ratio >= GAP:
            name = LANGUAGE_NAMES.get(lang, lang)
            out.append(
                f"{name} text uses {'/'.join(words[more])} {ratio:.1f}x as often as "
                f"{'/'.join(words[less])}."
            )
    thin = [g for g, r in rep["groups"].items() if r["insufficient"] and r["documents"] > 0]
    if thin:
        out.append(
            f"{len(thin)} group(s) are mentioned in fewer than {min_documents} documents and "
            "are reported as insufficient, without rates or ratios."
        )
    return out[:LIMIT]


def impact_findings(impact: dict[str, Any] | None) -> list[str]:
    """Stages that removed a group's documents at a flagged rate."""
    if not impact:
        return []
    rows = []
    for stage, groups in impact["groups"].items():
        overall = impact["stages"][stage]["removal_rate"]
        for group, row in groups.items():
            if row.get("flagged"):
                rows.append((stage, group, row, overall))
    rows.sort(key=lambda r: -_severity(r[2]["ratio"]))
    return [
        f"Stage `{stage}` removed {_pct(row['removal_rate'])} of documents mentioning {group} "
        f"against {_pct(overall)} overall ({_times(row['ratio'])}x)."
        for stage, group, row, overall in rows[:LIMIT]
    ]


def composition_findings(comp: dict[str, Any] | None) -> list[str]:
    if not comp or not comp["documents"]:
        return []
    langs = comp["languages"]
    if not langs["shares"]:
        return []
    top, share = next(iter(langs["shares"].items()))
    name = LANGUAGE_NAMES.get(top, top)
    return [
        f"{name} ({top}) makes up {_pct(share)} of documents; the effective number of languages "
        f"is {langs['effective_languages']:.2f}."
    ]


def findings(report: dict[str, Any], *, min_documents: int) -> list[str]:
    """All findings, most consequential first: harm, filter impact, representation, languages."""
    sections = report["sections"]
    return [
        *harm_findings(sections.get("harm")),
        *impact_findings(sections.get("filter_impact")),
        *representation_findings(sections.get("representation"), min_documents),
        *composition_findings(sections.get("composition")),
    ]
