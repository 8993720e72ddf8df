"""Report blocks of the intersections section: one compact row per pair of groups."""

from __future__ import annotations

from typing import Any

from curate.audit.formatting import Block, fmt_ci, fmt_n, fmt_pct, fmt_ratio


def _with_ci(x: float | None, ci: list[float] | None, *, pct: bool = False) -> str:
    f = fmt_pct if pct else fmt_ratio
    return f"{f(x)} ({fmt_ci(ci, pct=pct)})"


def intersection_blocks(section: dict[str, Any]) -> list[Block]:
    out: list[Block] = [("h2", "Intersections")]
    pairs = section["pairs"]
    if not pairs:
        reason = (
            "No document mentions groups of two different axes."
            if not section["pairs_counted"]
            else f"None of the {fmt_n(section['pairs_counted'])} pairs of groups mentioned "
            "together reaches the document threshold "
            f"({section['min_documents']} documents mentioning both)."
        )
        return [*out, ("p", reason)]
    out.append(("p", section["method"]))
    scored = any("harm" in r for r in pairs.values())
    headers = ["groups", "documents", "share (95% interval)"]
    if scored:
        headers += ["toxic rate (95%)", "ratio to rest (95%)", "Holm p", "note"]
    rows = []
    for name, r in pairs.items():
        row = [name, fmt_n(r["documents"]), _with_ci(r["share"], r["ci95"], pct=True)]
        h = r.get("harm")
        if h is not None and h["insufficient"]:
            row += ["–", "–", "–", "too few scored documents"]
        elif h is not None:
            p = h.get("p_adjusted")
            row += [
                _with_ci(h["toxic_rate"], h["toxic_rate_ci95"], pct=True),
                _with_ci(h["disparity_ratio"], h["disparity_ci95"]),
                "–" if p is None else f"{p:.2g}",
                "flagged" if h["flagged"] else "",
            ]
        rows.append(row)
    return [*out, ("table", headers, rows)]
