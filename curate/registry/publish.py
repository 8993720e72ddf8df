"""Publishing a dataset folder as an immutable registry version.

The slow part (hashing and copying files into the blob store) runs without any lock. Only the
short final step holds the catalog's write lock: pick the version number, render the card for
it, move the finished folder into place and commit the catalog row. A crash before the commit
leaves at most an unreferenced folder, which is invisible and replaced by the next publish.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from curate.errors import DataError
from curate.registry.catalog import Catalog, Entry
from curate.registry.manifest import (
    MANIFEST,
    MANIFEST_VERSION,
    Content,
    FileEntry,
    audit_summary,
    change,
    parents,
    parquet_rows,
    schema_fields,
    source_files,
    split_of,
)
from curate.registry.names import Version, check_name
from curate.registry.rebuild import entry_from_manifest, sync
from curate.registry.records import publisher
from curate.registry.store import BlobStore, read_only_mode, sha256_file

log = logging.getLogger(__name__)

#: Staging folders older than this are left over from a crashed publish and are removed.
STALE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Published:
    """The outcome of a publish: the version, its folder, and whether it is new."""

    ref: str
    path: Path
    created: bool


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    value = json.loads(path.read_text(encoding="utf-8"))
    return value if isinstance(value, dict) else {}


def sweep(tmp: Path) -> None:
    """Remove staging leftovers of crashed publishes."""
    if not tmp.is_dir():
        return
    cutoff = time.time() - STALE_SECONDS
    for item in tmp.iterdir():
        try:
            if item.stat().st_mtime < cutoff:
                shutil.rmtree(item) if item.is_dir() else item.unlink()
        except OSError as exc:
            log.debug("could not remove stale %s: %s", item, exc)


def inside(source: Path, files: list[Path]) -> None:
    """Refuse files that are, or sit under, symbolic links leading out of ``source``."""
    root = source.resolve()
    for path in files:
        real = path.resolve()
        if not real.is_relative_to(root):
            raise DataError(
                f"{path}: a symbolic link to {real}, outside the folder being published",
                hint="copy the file into the folder (or remove the link); links that leave the "
                "folder are never followed into the registry",
            )


def check_complete(source: Path, *, allow_partial: bool) -> None:
    """Refuse a ``--limit`` run (``"partial": true`` in its run report) unless allowed."""
    run = _read_json(source / "curate" / "run.json")
    if run.get("partial") is True and not allow_partial:
        raise DataError(
            f"{source / 'curate' / 'run.json'}: the run is partial (it ran with --limit), so "
            "the folder holds only part of the recipe's output",
            hint="run the recipe without --limit, or publish anyway with --allow-partial",
        )


def stage(store: BlobStore, source: Path, staging: Path, *, ledger: bool) -> Content:
    """Copy a dataset folder's files into the blob store and link them into ``staging``."""
    files = source_files(source, ledger=ledger)
    inside(source, files)
    data = [f for f in files if f.parent == source / "data"]
    if not data:
        raise DataError(
            f"{source}: no data/*.parquet to publish",
            hint="publish the output folder of `curate run`",
        )
    entries = []
    for path in files:
        rel = path.relative_to(source).as_posix()
        digest, size = store.add(path)
        store.link(digest, staging / rel)
        rows = parquet_rows(store.path(digest)) if path in data else None
        entries.append(FileEntry(rel, digest, size, rows))
    schema = pq.read_schema(store.path(entries[0].sha256)).remove_metadata()
    return Content(files=tuple(entries), schema=schema)


def _manifest(
    *,
    name: str,
    version: Version,
    content: Content,
    staging: Path,
    registry_root: Path,
    card: dict[str, str | None],
) -> dict[str, Any]:
    run = _read_json(staging / "curate" / "run.json")
    audit = _read_json(staging / "curate" / "audit" / "audit.json")
    card_files = [
        FileEntry(n, sha256_file(staging / n), (staging / n).stat().st_size)
        for n in ("README.md", "croissant.json")
    ]
    splits: dict[str, dict[str, Any]] = {}
    for f in content.data:
        split = splits.setdefault(split_of(f.path), {"rows": 0, "files": []})
        split["rows"] += f.rows or 0
        split["files"].append(f.path)
    recipe = run.get("recipe") if isinstance(run.get("recipe"), dict) else None
    return {
        "manifest_version": MANIFEST_VERSION,
        "name": name,
        "version": str(version),
        "ref": f"{name}@{version}",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "published_by": publisher(),
        "card": card,
        "content_id": content.content_id,
        "data_id": content.data_id,
        "schema_id": content.schema_id,
        "rows": content.rows,
        "size": content.size,
        "splits": splits,
        "schema": schema_fields(content.schema),
        "files": [f.to_json() for f in (*content.files, *card_files)],
        "lineage": {
            "recipe": recipe,
            "inputs": run.get("input"),
            "parents": parents(run, registry_root),
            "run": {k: run.get(k) for k in ("created", "rows_in", "rows_out", "versions")}
            if run
            else None,
        },
        "audit": audit_summary(audit),
    }


