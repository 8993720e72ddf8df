"""Checking an interrupted run's progress before resuming it: is every record still true?

A resumed run trusts its progress records (``.curate-work/progress/*.json``, see
:mod:`curate.executor.state`): each says a unit of work is finished and names the work files it
wrote, with their sizes and SHA-256 digests. Before anything is skipped, :func:`check_progress`
confirms that each record has the shape the executor writes, that every named file still in
the working folder is the one recorded, and that every file later work still needs exists. The
executor deletes a unit's files only once the unit that consumes them is recorded, which tells
a missing file that was used up from one that was lost:

* the files of ``shard-segK-N``, ``segment-segK`` and ``global-segK`` are used up by
  ``global-seg(K+1)``; those of ``global-segK`` also by ``segment-segK``, and its N-th
  non-empty file by ``shard-segK-N``;
* the input shards of ``read`` (``inputs``) are used up by ``global-seg0``, ``segment-seg0``
  and, one each, by ``shard-seg0-N``;
* ledger files are kept until ``finalize``, whose moves are checked on their own: each file is
  still in the working folder, staged in ``final/``, or in place in the output folder.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

#: What to do about damaged progress.
DAMAGE_HINT = (
    "pass --resume --force to start the run over (the interrupted run's progress is discarded)"
)
_STATS = {"rows_in", "rows_out", "removed_by_reason", "seconds"}
_UNIT = re.compile(r"(shard|global|segment)-seg(\d+)(?:-(\d+))?$")
_FINAL = {"data": ("final/data", "data"), "removed": ("final/removed", "curate/removed")}


def file_record(path: Path) -> dict[str, Any]:
    """Size and SHA-256 of a finished work file, as its progress record keeps them."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return {"bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def _strs(value: Any, *, optional: bool = False) -> bool:
    return (optional and value is None) or (
        isinstance(value, list) and all(isinstance(v, str) for v in value)
    )


def _ints(value: Any) -> bool:
    return isinstance(value, list) and all(type(v) is int for v in value)


def _stats(value: Any) -> bool:
    return isinstance(value, dict) and set(value) >= _STATS


def _shape(name: str, data: Any) -> bool:
    """Whether ``data`` has the fields the executor reads back from marker ``name``."""
    if not isinstance(data, dict):
        return False
    if name == "read":
        return (
            all(type(data.get(k)) is int for k in ("count", "sum1", "sum2", "unreadable"))
            and (data.get("ledger") is None or isinstance(data["ledger"], str))
            and (
                data.get("inputs") is None
                or all(v is None or isinstance(v, str) for v in data["inputs"])
            )
        )
    if name == "finalize":
        return all(
            isinstance(data.get(k), list) and all(_strs(m) and len(m) in (2, 3) for m in data[k])
            for k in ("data", "removed")
        )
    unit = _UNIT.match(name)
    if unit is None:
        return True
    files = _strs(data.get("files")) and _ints(data.get("rows"))
    if unit.group(1) == "shard":
        ledger = data.get("ledger") is None or isinstance(data["ledger"], str)
        stats = isinstance(data.get("stats"), dict) and all(
            _stats(v) for v in data["stats"].values()
        )
        return files and ledger and stats
    if unit.group(1) == "global":
        return files and _strs(data.get("ledgers")) and _stats(data.get("stats"))
    return (
        files
        and _strs(data.get("ledgers"))
        and isinstance(data.get("stats"), dict)
        and all(_stats(v) for v in data["stats"].values())
    )


def _used_up(records: dict[str, dict[str, Any]]) -> set[str]:
    """Work files whose consumer is recorded, so their absence is expected."""
    data = {name: rec["data"] for name, rec in records.items()}
    used: set[str] = set()
    for name, d in data.items():
        unit = _UNIT.match(name)
        if unit is None:
            continue
        k = int(unit.group(2))
        if f"global-seg{k + 1}" in data:
            used.update(d["files"])
        if unit.group(1) == "global" and f"segment-seg{k}" in data:
            used.update(d["files"])
        if unit.group(1) == "global":
            fed = [f for f, n in zip(d["files"], d["rows"]) if n]
            for i, f in enumerate(fed):
                if f"shard-seg{k}-{i:05d}" in data:
                    used.add(f)
            # Empty files feed no shard; they go with the others once the shards run.
            if any(n.startswith(f"shard-seg{k}-") for n in data):
                used.update(f for f, n in zip(d["files"], d["rows"]) if not n)
    inputs = (data.get("read") or {}).get("inputs") or []
    for i, f in enumerate(inputs):
        if f is not None and (
            "global-seg0" in data or "segment-seg0" in data or f"shard-seg0-{i:05d}" in data
        ):
            used.add(f)
    return used


def _finalize_damage(work: Path, plan: dict[str, Any]) -> str | None:
    for kind, (staged, target) in _FINAL.items():
        for src, name, *_split in plan[kind]:
            if not any(
                p.is_file() for p in (work / src, work / staged / name, work.parent / target / name)
            ):
                return f"{target}/{name} of the interrupted run is missing (it was {src})"
    return None


def check_progress(work: Path, records: dict[str, dict[str, Any]]) -> str | None:
    """What is damaged in a run's progress ``records`` (by unit name), or None when nothing is."""
    for name, rec in sorted(records.items()):
        if not _shape(name, rec["data"]) or not isinstance(rec["files"], dict):
            return f"progress record {work / 'progress' / name}.json is damaged (unexpected fields)"
    if "finalize" in records:
        return _finalize_damage(work, records["finalize"]["data"])
    used = _used_up(records)
    seen: dict[str, dict[str, Any]] = {}
    for name, rec in sorted(records.items()):
        for rel, want in rec["files"].items():
            path = work / rel
            if not path.is_file():
                if rel in used:
                    continue
                return f"work file {path} is missing (progress record {name} needs it)"
            if rel not in seen:
                seen[rel] = file_record(path)
            if seen[rel] != want:
                return f"work file {path} changed since progress record {name} was written"
    return None
