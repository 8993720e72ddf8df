"""Section 5, filter impact: which groups each removing stage took out more than others.

Documents entering stage ``k`` are the kept ones plus those removed at ``k`` or later, so for
each stage and group: ``removal_rate = removed(g) / entering(g)`` and ``ratio = removal_rate /
overall removal_rate`` of that stage. Removed rows usually lack ``identities`` (they left before
scoring), so the identity stage is run on their text with the same lexicons as the audit.
"""

from __future__ import annotations

import glob
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate import schema
from curate.audit.harm import BAND
from curate.audit.stats import wilson
from curate.audit.tally import IDENTITIES, ColumnTally, group_codes, parquet_batches
from curate.errors import DataError

log = logging.getLogger(__name__)

#: Ledger columns read when identities must be computed from the text (``lang`` helps the
#: identity stage match each lexicon in its own language).
LEDGER_TEXT = (schema.LEDGER_STAGE, schema.ID, schema.TEXT, "lang")

METHOD = (
    "Documents entering a stage = documents kept + documents removed at that stage or later. "
    "Per stage and group: removal_rate = removed / entering among documents mentioning the "
    "group, ratio = removal_rate / the stage's overall removal rate, with a Wilson 95% interval "
    "on the group's rate; flagged when the ratio is outside [0.8, 1.25] and the interval excludes "
    "the overall rate. Groups with fewer than {min_documents} entering documents get no ratio. "
    "Identities of removed documents: {identities}."
)


def ledger_paths(paths: Sequence[Path]) -> list[Path]:
    """Ledger Parquet files from files, folders (their ``*.parquet``) and globs."""
    found: list[Path] = []
    for path in paths:
        p = Path(path)
        if p.is_dir():
            found += sorted(p.glob("*.parquet"))
        elif p.exists():
            found.append(p)
        else:
            matches = sorted(Path(m) for m in glob.glob(str(p)))
            if not matches:
                raise DataError(
                    f"{p}: removal ledger not found",
                    hint="pass a ledger Parquet file, a folder of them, or a glob",
                )
            found += matches
    return found


