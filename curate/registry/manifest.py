"""What a registry version holds: files with checksums, schema, lineage and audit summary.

Three digests identify a version's content: ``data_id`` (the Parquet shards), ``schema_id`` (the
Arrow schema) and ``content_id`` (every published file except the re-rendered card). They decide
both "is this already published?" and which part of the version number a new version bumps.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from curate.registry.names import Bump, Ref

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1

#: Files a version carries besides its data, relative to the dataset folder.
EXTRA_FILES = ("curate/run.json", "curate/card.json")
EXTRA_GLOBS = ("curate/audit/**/*",)
LEDGER_GLOB = "curate/removed/*.parquet"


@dataclass(frozen=True)
class FileEntry:
    path: str  # POSIX, relative to the version folder
    sha256: str
    size: int
    rows: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "sha256": self.sha256, "size": self.size}
        if self.rows is not None:
            out["rows"] = self.rows
        return out


def source_files(folder: Path, *, ledger: bool = True) -> list[Path]:
    """The files of a dataset folder that a version publishes, data shards first."""
    found = sorted((folder / "data").glob("*.parquet"))
    found += [folder / name for name in EXTRA_FILES if (folder / name).is_file()]
    for pattern in EXTRA_GLOBS + ((LEDGER_GLOB,) if ledger else ()):
        found += sorted(p for p in folder.glob(pattern) if p.is_file())
    return found


def digest(items: Any) -> str:
    """sha256 of a JSON-able value, keys sorted: a stable identity for lists of checksums."""
    text = json.dumps(items, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def schema_fields(schema: pa.Schema) -> list[dict[str, Any]]:
    """A schema as plain data (names, Arrow type strings, nullability), metadata left out."""
    return [{"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in schema]


@dataclass(frozen=True)
class Content:
    """The identity of what is being published, before it gets a version."""

    files: tuple[FileEntry, ...]
    schema: pa.Schema

    @property
    def data(self) -> tuple[FileEntry, ...]:
        return tuple(f for f in self.files if f.path.startswith("data/"))

    @property
    def data_id(self) -> str:
        return digest([[f.path, f.sha256] for f in self.data])

    @property
    def schema_id(self) -> str:
        return digest(schema_fields(self.schema))

    @property
    def content_id(self) -> str:
        return digest([[f.path, f.sha256] for f in self.files])

    @property
    def rows(self) -> int:
        return sum(f.rows or 0 for f in self.data)

    @property
    def size(self) -> int:
        return sum(f.size for f in self.data)


def change(old_schema_id: str, old_data_id: str, new: Content) -> Bump:
    """Which version part a change bumps: schema -> major, data -> minor, anything else -> patch.

    >>> c = Content(files=(), schema=pa.schema([("text", pa.string())]))
    >>> change(c.schema_id, c.data_id, c), change("other", c.data_id, c)
    ('patch', 'major')
    """
    if old_schema_id != new.schema_id:
        return "major"
    if old_data_id != new.data_id:
        return "minor"
    return "patch"


def parquet_rows(path: Path) -> int:
    return int(pq.read_metadata(path).num_rows)


def split_of(path: str) -> str:
    """``data/train-00000-of-00002.parquet`` -> ``train``."""
    name = path.rsplit("/", 1)[-1]
    head = name.split("-", 1)[0]
    return head if "-of-" in name and head else "train"


def parents(run: dict[str, Any], registry_root: Path) -> list[str]:
    """Exact registry versions the run read: from input paths inside the registry, and from
    versioned refs it recorded (an unversioned ref that cannot be pinned is kept as given)."""
    source = run.get("input") if isinstance(run.get("input"), dict) else {}
    assert isinstance(source, dict)
    found: set[str] = set()
    datasets = (registry_root / "datasets").resolve()
    for raw in source.get("paths") or []:
        try:
            rel = Path(str(raw)).resolve().relative_to(datasets)
        except ValueError:
            continue
        if len(rel.parts) >= 2:
            found.add(f"{rel.parts[0]}@{rel.parts[1]}")
    pinned_names = {ref.split("@", 1)[0] for ref in found}
    for ref in source.get("registry_refs") or []:
        parsed = Ref.parse(str(ref))
        if parsed.version is not None or parsed.name not in pinned_names:
            found.add(str(parsed))
    return sorted(found)


def audit_summary(audit: dict[str, Any]) -> dict[str, Any] | None:
    """The audit's headline numbers and findings (the full report stays in curate/audit/)."""
    if not audit:
        return None
    keep = ("documents", "languages", "toxicity_threshold", "findings")
    summary = {k: audit[k] for k in keep if k in audit}
    groups = audit.get("groups")
    if isinstance(groups, dict):
        summary["groups"] = sorted(groups)
    return summary
