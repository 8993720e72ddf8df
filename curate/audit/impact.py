"""The filter impact section: which groups each removing stage took out more than others.

Documents entering stage ``k`` are the kept ones plus those removed at ``k`` or later, so for
each stage and group: ``removal_rate = removed(g) / entering(g)``, ``retention_rate = 1 -
removal_rate`` (the selection rate of the four-fifths rule), each compared with the documents
entering the stage that do not mention the group (ratios, odds ratio, difference, intervals:
:mod:`curate.audit.effects`). Removed rows usually lack ``identities`` (they left before
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
from curate.audit.effects import compare_rates, outside
from curate.audit.harm import BAND
from curate.audit.kinds import DETAIL, split_terms
from curate.audit.tally import IDENTITIES, ColumnTally, group_codes, parquet_batches
from curate.errors import DataError

log = logging.getLogger(__name__)

#: Ledger columns read when identities must be computed from the text (``lang`` helps the
#: identity stage match each lexicon in its own language).
LEDGER_TEXT = (schema.LEDGER_STAGE, schema.ID, schema.TEXT, "lang")

METHOD = (
    "Documents entering a stage = documents kept + documents removed at that stage or later. "
    "Per stage and group: removal_rate = removed / entering among documents mentioning the "
    "group, and retention_rate = 1 - removal_rate; ratio = removal_rate / the stage's overall "
    "removal rate; retention_ratio = the group's retention rate / that of the entering documents "
    "not mentioning it (the four-fifths rule's selection-rate ratio), removal_rate_ratio the "
    "same for removal rates, with MOVER-Wilson 95% intervals, plus the odds ratio and the risk "
    "difference of removal. Flagged when the retention ratio is below 0.8 or the removal-rate "
    "ratio above 1.25, the group lost at least {min_events} documents, and the Pearson "
    "p-value, Holm-adjusted over every test of the report, is below 0.05. Groups with fewer "
    "than {min_documents} entering documents get no ratio. Identities of removed documents: "
    "{identities}."
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
        #: The same for groups named by slurs, when mention kinds are known.
        self.by_slur_group: dict[str, Counter[str]] = {}
        self.order: list[str] = []

    def update(self, stages: pa.Array, identities: pa.Array, slurs: pa.Array | None = None) -> None:
        labels = pc.fill_null(stages, "unknown").cast(pa.string())
        encoded = pc.dictionary_encode(labels)
        stage_names = [str(x) for x in encoded.dictionary.to_pylist()]
        stage_code = encoded.indices.to_numpy()
        for name, n in zip(stage_names, np.bincount(stage_code, minlength=len(stage_names))):
            if name not in self.removed:
                self.order.append(name)
            self.removed[name] += int(n)
        self._count(self.by_group, stage_names, stage_code, identities)
        if slurs is not None:
            self._count(self.by_slur_group, stage_names, stage_code, slurs)

    @staticmethod
    def _count(
        target: dict[str, Counter[str]],
        stage_names: list[str],
        stage_code: np.ndarray,
        identities: pa.Array,
    ) -> None:
        codes = group_codes(identities)
        if codes.doc.size == 0:
            return
        # One count per (stage, group): code pairs folded into one integer.
        size = len(codes.names)
        pair = stage_code[codes.doc].astype(np.int64) * size + codes.code
        counts = np.bincount(pair, minlength=len(stage_names) * size)
        for k in np.flatnonzero(counts).tolist():
            stage, group = stage_names[k // size], codes.names[k % size]
            target.setdefault(stage, Counter())[group] += int(counts[k])


Identify = Callable[[pa.RecordBatch], tuple[pa.Array, pa.Array | None]]


def read_ledger(
    files: Sequence[Path],
    identify: Identify | None,
    *,
    fraction: float = 1.0,
    seed: int = 0,
    include_slurs: bool = False,
) -> LedgerTally:
    """Tally ledger files; ``identify`` computes identities from a batch with ``text``."""
    tally = LedgerTally()
    rng = np.random.default_rng(seed + 1)
    for batch in _ledger_batches(files, with_text=identify is not None):
        if fraction < 1.0:
            batch = batch.filter(pa.array(rng.random(batch.num_rows) < fraction))
        if batch.num_rows == 0:
            continue
        slurs = None
        if identify is not None:
            identities, slurs = identify(batch)
        elif DETAIL in batch.schema.names:
            identities, slurs, _ = split_terms(batch.column(DETAIL), include_slurs=include_slurs)
        elif IDENTITIES in batch.schema.names:
            identities = batch.column(IDENTITIES)
        else:
            identities = pa.nulls(batch.num_rows, pa.list_(pa.string()))
        tally.update(batch.column(schema.LEDGER_STAGE), identities, slurs)
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
            yield from parquet_batches(path, [schema.LEDGER_STAGE, IDENTITIES, DETAIL])


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
    min_events: int = 10,
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
            rest_in, rest_removed = entering - entering_g, ledger.removed[label] - removed_g
            if not row["insufficient"] and rest_in > 0:
                removal = compare_rates(removed_g, entering_g, rest_removed, rest_in)
                row.update(
                    removal_rate=removal["rate"],
                    ci95=removal["rate_ci95"],
                    ratio=removed_g / entering_g / rate if rate > 0 else None,
                    retention_rate=1.0 - removal["rate"],
                    rest_retention_rate=1.0 - removal["rest_rate"],
                    retention_ratio=removal["complement_ratio"],
                    retention_ratio_ci95=removal["complement_ratio_ci95"],
                    removal_rate_ratio=removal["rate_ratio"],
                    removal_rate_ratio_ci95=removal["rate_ratio_ci95"],
                    odds_ratio=removal["odds_ratio"],
                    odds_ratio_ci95=removal["odds_ratio_ci95"],
                    risk_difference=removal["risk_difference"],
                    risk_difference_ci95=removal["risk_difference_ci95"],
                    p_value=removal["p_value"],
                    candidate=bool(
                        removed_g >= min_events
                        and (
                            (removal["complement_ratio"] or 1.0) < BAND[0]
                            or outside(removal["rate_ratio"], (0.0, BAND[1]))
                        )
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
        "method": METHOD.format(
            min_documents=min_documents, identities=identities, min_events=min_events
        ),
        "documents_in": total_in,
        "documents_out": kept.documents,
        "stages": {label: per_stage[label] for label in order},
        "groups": {label: by_group[label] for label in order},
        "share_change": share,
    }
