"""The audit's top findings as plain sentences, for the Markdown report and the dataset card.

>>> harm = {"groups": {"sexual_orientation/gay": {"flagged": True, "disparity_ratio": 1.19,
...     "disparity_ci95": [1.17, 1.2], "toxic_rate": 0.977, "rest_toxic_rate": 0.82,
...     "complement_ratio": 0.128, "complement_ratio_ci95": [0.08, 0.2], "odds_ratio": 9.3,
...     "p_adjusted": 1e-20}}}
>>> print(harm_findings(harm)[0])  # doctest: +NORMALIZE_WHITESPACE
Documents mentioning sexual_orientation/gay are toxic at 97.7% vs 82.0% for others: 1.2x
(1.2 to 1.2) as likely to be toxic and 0.13x (0.08 to 0.20) as likely to be non-toxic
(Holm-adjusted p 1e-20).
"""

from __future__ import annotations

import math
from typing import Any

from curate.audit.mentions import dominant_term_findings

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


def _ci(ci: list[float | None] | None) -> str:
    if not ci or ci[0] is None or ci[1] is None:
        return "no interval"
    return f"{_times(ci[0])} to {_times(ci[1])}"


def _p(p: float) -> str:
    return f"{p:.2g}"


def harm_findings(harm: dict[str, Any] | None, *, what: str = "mentioning") -> list[str]:
    """One sentence per flagged group, the largest odds ratio (either way) first."""
    if not harm or not harm.get("groups"):
        return []
    flagged = [(g, r) for g, r in harm["groups"].items() if r.get("flagged")]
    flagged.sort(key=lambda gr: -_severity(gr[1].get("odds_ratio") or 1.0))
    out = []
    for group, row in flagged[:LIMIT]:
        out.append(
            f"Documents {what} {group} are toxic at {_pct(row['toxic_rate'])} vs "
            f"{_pct(row['rest_toxic_rate'])} for others: {_times(row['disparity_ratio'])}x "
            f"({_ci(row['disparity_ci95'])}) as likely to be toxic and "
            f"{_times(row['complement_ratio'])}x ({_ci(row['complement_ratio_ci95'])}) as "
            f"likely to be non-toxic (Holm-adjusted p {_p(row['p_adjusted'])})."
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


def impact_findings(impact: dict[str, Any] | None, *, what: str = "mentioning") -> list[str]:
    """Stages that removed a group's documents at a flagged rate, the lowest retention first."""
    if not impact:
        return []
    rows = []
    for stage, groups in impact["groups"].items():
        for group, row in groups.items():
            if row.get("flagged"):
                rows.append((stage, group, row))
    rows.sort(key=lambda r: r[2]["retention_ratio"] if r[2]["retention_ratio"] is not None else 1)
    return [
        f"Stage `{stage}` removed {_pct(row['removal_rate'])} of documents {what} {group} "
        f"against {_pct(1 - row['rest_retention_rate'])} of the others entering it: "
        f"it kept them at {_times(row['retention_ratio'])}x the rate of the others "
        f"({_ci(row['retention_ratio_ci95'])}; the four-fifths rule asks for at least 0.8; "
        f"Holm-adjusted p {_p(row['p_adjusted'])})."
        for stage, group, row in rows[:LIMIT]
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
    slurs = sections.get("slurs") or {}
    rep = sections.get("representation")
    pairs = (sections.get("intersections") or {}).get("pairs") or {}
    pair_harm = {name: r["harm"] for name, r in pairs.items() if "harm" in r}
    return [
        *harm_findings(sections.get("harm")),
        *harm_findings({"groups": pair_harm}, what="mentioning both"),
        *impact_findings(sections.get("filter_impact")),
        *dominant_term_findings(rep["groups"] if rep else {}),
        *harm_findings({"groups": slurs.get("harm")}, what="with a slur for"),
        *impact_findings(
            {"groups": slurs["filter_impact"]} if slurs.get("filter_impact") else None,
            what="with a slur for",
        ),
        *representation_findings(rep, min_documents),
        *composition_findings(sections.get("composition")),
    ]