class LedgerTally:
    """Removed documents per stage, overall and per group."""

    def __init__(self) -> None:
        self.removed: Counter[str] = Counter()
        self.by_group: dict[str, Counter[str]] = {}
        self.order: list[str] = []

    def update(self, stages: pa.Array, identities: pa.Array) -> None:
        labels = pc.fill_null(stages, "unknown").cast(pa.string())
        encoded = pc.dictionary_encode(labels)
        stage_names = [str(x) for x in encoded.dictionary.to_pylist()]
        stage_code = encoded.indices.to_numpy()
        for name, n in zip(stage_names, np.bincount(stage_code, minlength=len(stage_names))):
            if name not in self.removed:
                self.order.append(name)
            self.removed[name] += int(n)
        codes = group_codes(identities)
        if codes.doc.size == 0:
            return
        # One count per (stage, group): code pairs folded into one integer.
        size = len(codes.names)
        pair = stage_code[codes.doc].astype(np.int64) * size + codes.code
        counts = np.bincount(pair, minlength=len(stage_names) * size)
        for k in np.flatnonzero(counts).tolist():
            stage, group = stage_names[k // size], codes.names[k % size]
            self.by_group.setdefault(stage, Counter())[group] += int(counts[k])


def read_ledger(
    files: Sequence[Path],
    identify: Callable[[pa.RecordBatch], pa.Array] | None,
    *,
    fraction: float = 1.0,
    seed: int = 0,
) -> LedgerTally:
    """Tally ledger files; ``identify`` computes identities from a batch with ``text``."""
    tally = LedgerTally()
    rng = np.random.default_rng(seed + 1)
    for batch in _ledger_batches(files, with_text=identify is not None):
        if fraction < 1.0:
            batch = batch.filter(pa.array(rng.random(batch.num_rows) < fraction))
        if batch.num_rows == 0:
            continue
        if identify is not None:
            identities = identify(batch)
        elif IDENTITIES in batch.schema.names:
            identities = batch.column(IDENTITIES)
        else:
            identities = pa.nulls(batch.num_rows, pa.list_(pa.string()))
        tally.update(batch.column(schema.LEDGER_STAGE), identities)
    return tally


def _ledger_batches(files: Sequence[Path], *, with_text: bool) -> Iterator[pa.RecordBatch]:
    for path in files:
        try:
            parquet = pq.ParquetFile(path)
        except (OSError, pa.ArrowInvalid) as exc:
            raise DataError(
                f"{path}: cannot read removal ledger ({exc})",
                hint="pass the Parquet files of a run's curate/removed/",
            ) from exc
        names = parquet.schema_arrow.names
        if schema.LEDGER_STAGE not in names:
            raise DataError(
                f"{path}: no {schema.LEDGER_STAGE!r} column; not a removal ledger",
                hint="pass the Parquet files of a run's curate/removed/",
            )
        if with_text:
            yield from parquet.iter_batches(columns=[c for c in LEDGER_TEXT if c in names])
        else:
            yield from parquet_batches(path, [schema.LEDGER_STAGE, IDENTITIES])


def stage_order(ledger: LedgerTally, run_report: dict[str, Any] | None) -> list[str]:
    """Stages in pipeline order: the run report's order, then any others as first seen."""
    known: list[str] = []
    for entry in (run_report or {}).get("stages") or []:
        if isinstance(entry, dict):
            for key in ("label", "id", "use"):
                if isinstance(entry.get(key), str) and entry[key] in ledger.removed:
                    known.append(entry[key])
                    break
    known = list(dict.fromkeys(known))
    return known + [s for s in ledger.order if s not in known]


def impact_section(
    kept: ColumnTally,
    ledger: LedgerTally,
    *,
    order: list[str],
    min_documents: int,
    groups: Sequence[str],
    identities: str = "the ledger's `identities` column",
) -> dict[str, Any]:
    """Per stage and group removal rates and ratios, and each group's share in and out."""
    removed_after = 0
    removed_after_g: Counter[str] = Counter()
    per_stage: dict[str, Any] = {}
    by_group: dict[str, dict[str, Any]] = {}
    for label in reversed(order):
        removed_after += ledger.removed[label]
        removed_after_g.update(ledger.by_group.get(label, Counter()))
        entering = kept.documents + removed_after
        rate = ledger.removed[label] / entering if entering else 0.0
        per_stage[label] = {
            "entering": entering,
            "removed": ledger.removed[label],
            "removal_rate": rate,
        }
        rows: dict[str, Any] = {}
        for group in groups:
            kept_g = kept.groups[group].docs if group in kept.groups else 0
            entering_g = kept_g + removed_after_g[group]
            removed_g = ledger.by_group.get(label, Counter())[group]
            row: dict[str, Any] = {
                "entering": entering_g,
                "removed": removed_g,
                "removal_rate": None,
                "ratio": None,
                "ci95": None,
                "flagged": False,
                "insufficient": entering_g < min_documents,
            }
            if not row["insufficient"]:
                lo, hi = wilson(removed_g, entering_g)
                g_rate = removed_g / entering_g
                ratio = g_rate / rate if rate > 0 else None
                row.update(
                    removal_rate=g_rate,
                    ratio=ratio,
                    ci95=[lo, hi],
                    flagged=bool(
                        ratio is not None
                        and (ratio < BAND[0] or ratio > BAND[1])
                        and (lo > rate or hi < rate)
                    ),
                )
            rows[group] = row
        by_group[label] = rows
    total_in = kept.documents + sum(ledger.removed.values())
    share: dict[str, Any] = {}
    for group in groups:
        kept_g = kept.groups[group].docs if group in kept.groups else 0
        in_g = kept_g + sum(c[group] for c in ledger.by_group.values())
        share_in = in_g / total_in if total_in else 0.0
        share_out = kept_g / kept.documents if kept.documents else 0.0
        share[group] = {
            "input_documents": in_g,
            "output_documents": kept_g,
            "share_in": share_in,
            "share_out": share_out,
            "change": share_out - share_in,
            "relative": share_out / share_in if share_in else None,
        }
    return {
        "method": METHOD.format(min_documents=min_documents, identities=identities),
        "documents_in": total_in,
        "documents_out": kept.documents,
        "stages": {label: per_stage[label] for label in order},
        "groups": {label: by_group[label] for label in order},
        "share_change": share,
    }
