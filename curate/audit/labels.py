"""Human labels: per-class rates by group and, with a model score, the scorer's errors by group.

``--label-column COL`` names a column of labels; ``--label-map`` names its classes
(``0=hate,1=offensive,2=neither``) and ``--label-ignore`` the values that mean "no label"
(``-1``). Each group gets its documents per class with Wilson intervals and the ratio to the
rest. When the documents also have a toxicity score, the classes in ``label_positive`` (by
default those named toxic, hate, hateful, offensive or abusive, or ``1`` / ``true``) are the
positives, and per group: false-positive rate (score at or above the threshold among negatives)
and false-negative rate, with their differences from the rest (equalised-odds gaps, Newcombe
intervals), and calibration (mean score against the positive rate, expected calibration error
over ten score bins).

>>> codes = label_codes(pa.array(["0", "2", "-1", None]), {"0": "hate", "2": "neither"},
...                     ["-1"], column="class")
>>> codes.tolist()
[0, 1, -1, -1]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.audit.effects import compare_rates, risk_difference
from curate.audit.stats import wilson
from curate.audit.tally import IDENTITIES, TOXICITY, group_codes
from curate.errors import DataError

LABEL = "__audit_label"
POSITIVE_NAMES = frozenset({"toxic", "hate", "hateful", "offensive", "abusive", "1", "true"})
CAL_BINS = 10

METHOD = (
    "Labels from the `{column}` column. Documents where it is null{ignored} are unlabelled "
    "(ignored): they belong to no class and count in no rate below. Per group and class: "
    "documents, rate among the group's labelled documents with a Wilson 95% interval, and the "
    "ratio to the rest's rate (MOVER-Wilson interval). With toxicity scores, the classes "
    "{positive} are positives: FPR = predicted toxic (score at least {threshold:g}) among "
    "negatives, "
    "FNR = predicted non-toxic among positives, Wilson intervals; gaps are the group's rate "
    "minus the rest's with Newcombe intervals (equalised odds asks for both to be 0). "
    "Calibration: mean score against the positive rate, and the expected calibration error "
    "over {bins} equal-width score bins. These rows are descriptive and are not flagged."
)


def parse_label_map(text: str) -> dict[str, str]:
    """``"0=hate,1=offensive"`` -> ``{"0": "hate", "1": "offensive"}``."""
    out: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        value, sep, name = part.partition("=")
        if not sep or not value.strip() or not name.strip():
            raise DataError(
                f"--label-map: {part!r} is not VALUE=CLASS",
                hint="write e.g. 0=hate,1=offensive,2=neither",
            )
        out[value.strip()] = name.strip()
    return out


def label_codes(
    values: pa.Array | pa.ChunkedArray,
    mapping: Mapping[str, str],
    ignore: Sequence[str],
    *,
    column: str,
) -> np.ndarray:
    """Class index (in ``mapping``'s class order) per document; -1 for null or ignored."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    text = pc.utf8_trim_whitespace(values.cast(pa.string()))
    classes = list(dict.fromkeys(mapping.values()))
    encoded = pc.dictionary_encode(text)
    lookup = []
    for raw in encoded.dictionary.to_pylist():
        if raw in ignore:
            lookup.append(-1)
        elif raw in mapping:
            lookup.append(classes.index(mapping[raw]))
        else:
            known = ", ".join(sorted(mapping)) or "none"
            raise DataError(
                f"label column {column!r}: value {raw!r} is neither in --label-map ({known}) "
                "nor ignored",
                hint=f"add it, e.g. --label-map '{raw}=CLASS', or --label-ignore '{raw}'",
            )
    table = np.asarray([*lookup, -1], dtype=np.int64)
    idx = encoded.indices.fill_null(len(lookup)).to_numpy(zero_copy_only=False)
    return np.asarray(table[idx.astype(np.int64)], dtype=np.int64)


class LabelTally:
    """Counts per (group, class) and, with scores, per (group, class, predicted, score bin)."""

    def __init__(self, classes: list[str], positive: list[str], threshold: float) -> None:
        self.classes = classes
        self.positive = np.isin(np.asarray(classes, dtype=object), positive)
        self.threshold = threshold
        k = len(classes)
        self.overall = np.zeros(k, np.int64)
        self.unlabelled = 0
        #: [class, predicted, bin] counts and score sums, overall and per group.
        self.cells = np.zeros((k, 2, CAL_BINS), np.int64)
        self.score_sum = np.zeros((k, 2, CAL_BINS))
        self.groups: dict[str, np.ndarray] = {}
        self.group_cells: dict[str, np.ndarray] = {}
        self.group_sums: dict[str, np.ndarray] = {}
        self.scored = False

    def update(self, batch: pa.RecordBatch) -> None:
        codes = batch.column(LABEL).to_numpy(zero_copy_only=False).astype(np.int64)
        k = len(self.classes)
        labelled = codes >= 0
        self.unlabelled += int((~labelled).sum())
        self.overall += np.bincount(codes[labelled], minlength=k)
        names = batch.schema.names
        cell = None
        if TOXICITY in names:
            scores = pc.fill_null(batch.column(TOXICITY).cast(pa.float64()), np.nan)
            s = scores.to_numpy(zero_copy_only=False)
            ok = labelled & ~np.isnan(s)
            self.scored = self.scored or bool(ok.any())
            bins = np.minimum((np.nan_to_num(s) * CAL_BINS).astype(np.int64), CAL_BINS - 1)
            cell = np.where(ok, (codes * 2 + (s >= self.threshold)) * CAL_BINS + bins, -1)
            size = k * 2 * CAL_BINS
            self.cells += np.bincount(cell[ok], minlength=size).reshape(k, 2, CAL_BINS)
            self.score_sum += np.bincount(cell[ok], s[ok], minlength=size).reshape(k, 2, CAL_BINS)
        if IDENTITIES not in names:
            return
        gc = group_codes(batch.column(IDENTITIES))
        keep = labelled[gc.doc]
        doc, code = gc.doc[keep], gc.code[keep]
        for i, name in enumerate(gc.names):
            rows = doc[code == i]
            if not rows.size:
                continue
            per = self.groups.setdefault(name, np.zeros(k, np.int64))
            per += np.bincount(codes[rows], minlength=k)
            if cell is not None:
                c = cell[rows]
                c = c[c >= 0]
                size = k * 2 * CAL_BINS
                got = np.bincount(c, minlength=size).reshape(k, 2, CAL_BINS)
                sums = np.bincount(c, s[rows][cell[rows] >= 0], minlength=size)
                self.group_cells[name] = self.group_cells.get(name, 0) + got
                self.group_sums[name] = self.group_sums.get(name, 0) + sums.reshape(k, 2, CAL_BINS)


def _errors(cells: np.ndarray, sums: np.ndarray, positive: np.ndarray) -> dict[str, Any]:
    """Confusion counts, error rates and calibration from [class, predicted, bin] counts."""
    pos, neg = cells[positive].sum(axis=(0, 2)), cells[~positive].sum(axis=(0, 2))
    fp, negatives = int(neg[1]), int(neg.sum())
    fn, positives = int(pos[0]), int(pos.sum())
    per_bin = cells.sum(axis=(0, 1))
    pos_bin = cells[positive].sum(axis=(0, 1))
    score_bin = sums.sum(axis=(0, 1))
    n = int(per_bin.sum())
    ece = None
    if n:
        used = per_bin > 0
        gap = np.abs(score_bin[used] / per_bin[used] - pos_bin[used] / per_bin[used])
        ece = float((per_bin[used] / n * gap).sum())
    return {
        "negatives": negatives,
        "false_positives": fp,
        "positives": positives,
        "false_negatives": fn,
        "fpr": fp / negatives if negatives else None,
        "fpr_ci95": list(wilson(fp, negatives)) if negatives else None,
        "fnr": fn / positives if positives else None,
        "fnr_ci95": list(wilson(fn, positives)) if positives else None,
        "mean_score": float(score_bin.sum() / n) if n else None,
        "positive_rate": positives / n if n else None,
        "positive_rate_ci95": list(wilson(positives, n)) if n else None,
        "ece": ece,
    }


def _gap(g: dict[str, Any], rest: dict[str, Any], rate: str, events: str, n: str) -> Any:
    if not g[n] or not rest[n]:
        return None, None
    d, lo, hi = risk_difference(g[events], g[n], rest[events], rest[n])
    return d, [lo, hi]


def label_section(
    tally: LabelTally, *, column: str, ignored: Sequence[str], min_documents: int
) -> dict[str, Any]:
    """The labels section of ``audit.json``."""
    total = int(tally.overall.sum())
    classes = tally.classes
    out_groups: dict[str, Any] = {}
    for name, counts in sorted(tally.groups.items()):
        n = int(counts.sum())
        row: dict[str, Any] = {"labelled": n, "insufficient": n < min_documents or total - n < 1}
        if not row["insufficient"]:
            row["classes"] = {}
            for i, cls in enumerate(classes):
                cmp = compare_rates(int(counts[i]), n, int(tally.overall[i] - counts[i]), total - n)
                row["classes"][cls] = {
                    "documents": int(counts[i]),
                    "rate": cmp["rate"],
                    "rate_ci95": cmp["rate_ci95"],
                    "rest_rate": cmp["rest_rate"],
                    "rate_ratio": cmp["rate_ratio"],
                    "rate_ratio_ci95": cmp["rate_ratio_ci95"],
                }
            if tally.scored and name in tally.group_cells:
                cells, sums = tally.group_cells[name], tally.group_sums[name]
                g = _errors(cells, sums, tally.positive)
                rest = _errors(tally.cells - cells, tally.score_sum - sums, tally.positive)
                g["fpr_gap"], g["fpr_gap_ci95"] = _gap(
                    g, rest, "fpr", "false_positives", "negatives"
                )
                g["fnr_gap"], g["fnr_gap_ci95"] = _gap(
                    g, rest, "fnr", "false_negatives", "positives"
                )
                gaps = [abs(x) for x in (g["fpr_gap"], g["fnr_gap"]) if x is not None]
                g["equalized_odds_gap"] = max(gaps) if gaps else None
                row["errors"] = g
        out_groups[name] = row
    positive = [c for c, p in zip(classes, tally.positive.tolist()) if p]
    return {
        "method": METHOD.format(
            column=column,
            ignored="".join(f" or {v}" for v in ignored),
            positive=", ".join(positive) or "(none)",
            threshold=tally.threshold,
            bins=CAL_BINS,
        ),
        "column": column,
        "classes": classes,
        "positive": positive,
        "labelled": total,
        "unlabelled": tally.unlabelled,
        "ignored": list(ignored),
        "overall": {c: int(tally.overall[i]) for i, c in enumerate(classes)},
        "errors": _errors(tally.cells, tally.score_sum, tally.positive) if tally.scored else None,
        "groups": out_groups,
    }


def label_setup(
    *,
    column: str | None,
    mapping: dict[str, str] | None,
    ignore: Sequence[str],
    positive: Sequence[str] | None,
    threshold: float,
    values: Any,
) -> tuple[tuple[str, dict[str, str], list[str]] | None, LabelTally | None]:
    """The column plan's label spec and an empty tally; ``values()`` reads the label column
    (only called when no map is given: each distinct value becomes its own class)."""
    if column is None:
        return None, None
    if mapping is None:
        seen: set[str] = set()
        for chunk in values():
            text = pc.utf8_trim_whitespace(chunk.cast(pa.string()))
            seen.update(v for v in pc.unique(text).to_pylist() if v is not None)
        mapping = {v: v for v in sorted(seen - set(ignore))}
    classes = list(dict.fromkeys(mapping.values()))
    chosen = (
        list(positive)
        if positive is not None
        else [c for c in classes if c.lower() in POSITIVE_NAMES]
    )
    unknown = sorted(set(chosen) - set(classes))
    if unknown:
        raise DataError(
            f"--label-positive {unknown[0]!r} is not a class of --label-map ({', '.join(classes)})",
            hint="name classes as they appear on the right of --label-map",
        )
    return (column, mapping, list(ignore)), LabelTally(classes, chosen, threshold)