def choose(
    versions: list[Entry],
    content: Content,
    wanted: Version | None,
    *,
    retired: set[Version],
    name: str,
) -> Version:
    """The version number a new publish takes: ``wanted`` if free, else the part that changed
    since the latest version, bumped from the highest number ever taken (deleted ones too)."""
    if wanted is not None:
        if any(e.version == wanted for e in versions):
            raise DataError(
                f"{name}@{wanted} is already published with different content",
                hint="versions are immutable: pick a new version, or omit --version",
            )
        if wanted in retired:
            raise DataError(
                f"{name}@{wanted} was deleted; a deleted version number is never reused",
                hint="pick a new version, or omit --version",
            )
        return wanted
    if not versions:
        return max(retired).bump("major") if retired else Version(1, 0, 0)
    latest = versions[-1]
    return max({latest.version, *retired}).bump(change(latest.schema_id, latest.data_id, content))


def seal(staging: Path) -> None:
    """Make the card and manifest read-only like the blobs, with the umask's read bits."""
    mode = read_only_mode()
    for name in ("README.md", "croissant.json", MANIFEST):
        if (staging / name).is_file():
            (staging / name).chmod(mode)


def render(
    staging: Path, *, name: str, version: Version, content: Content, registry_root: Path
) -> dict[str, Any]:
    """Write the card and manifest of ``name@version`` into ``staging``; returns the manifest."""
    from curate.card import options_for, write_card
    from curate.card.facts import gather

    known = {f.path: f.sha256 for f in content.files}
    write_card(staging, ref=f"{name}@{version}", version=str(version), checksums=known)
    options = options_for(gather(staging))
    manifest = _manifest(
        name=name,
        version=version,
        content=content,
        staging=staging,
        registry_root=registry_root,
        card={"license": options.license, "pretty_name": options.pretty_name},
    )
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def commit(
    catalog: Catalog,
    *,
    registry_root: Path,
    name: str,
    version: Version | None,
    content: Content,
    staging: Path,
    retired: set[Version] | None = None,
) -> Published:
    """Decide the version, render card and manifest, move the folder in, record it; atomic."""
    datasets = registry_root / "datasets"
    with catalog.write():
        sync(catalog, datasets, name=name)
        same = catalog.by_content(name, content.content_id)
        if same is not None and (version is None or version == same.version):
            return Published(same.ref, registry_root / "datasets" / name / str(same.version), False)
        version = choose(
            catalog.versions(name), content, version, retired=retired or set(), name=name
        )
        ref = f"{name}@{version}"
        final = datasets / name / str(version)
        if final.exists():  # sync() recorded every readable folder, so this one is damaged
            raise DataError(
                f"{ref}: {final} exists but is not a readable version; it is never replaced",
                hint="restore the folder or move it out of the registry, or pick another "
                "version with --version",
            )
        manifest = render(
            staging, name=name, version=version, content=content, registry_root=registry_root
        )
        seal(staging)
        final.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(final)
        try:
            catalog.insert(entry_from_manifest(manifest, sha256=sha256_file(final / MANIFEST)))
        except BaseException:
            shutil.rmtree(final, ignore_errors=True)
            raise
    log.info("published %s (%d rows)", ref, content.rows)
    return Published(ref, final, True)


def publish_folder(
    catalog: Catalog,
    store: BlobStore,
    source: Path,
    name: str,
    *,
    registry_root: Path,
    version: str | None = None,
    ledger: bool = True,
    allow_partial: bool = False,
    retired: set[Version] | None = None,
) -> Published:
    """Publish a dataset folder (``curate run`` layout) as ``name``; ``retired``: deleted
    version numbers, never taken again."""
    check_name(name)
    wanted = Version.parse(version) if version else None
    check_complete(source, allow_partial=allow_partial)
    sweep(store.tmp)
    staging = store.tmp / f"version-{uuid.uuid4().hex}"
    staging.mkdir(parents=True)
    try:
        content = stage(store, source, staging, ledger=ledger)
        if (source / "README.md").is_file():  # so author-written sections carry over
            shutil.copyfile(source / "README.md", staging / "README.md")
        return commit(
            catalog,
            registry_root=registry_root,
            name=name,
            version=wanted,
            content=content,
            staging=staging,
            retired=retired or set(),
        )
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
