"""``curate registry diff A B``: what changed between two versions.

Documents are compared by ``id``; when B's lineage names A as a parent, the removal ledger B
carries says why each removed document left. Schema changes come from the manifests, and the
card statistics (languages, tokens, toxicity, identity shares) are computed from the data of
both versions, so the diff needs no card and no audit.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.errors import CheckFailed
from curate.registry.catalog import Entry
from curate.registry.core import Registry

#: Ids listed per side in the text output (all counts are exact).
SAMPLE = 10
STAT_COLUMNS = ("id", "lang", "n_tokens", "toxicity", "identities")


def _files(reg: Registry, entry: Entry, prefix: str) -> list[Path]:
    manifest = reg.manifest(entry.ref)
    paths = {f["path"] for f in manifest["files"] if f["path"].startswith(prefix)}
    problems = reg.verify(entry.ref, only=paths)
    if problems:
        raise CheckFailed(
            f"{entry.ref}: {len(problems)} file(s) fail verification: {problems[0]}",
            hint="`curate registry verify` lists every problem",
        )
    folder = reg.fetch(entry, paths)[0]
    return [folder / p for p in sorted(paths) if p.endswith(".parquet")]


def _table(paths: list[Path], wanted: tuple[str, ...]) -> pa.Table:
    if not paths:
        return pa.table({})
    names = set(pq.read_schema(paths[0]).names)
    return pq.read_table(paths, columns=[c for c in wanted if c in names])


def stats(table: pa.Table) -> dict[str, Any]:
    """Rows, language shares, token total, mean toxicity and identity shares of a table."""
    rows = table.num_rows
    out: dict[str, Any] = {"rows": rows}
    if rows and "lang" in table.column_names:
        counts = Counter(table.column("lang").to_pylist())
        out["languages"] = {str(k): v / rows for k, v in sorted(counts.items(), key=str)}
    if "n_tokens" in table.column_names:
        out["tokens"] = int(pc.sum(table.column("n_tokens")).as_py() or 0)
    if rows and "toxicity" in table.column_names:
        out["toxicity_mean"] = pc.mean(table.column("toxicity")).as_py()
    if rows and "identities" in table.column_names:
        counts = Counter(
            g for groups in table.column("identities").to_pylist() for g in groups or []
        )
        out["identities"] = {k: v / rows for k, v in sorted(counts.items())}
    return out


def _schema_changes(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    old = {f["name"]: f["type"] for f in a.get("schema", [])}
    new = {f["name"]: f["type"] for f in b.get("schema", [])}
    return {
        "added": sorted(set(new) - set(old)),
        "removed": sorted(set(old) - set(new)),
        "retyped": {k: [old[k], new[k]] for k in sorted(set(old) & set(new)) if old[k] != new[k]},
    }


def _reasons(reg: Registry, b: Entry, gone: set[str]) -> dict[str, int]:
    ledger = _table(_files(reg, b, "curate/removed/"), ("id", "stage", "reason"))
    if "id" not in ledger.column_names or not gone:
        return {}
    found: Counter[str] = Counter()
    for row in ledger.to_pylist():
        if row["id"] in gone:
            found[f"{row.get('stage')}: {row.get('reason')}"] += 1
    return dict(sorted(found.items()))


def diff(reg: Registry, a_ref: str, b_ref: str) -> dict[str, Any]:
    """The differences between versions ``a_ref`` and ``b_ref`` as plain data."""
    a, b = reg.entry(a_ref), reg.entry(b_ref)
    ma, mb = reg.manifest(a.ref), reg.manifest(b.ref)
    ta = _table(_files(reg, a, "data/"), STAT_COLUMNS)
    tb = _table(_files(reg, b, "data/"), STAT_COLUMNS)
    out: dict[str, Any] = {
        "a": a.ref,
        "b": b.ref,
        "schema": _schema_changes(ma, mb),
        "stats": {"a": stats(ta), "b": stats(tb)},
    }
    if "id" in ta.column_names and "id" in tb.column_names:
        ids_a, ids_b = set(ta.column("id").to_pylist()), set(tb.column("id").to_pylist())
        added, removed = sorted(ids_b - ids_a, key=str), sorted(ids_a - ids_b, key=str)
        linked = a.ref in ((mb.get("lineage") or {}).get("parents") or [])
        out["documents"] = {
            "added": len(added),
            "removed": len(removed),
            "kept": len(ids_a & ids_b),
            "added_ids": added[:SAMPLE],
            "removed_ids": removed[:SAMPLE],
            "removal_reasons": _reasons(reg, b, set(removed)) if linked else None,
        }
    else:
        out["documents"] = None  # no id column on one side: rows cannot be matched
    return out
