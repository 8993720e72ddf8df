"""Rebuilding the catalog from the version folders, which are the registry's truth.

Every registry open lists ``datasets/*/*/manifest.json`` and records any version the catalog
does not know (a deleted or corrupt ``catalog.sqlite``, or a publish killed between moving its
folder into place and committing its row). A folder whose manifest cannot be read is reported
and left alone: it still blocks its version number, so nothing is ever published over it.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from curate.errors import DataError
from curate.registry.catalog import Catalog, Entry
from curate.registry.manifest import MANIFEST
from curate.registry.names import VERSION, Version
from curate.registry.store import sha256_file

log = logging.getLogger(__name__)


def version_folders(datasets: Path, name: str | None = None) -> list[Path]:
    """Folders ``datasets/NAME/X.Y.Z`` (of one name, or all), whatever they hold."""
    parents = [datasets / name] if name else sorted(p for p in datasets.glob("*") if p.is_dir())
    return [
        folder
        for parent in parents
        if parent.is_dir()
        for folder in sorted(parent.iterdir())
        if folder.is_dir() and VERSION.match(folder.name)
    ]


def entry_from_manifest(manifest: Any, *, sha256: str) -> Entry:
    """The catalog entry a manifest describes (KeyError/TypeError/ValueError if malformed)."""
    card = manifest.get("card") or {}
    return Entry(
        name=str(manifest["name"]),
        version=Version.parse(str(manifest["version"])),
        content_id=str(manifest["content_id"]),
        data_id=str(manifest["data_id"]),
        schema_id=str(manifest["schema_id"]),
        manifest_sha256=sha256,
        rows=int(manifest["rows"]),
        size=int(manifest["size"]),
        license=card.get("license"),
        pretty_name=card.get("pretty_name"),
        created=str(manifest["created"]),
        parents=tuple((manifest.get("lineage") or {}).get("parents") or ()),
    )


def entry_from_folder(folder: Path) -> Entry:
    """The catalog entry a version folder's manifest describes; DataError if unreadable."""
    path = folder / MANIFEST
    try:
        manifest: Any = json.loads(path.read_text(encoding="utf-8"))
        name, version = folder.parent.name, Version.parse(folder.name)
        if manifest.get("name") != name or manifest.get("version") != str(version):
            raise ValueError(f"it describes {manifest.get('ref')!r}")
        return entry_from_manifest(manifest, sha256=sha256_file(path))
    except (OSError, ValueError, KeyError, TypeError, AttributeError, DataError) as exc:
        raise DataError(
            f"{path}: the version folder {folder} has no readable manifest ({exc})",
            hint="restore the folder from a backup, or move it out of the registry",
        ) from exc


def missing(catalog: Catalog, datasets: Path, *, name: str | None = None) -> list[Path]:
    """Version folders the catalog does not record (a read; takes no lock)."""
    known = catalog.known()
    return [f for f in version_folders(datasets, name) if (f.parent.name, f.name) not in known]


def sync(catalog: Catalog, datasets: Path, *, name: str | None = None) -> int:
    """Record version folders the catalog lacks; call inside ``catalog.write()``. Returns how
    many were added."""
    added = 0
    for folder in missing(catalog, datasets, name=name):
        try:
            entry = entry_from_folder(folder)
        except DataError as exc:
            log.warning("%s", exc)
            continue
        catalog.insert(entry, if_absent=True)
        added += 1
    if added:
        log.warning(
            "the catalog lacked %d version folder(s); recorded them from their manifests", added
        )
    return added
