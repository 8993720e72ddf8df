"""Report blocks of the labels section: class rates by group, the scorer's errors by group."""

from __future__ import annotations

from typing import Any

from curate.audit.formatting import MAX_ROWS, Block, fmt_ci, fmt_n, fmt_pct, fmt_ratio


def _rate(x: float | None, ci: list[float] | None) -> str:
    return f"{fmt_pct(x)} ({fmt_ci(ci, pct=True)})"


def label_blocks(labels: dict[str, Any]) -> list[Block]:
    classes = labels["classes"]
    out: list[Block] = [
        ("h2", "Labels"),
        ("p", labels["method"]),
        (
            "p",
            f"{fmt_n(labels['labelled'])} labelled documents ("
            + ", ".join(f"{c} {fmt_n(n)}" for c, n in labels["overall"].items())
            + f"); {fmt_n(labels['unlabelled'])} unlabelled or ignored ("
            + " or ".join(["null", *labels.get("ignored", [])])
            + "), in no class.",
        ),
    ]
    ok = [(g, r) for g, r in labels["groups"].items() if not r["insufficient"]]
    rows = [
        [g, fmt_n(r["labelled"])]
        + [
            f"{_rate(r['classes'][c]['rate'], r['classes'][c]['rate_ci95'])}; "
            f"{fmt_ratio(r['classes'][c]['rate_ratio'])}x the rest"
            for c in classes
        ]
        for g, r in ok
    ]
    out.append(("table", ["group", "labelled", *classes], rows[:MAX_ROWS]))
    thin = [f"{g} ({r['labelled']})" for g, r in labels["groups"].items() if r["insufficient"]]
    if thin:
        out.append(("fold", f"{len(thin)} groups with too few labelled documents", ", ".join(thin)))
    if labels.get("errors"):
        e = labels["errors"]
        out.append(("h3", "The scorer against the labels"))
        out.append(
            (
                "p",
                f"Overall: FPR {_rate(e['fpr'], e['fpr_ci95'])}, FNR "
                f"{_rate(e['fnr'], e['fnr_ci95'])}, mean score {fmt_ratio(e['mean_score'])} "
                f"against a positive rate of {fmt_pct(e['positive_rate'])}, expected "
                f"calibration error {fmt_ratio(e['ece'])}.",
            )
        )
        err_rows = [
            [
                g,
                _rate(r["errors"]["fpr"], r["errors"]["fpr_ci95"]),
                _gap(r["errors"], "fpr"),
                _rate(r["errors"]["fnr"], r["errors"]["fnr_ci95"]),
                _gap(r["errors"], "fnr"),
                _calibration(r["errors"]),
                fmt_ratio(r["errors"]["ece"]),
            ]
            for g, r in ok
            if r.get("errors")
        ]
        headers = ["group", "FPR", "FPR gap", "FNR", "FNR gap", "mean score vs positives", "ECE"]
        out.append(("table", headers, err_rows[:MAX_ROWS]))
    return out


def _gap(errors: dict[str, Any], name: str) -> str:
    gap = errors.get(f"{name}_gap")
    if gap is None:
        return "–"
    return f"{100 * gap:+.1f} pt ({fmt_ci(errors[f'{name}_gap_ci95'], pct=True)})"


def _calibration(errors: dict[str, Any]) -> str:
    return f"{fmt_ratio(errors['mean_score'])} vs {fmt_pct(errors['positive_rate'])}"
