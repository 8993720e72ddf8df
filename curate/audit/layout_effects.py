"""Report blocks of the sections about effects on groups: harm, filter impact, the scorer probe
and the comparison."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from curate.audit import plots
from curate.audit.formatting import MAX_ROWS, Block, fmt_ci, fmt_n, fmt_pct, fmt_ratio
from curate.audit.layout_data import terms


def harm_blocks(harm: dict[str, Any], files: set[str]) -> list[Block]:
    out: list[Block] = [("h2", "Harm")]
    if not harm.get("available", True):
        return [*out, ("p", f"No toxicity scores: {harm['reason']}.")]
    d = harm["distribution"]
    out += [
        ("p", harm["method"]),
        (
            "p",
            f"{fmt_n(d['scored'])} documents scored ({fmt_n(d['unscored'])} unscored); "
            f"{fmt_pct(d['toxic_share'])} toxic; mean score {fmt_ratio(d['mean'])}.",
        ),
    ]
    out += harm_table(harm["groups"])
    out += [
        ("img", f, c)
        for f, c in (
            ("toxicity.png", "Toxicity distribution"),
            ("disparity.png", "Disparity ratios"),
        )
        if f in files
    ]
    return out


HARM_HEADERS = [
    "group",
    "scored",
    "toxic rate (95% interval)",
    "ratio to rest (95%)",
    "non-toxic ratio (95%)",
    "odds ratio (95%)",
    "difference (95%)",
    "Holm p",
    "note",
]


def _with_ci(x: float | None, ci: list[float] | None, *, pct: bool = False) -> str:
    f = fmt_pct if pct else fmt_ratio
    return f"{f(x)} ({fmt_ci(ci, pct=pct)})"


def _p(row: dict[str, Any]) -> str:
    p = row.get("p_adjusted")
    return "–" if p is None else f"{p:.2g}"


def harm_table(groups: dict[str, Any]) -> list[Block]:
    """The harm rows with enough documents (largest odds ratio first), the rest folded."""
    ok = [(g, r) for g, r in groups.items() if not r["insufficient"]]
    ok.sort(key=lambda kv: -(kv[1].get("odds_ratio") or 0))
    rows = [
        [
            g,
            fmt_n(r["scored"]),
            _with_ci(r["toxic_rate"], r["toxic_rate_ci95"], pct=True),
            _with_ci(r["disparity_ratio"], r["disparity_ci95"]),
            _with_ci(r["complement_ratio"], r["complement_ratio_ci95"]),
            _with_ci(r["odds_ratio"], r["odds_ratio_ci95"]),
            _with_ci(r["risk_difference"], r["risk_difference_ci95"], pct=True),
            _p(r),
            "flagged" if r["flagged"] else "",
        ]
        for g, r in ok
    ]
    out: list[Block] = [("table", HARM_HEADERS, rows[:MAX_ROWS])]
    thin = [f"{g} ({r['scored']})" for g, r in groups.items() if r["insufficient"] and r["scored"]]
    if thin:
        out.append(("fold", f"{len(thin)} groups with too few scored documents", ", ".join(thin)))
    return out


IMPACT_HEADERS = [
    "group",
    "entering",
    "removed",
    "removal rate",
    "retention ratio to rest (95%)",
    "removal ratio to rest (95%)",
    "Holm p",
    "note",
]


def impact_table(groups: dict[str, Any]) -> list[Block]:
    """One stage's rows with enough documents, lowest retention ratio first."""
    ok = [(g, r) for g, r in groups.items() if r.get("retention_ratio") is not None]
    ok.sort(key=lambda kv: kv[1]["retention_ratio"])
    rows = [
        [
            g,
            fmt_n(r["entering"]),
            fmt_n(r["removed"]),
            fmt_pct(r["removal_rate"]),
            _with_ci(r["retention_ratio"], r["retention_ratio_ci95"]),
            _with_ci(r["removal_rate_ratio"], r["removal_rate_ratio_ci95"]),
            _p(r),
            "flagged" if r["flagged"] else "",
        ]
        for g, r in ok
    ]
    if not rows:
        return [("p", "No group had enough documents entering this stage for a ratio.")]
    return [("table", IMPACT_HEADERS, rows[:MAX_ROWS])]


def slur_blocks(slurs: dict[str, Any]) -> list[Block]:
    out: list[Block] = [("h2", "Slurs"), ("p", slurs["method"])]
    rows = [
        [g, fmt_n(r["documents"]), fmt_pct(r["share"]), fmt_ci(r["ci95"], pct=True), terms(r)]
        for g, r in sorted(slurs["prevalence"].items(), key=lambda kv: -kv[1]["documents"])
        if r["documents"]
    ]
    headers = ["group", "documents with a slur", "share", "95% interval", "slurs"]
    out.append(("table", headers, rows))
    if slurs.get("harm"):
        out += [("h3", "Toxicity of documents with slurs"), *harm_table(slurs["harm"])]
    for stage, groups in (slurs.get("filter_impact") or {}).items():
        out += [("h3", f"Filter impact of stage {stage} on documents with slurs")]
        out += impact_table(groups)
    return out


