"""The report's charts, drawn with Matplotlib's Agg canvas into PNG bytes.

Figures are built without ``pyplot``, so drawing never touches global Matplotlib state or needs
a display.

>>> png = language_bars({"en": 0.75, "fr": 0.25})
>>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
"""

from __future__ import annotations

import io
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FormatStrFormatter, NullFormatter

#: Most bars a chart shows; the rest are in the tables.
MAX_BARS = 30
_LOG_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 0.8, 1.0, 1.25, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)
_BLUE, _RED, _GREY = "#3b6ea5", "#c0392b", "#7f8c8d"


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


def _figure(rows: int, *, width: float = 8.0) -> Figure:
    return Figure(figsize=(width, max(2.2, 0.6 + 0.28 * rows)))


def language_bars(shares: dict[str, float]) -> bytes:
    """Horizontal bars: share of documents per language, largest on top."""
    items = list(shares.items())[:MAX_BARS]
    fig = _figure(len(items))
    ax = fig.add_subplot()
    labels = [k for k, _ in items][::-1]
    values = [100 * v for _, v in items][::-1]
    ax.barh(labels, values, color=_BLUE)
    for y, v in enumerate(values):
        ax.text(v, y, f" {v:.1f}%", va="center", fontsize=8)
    ax.set_xlabel("share of documents (%)")
    ax.set_title("Languages")
    ax.set_xlim(0, max([*values, 1.0]) * 1.15)
    return _png(fig)


def length_histogram(histogram: list[dict[str, int]]) -> bytes:
    """Documents per length bin (powers of two of words)."""
    fig = _figure(8, width=8.0)
    ax = fig.add_subplot()
    labels = [
        f"{h['min_words']}-{h['max_words']}"
        if h["max_words"] > h["min_words"]
        else str(h["min_words"])
        for h in histogram
    ]
    ax.bar(range(len(histogram)), [h["documents"] for h in histogram], color=_BLUE)
    ax.set_xticks(range(len(histogram)), labels, rotation=45, ha="right", fontsize=8)
    ax.set_xlabel("words per document")
    ax.set_ylabel("documents")
    ax.set_title("Document length")
    return _png(fig)


def toxicity_histogram(histogram: list[dict[str, float]], threshold: float) -> bytes:
    """Documents per toxicity score bin, with the threshold marked."""
    fig = _figure(8)
    ax = fig.add_subplot()
    width = histogram[0]["max"] - histogram[0]["min"] if histogram else 0.05
    ax.bar(
        [h["min"] for h in histogram],
        [h["documents"] for h in histogram],
        width=width,
        align="edge",
        color=_BLUE,
    )
    ax.axvline(threshold, color=_RED, linestyle="--", label=f"threshold {threshold:g}")
    ax.set_yscale("symlog")
    ax.set_xlabel("toxicity score")
    ax.set_ylabel("documents (symlog)")
    ax.set_title("Toxicity distribution")
    ax.legend(fontsize=8)
    return _png(fig)


def group_shares(groups: dict[str, Any]) -> bytes:
    """Share of documents mentioning each group, with 95% Wilson intervals."""
    items = sorted(groups.items(), key=lambda kv: -kv[1]["documents"])[:MAX_BARS][::-1]
    fig = _figure(len(items))
    ax = fig.add_subplot()
    shares = [100 * r["share"] for _, r in items]
    lo = [max(0.0, 100 * (r["share"] - r["ci95"][0])) for _, r in items]
    hi = [max(0.0, 100 * (r["ci95"][1] - r["share"])) for _, r in items]
    colors = [_GREY if r["insufficient"] else _BLUE for _, r in items]
    ax.barh([g for g, _ in items], shares, xerr=[lo, hi], color=colors, capsize=2)
    ax.set_xlabel("documents mentioning the group (%), 95% interval; grey: insufficient")
    ax.set_title("Representation")
    ax.tick_params(axis="y", labelsize=8)
    return _png(fig)


def disparity_forest(groups: dict[str, Any], band: tuple[float, float]) -> bytes:
    """Forest plot of disparity ratios with 95% intervals, log scale, the band shaded."""
    items = [(g, r) for g, r in groups.items() if r.get("disparity_ratio")]
    items.sort(key=lambda gr: gr[1]["disparity_ratio"])
    items = items[-MAX_BARS:]
    fig = _figure(len(items))
    ax = fig.add_subplot()
    ax.axvspan(band[0], band[1], color="#ecf0f1", label=f"[{band[0]}, {band[1]}]")
    ax.axvline(1.0, color=_GREY, linewidth=1)
    for y, (_, r) in enumerate(items):
        color = _RED if r["flagged"] else _BLUE
        lo, hi = r["disparity_ci95"] or [r["disparity_ratio"]] * 2
        ax.plot([lo, hi], [y, y], color=color, linewidth=1.5)
        ax.plot([r["disparity_ratio"]], [y], "o", color=color)
    ax.set_yticks(range(len(items)), [g for g, _ in items], fontsize=8)
    ax.set_xscale("log")
    lo_x, hi_x = ax.get_xlim()
    ticks = [t for t in _LOG_TICKS if lo_x <= t <= hi_x]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("P(toxic | group) / P(toxic | others), 95% interval (log scale); red: flagged")
    ax.set_title("Toxicity disparity")
    ax.legend(fontsize=8, loc="lower right")
    return _png(fig)


def filter_impact(stage: str, groups: dict[str, Any], band: tuple[float, float]) -> bytes:
    """One stage: each group's removal rate relative to the stage's overall rate."""
    items = [(g, r) for g, r in groups.items() if r.get("ratio") is not None]
    items.sort(key=lambda gr: gr[1]["ratio"])
    items = items[-MAX_BARS:]
    fig = _figure(len(items))
    ax = fig.add_subplot()
    colors = [_RED if r["flagged"] else _BLUE for _, r in items]
    ax.barh([g for g, _ in items], [r["ratio"] for _, r in items], color=colors)
    ax.axvline(1.0, color=_GREY, linewidth=1)
    for edge in band:
        ax.axvline(edge, color=_GREY, linestyle=":", linewidth=1)
    ax.set_xlabel("group removal rate / overall removal rate; red: flagged")
    ax.set_title(f"Filter impact: {stage}")
    ax.tick_params(axis="y", labelsize=8)
    return _png(fig)


def association_pair(name: str, pair: dict[str, Any]) -> bytes:
    """Diverging bars: words typical of one group (right) and of the other (left), by z."""
    right = pair["over"][:10]
    left = pair["under"][:10]
    rows = [(w["word"], w["score"]) for w in left[::-1]] + [(w["word"], w["score"]) for w in right]
    rows.sort(key=lambda r: r[1])
    fig = _figure(len(rows))
    ax = fig.add_subplot()
    ax.barh(
        [w for w, _ in rows],
        [z for _, z in rows],
        color=[_BLUE if z > 0 else _RED for _, z in rows],
    )
    ax.axvline(0.0, color=_GREY, linewidth=1)
    ax.set_xlabel(f"log-odds z: right = more typical of {pair['a']}, left = of {pair['b']}")
    ax.set_title(f"Words: {name}")
    ax.tick_params(axis="y", labelsize=8)
    if rows:
        ax.set_xlim(-1.1 * max(abs(z) for _, z in rows), 1.1 * max(abs(z) for _, z in rows))
    return _png(fig)


def slug(text: str) -> str:
    """A file-name-safe version of a chart's subject."""
    out = "".join(c if c.isalnum() else "-" for c in text.lower())
    return "-".join(p for p in out.split("-") if p)[:80] or "x"
