"""The report's layout: every chart (file name -> caption and PNG) and the list of blocks that
:mod:`curate.audit.render` turns into Markdown and HTML."""

from __future__ import annotations

from typing import Any

from curate.audit import plots
from curate.audit.formatting import Block
from curate.audit.harm import BAND
from curate.audit.layout_data import association_blocks, composition_blocks, representation_blocks
from curate.audit.layout_effects import (
    compare_blocks,
    harm_blocks,
    impact_blocks,
    probe_blocks,
    slur_blocks,
)
from curate.audit.layout_intersections import intersection_blocks
from curate.audit.layout_labels import label_blocks
from curate.audit.provenance import limitations

#: Charts of group pairs drawn at most (the JSON has every pair).
PAIR_CHARTS = 12


def charts(report: dict[str, Any]) -> dict[str, tuple[str, bytes]]:
    """Every chart of the report, by file name."""
    s = report["sections"]
    out: dict[str, tuple[str, bytes]] = {}
    comp = s.get("composition") or {}
    if comp.get("languages", {}).get("shares"):
        out["languages.png"] = (
            "Share of documents per language",
            plots.language_bars(comp["languages"]["shares"]),
        )
    if comp.get("length_histogram"):
        out["lengths.png"] = (
            "Words per document",
            plots.length_histogram(comp["length_histogram"]),
        )
    rep = s.get("representation")
    if rep and rep["groups"]:
        out["groups.png"] = (
            "Share of documents mentioning each group, 95% intervals",
            plots.group_shares(rep["groups"]),
        )
    harm = s.get("harm")
    if harm and harm.get("available", True):
        out["toxicity.png"] = (
            "Toxicity scores",
            plots.toxicity_histogram(harm["distribution"]["histogram"], harm["threshold"]),
        )
        if any(r.get("disparity_ratio") for r in harm["groups"].values()):
            out["disparity.png"] = (
                "Disparity ratios with 95% intervals (log scale)",
                plots.disparity_forest(harm["groups"], BAND),
            )
    impact = s.get("filter_impact")
    for stage, groups in (impact or {}).get("groups", {}).items():
        if any(r.get("ratio") is not None for r in groups.values()):
            out[f"impact-{plots.slug(stage)}.png"] = (
                f"Removal rate by group relative to the overall rate: {stage}",
                plots.filter_impact(stage, groups, BAND),
            )
    assoc = s.get("association") or {}
    for name, pair in list(assoc.get("pairs", {}).items())[:PAIR_CHARTS]:
        if pair["over"] or pair["under"]:
            out[f"words-{plots.slug(name)}.png"] = (
                f"Words typical of {pair['a']} vs {pair['b']}",
                plots.association_pair(name, pair),
            )
    return out


def blocks(report: dict[str, Any], files: set[str]) -> list[Block]:
    """The whole report; ``files`` are the chart files that exist."""
    s = report["sections"]
    sample = report["sample"]
    intro = f"{report['documents']:,} documents"
    if sample["sampled"]:
        intro += f" (a seeded sample, seed {sample['seed']}, of {sample['rows_seen']:,})"
    intro += f"; a document is toxic when its score is at least {report['toxicity_threshold']:g}."
    out: list[Block] = [
        ("h1", f"Bias audit: {report['dataset']}"),
        ("p", intro),
        ("ul", [f"{k}: {v}" for k, v in report["sources"].items()]),
        ("h2", "Findings"),
        ("ul", report["findings"] or ["Nothing flagged."]),
    ]
    out += composition_blocks(s["composition"], files)
    if "representation" in s:
        out += representation_blocks(s["representation"], files)
    if "association" in s:
        out += association_blocks(s["association"], files)
    if "harm" in s:
        out += harm_blocks(s["harm"], files)
    if "intersections" in s:
        out += intersection_blocks(s["intersections"])
    if "filter_impact" in s:
        out += impact_blocks(s["filter_impact"], files)
    if "slurs" in s:
        out += slur_blocks(s["slurs"])
    if "labels" in s:
        out += label_blocks(s["labels"])
    if "probe" in s:
        out += probe_blocks(s["probe"])
    if "compare" in s:
        out += compare_blocks(s["compare"])
    if "provenance" in report:
        out += [("h2", "Limitations and provenance"), ("ul", limitations(report))]
    return numbered(out)


def numbered(blocks: list[Block]) -> list[Block]:
    """Section headings numbered in the order they appear, Findings left out: a report
    computes only some sections, and fixed numbers would leave gaps ("1, 2, 4") that read as
    a missing section. The HTML contents list these headings as they are, unnumbered itself.

    >>> numbered([("h2", "Findings"), ("h2", "Harm"), ("h3", "x"), ("h2", "Labels")])
    [('h2', 'Findings'), ('h2', '1. Harm'), ('h3', 'x'), ('h2', '2. Labels')]
    """
    out: list[Block] = []
    n = 0
    for block in blocks:
        if block[0] == "h2" and block[1] != "Findings":
            n += 1
            block = ("h2", f"{n}. {block[1]}")
        out.append(block)
    return out