def impact_blocks(impact: dict[str, Any], files: set[str]) -> list[Block]:
    out: list[Block] = [
        ("h2", "Filter impact"),
        ("p", impact["method"]),
        (
            "p",
            f"{fmt_n(impact['documents_in'])} documents in, {fmt_n(impact['documents_out'])} kept.",
        ),
    ]
    out.append(
        (
            "table",
            ["stage", "entering", "removed", "removal rate"],
            [
                [s, fmt_n(r["entering"]), fmt_n(r["removed"]), fmt_pct(r["removal_rate"])]
                for s, r in impact["stages"].items()
            ],
        )
    )
    for stage, groups in impact["groups"].items():
        out.append(("h3", f"Stage {stage}"))
        out += impact_table(groups)
        f = f"impact-{plots.slug(stage)}.png"
        if f in files:
            out.append(("img", f, f"Filter impact: {stage}"))
    out.append(("h3", "Share of documents, input to output"))
    out.append(
        (
            "table",
            ["group", "input share", "output share", "change"],
            [
                [g, fmt_pct(r["share_in"]), fmt_pct(r["share_out"]), f"{100 * r['change']:+.2f} pt"]
                for g, r in sorted(impact["share_change"].items(), key=lambda kv: kv[1]["change"])
                if r["input_documents"]
            ][:MAX_ROWS],
        )
    )
    return out


def probe_blocks(probe: dict[str, Any]) -> list[Block]:
    o, pm = probe["overall"], probe["power_mean"]
    out: list[Block] = [
        ("h2", "Scorer probe"),
        ("p", probe["method"]),
        (
            "p",
            f"{fmt_n(probe['phrases'])} phrases from {probe['file']}, scored by {probe['scorer']}: "
            f"AUC {fmt_ratio(o['auc'])}, FPR {fmt_pct(o['fpr'])}, FNR {fmt_pct(o['fnr'])}; "
            f"power means: subgroup {fmt_ratio(pm['subgroup_auc'])}, BPSN "
            f"{fmt_ratio(pm['bpsn_auc'])}, BNSP {fmt_ratio(pm['bnsp_auc'])}, each over the "
            f"{len(probe['power_mean_terms']['bpsn_auc'])} terms with enough phrases.",
        ),
    ]
    if probe["phrases_without_term"]:
        out.append(
            (
                "fold",
                f"{fmt_n(probe['phrases_without_term'])} phrases contain no lexicon term and "
                "were not probed; for example",
                "; ".join(probe["unmatched_examples"]),
            )
        )
    rows = [
        [
            t,
            r["group"] or "",
            fmt_n(r["phrases"]),
            fmt_pct(r["fpr"]),
            fmt_pct(r["fnr"]),
            fmt_ratio(r["subgroup_auc"]),
            fmt_ratio(r["bpsn_auc"]),
            fmt_ratio(r["bnsp_auc"]),
        ]
        for t, r in sorted(probe["terms"].items(), key=lambda kv: kv[1]["bpsn_auc"] or 1.0)
    ]
    out.append(
        (
            "table",
            ["term", "group", "phrases", "FPR", "FNR", "subgroup AUC", "BPSN AUC", "BNSP AUC"],
            rows[:MAX_ROWS],
        )
    )
    return out


def _points(x: float) -> str:
    return f"{100 * x:+.1f}"


def compare_blocks(cmp: dict[str, Any]) -> list[Block]:
    """Differences of proportions in percentage points with their interval, others as numbers."""

    def row(label: str, pair: dict[str, Any], f: Callable[[Any], str]) -> list[str]:
        diff = pair["difference"]
        if diff is None:
            shown = "–"
        elif f is fmt_pct:
            ci = pair.get("difference_ci95")
            shown = f"{_points(diff)} pp"
            if ci:
                shown += f" ({_points(ci[0])} to {_points(ci[1])})"
        else:
            shown = f"{diff:+.4g}"
        return [label, f(pair["this"]), f(pair["other"]), shown]

    rows = [
        row("documents", cmp["documents"], fmt_n),
        row("toxic share", cmp["toxic_share"], fmt_pct),
        row("words per document", cmp["words_per_document"], fmt_n),
    ]
    rows += [row(f"language {k}", v, fmt_pct) for k, v in cmp["languages"].items()]
    for g, fields in cmp["groups"].items():
        rows += [
            row(f"{g} share", fields["share"], fmt_pct),
            row(f"{g} toxic rate", fields["toxic_rate"], fmt_pct),
            row(f"{g} disparity ratio", fields["disparity_ratio"], fmt_ratio),
        ]
    return [
        ("h2", "Compare"),
        ("p", f"{cmp['method']} Other: {cmp['other']}."),
        ("table", ["measure", "this", "other", "difference (95%)"], rows[: 3 * MAX_ROWS]),
    ]
