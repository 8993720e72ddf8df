"""The registry: a folder with a SQLite catalog, content-addressed blobs and version folders.

::

    REGISTRY/datasets/NAME/X.Y.Z/           a version: Hugging Face layout, manifest, Croissant
    REGISTRY/blobs/sha256/ab/cdef...        every distinct file, once
    REGISTRY/records/NAME/...               aliases, yanks and tombstones (:mod:`.records`)
    REGISTRY/catalog.sqlite                 an index of the version folders, rebuilt from them
    REGISTRY/tmp/                           staging for publishes in progress

A URL (``s3://bucket/prefix``, ``memory://x``) opens a :class:`~curate.registry.remote.
RemoteRegistry` instead, with the same methods.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from curate.errors import DataError
from curate.registry.catalog import Catalog, Entry, open_catalog
from curate.registry.lookup import Lookup
from curate.registry.manifest import MANIFEST
from curate.registry.names import Ref
from curate.registry.objects import ObjectStore
from curate.registry.publish import Published, publish_folder
from curate.registry.rebuild import missing, sync
from curate.registry.records import AliasMove, Records
from curate.registry.store import BlobStore, sha256_file

log = logging.getLogger(__name__)


def default_location() -> str:
    """``$CURATE_REGISTRY`` (a folder or a URL), else ``~/.local/share/curate/registry``."""
    env = os.environ.get("CURATE_REGISTRY")
    return env or str(Path.home() / ".local" / "share" / "curate" / "registry")


def default_root() -> Path:
    """The default registry as a local folder (see :func:`default_location` for URLs)."""
    return Path(default_location()).expanduser()


def is_remote(location: str | Path | None) -> bool:
    text = os.fspath(location) if location is not None else default_location()
    return "://" in text and not text.startswith("file://")


class Registry(Lookup):
    """One registry folder. Cheap to create; opens the catalog on first use.

    >>> import tempfile
    >>> reg = Registry(Path(tempfile.mkdtemp()))
    >>> reg.latest_all(), reg.catalog.schema_version()
    ([], 1)
    """

    def __new__(cls, root: Path | str | None = None) -> Registry:
        if cls is Registry and is_remote(root):
            from curate.registry.remote import RemoteRegistry

            cls = RemoteRegistry
        return super().__new__(cls)

    def __init__(self, root: Path | str | None = None) -> None:
        text = os.fspath(root) if root is not None else default_location()
        self.root = Path(text.removeprefix("file://")).expanduser()
        self.location = str(self.root)
        self.store = BlobStore(self.root)
        self.records = Records(ObjectStore.at(self.root))
        self._catalog: Catalog | None = None

    @property
    def catalog(self) -> Catalog:
        """The catalog, brought up to date with the version folders on first use."""
        if self._catalog is None:
            catalog = open_catalog(self.root / "catalog.sqlite")
            if missing(catalog, self.datasets):
                with catalog.write():
                    sync(catalog, self.datasets)
            self._catalog = catalog
        return self._catalog

    @property
    def datasets(self) -> Path:
        return self.root / "datasets"

    def close(self) -> None:
        if self._catalog is not None:
            self._catalog.close()
            self._catalog = None

    def folder(self, entry: Entry) -> Path:
        return self.root / "datasets" / entry.name / str(entry.version)

    def path(self, ref: str | Ref) -> Path:
        """The version folder of ``ref``."""
        entry = self.entry(ref)
        folder = self.folder(entry)
        if not (folder / MANIFEST).is_file():
            raise DataError(
                f"{entry.ref}: version folder {folder} is missing",
                hint="the registry was changed by hand; restore the folder or republish",
            )
        return folder

    def fetch(self, entry: Entry, paths: set[str] | None = None) -> tuple[Path, list[str]]:
        """Where the files of a version are on this machine: here, its folder (a remote
        registry downloads them); problems are left to :meth:`verify`."""
        return self.folder(entry), []

    def manifest(self, ref: str | Ref) -> dict[str, Any]:
        value = json.loads((self.path(ref) / MANIFEST).read_text(encoding="utf-8"))
        assert isinstance(value, dict)
        return value

    def versions(self, name: str) -> list[Entry]:
        return self.catalog.versions(name)

    def names(self) -> list[str]:
        return self.catalog.names()

    def publish(
        self,
        source: Path,
        name: str,
        *,
        version: str | None = None,
        ledger: bool = True,
        allow_partial: bool = False,
    ) -> Published:
        """Publish a dataset folder; identical content returns the existing version."""
        return publish_folder(
            self.catalog,
            self.store,
            Path(source),
            name,
            registry_root=self.root,
            version=version,
            ledger=ledger,
            allow_partial=allow_partial,
            retired=self.records.retired(name),
        )

    def verify(self, ref: str | Ref, *, only: set[str] | None = None) -> list[str]:
        """Problems found by recomputing checksums (``only``: limit to these paths)."""
        entry = self.entry(ref)
        folder = self.folder(entry)
        manifest_path = folder / MANIFEST
        if not manifest_path.is_file():
            return [f"{manifest_path}: missing"]
        if sha256_file(manifest_path) != entry.manifest_sha256:
            return [f"{manifest_path}: checksum differs from the catalog (manifest was changed)"]
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        problems = []
        listed = set()
        for item in manifest["files"]:
            listed.add(item["path"])
            if only is not None and item["path"] not in only:
                continue
            path = folder / item["path"]
            if not path.is_file():
                problems.append(f"{path}: missing")
            elif path.stat().st_size != item["size"]:
                problems.append(f"{path}: size {path.stat().st_size}, expected {item['size']}")
            elif sha256_file(path) != item["sha256"]:
                problems.append(f"{path}: sha256 differs from the manifest (file was changed)")
        if only is None:
            extra = [
                p
                for p in sorted(folder.rglob("*"))
                if p.is_file()
                and p.name != MANIFEST
                and p.relative_to(folder).as_posix() not in listed
            ]
            problems += [f"{p}: not part of the published version" for p in extra]
        return problems

    def tag(self, ref: str, alias: str) -> AliasMove:
        """Point ``NAME@alias`` at the version ``ref`` names."""
        entry = self.entry(ref)
        return self.records.move(entry.name, alias, entry.version)

    def untag(self, name: str, alias: str) -> AliasMove:
        self.entry(f"{name}@{alias}")  # refuses an alias that does not exist
        return self.records.move(name, alias, None)

    def yank(self, ref: str, reason: str) -> dict[str, Any]:
        entry = self.entry(Ref.parse(ref))
        return self.records.yank(entry.name, entry.version, reason)

    def delete(self, ref: str) -> list[str]:
        """Delete a version (tombstone first), then the blobs no version uses; returns them."""
        entry = self.pinned(ref)
        self.records.bury(entry.name, entry.version, entry.content_id)
        folder = self.folder(entry)
        trash = self.root / "tmp" / f"deleted-{uuid.uuid4().hex}"
        with self.catalog.write():
            if folder.exists():
                trash.parent.mkdir(parents=True, exist_ok=True)
                folder.rename(trash)  # atomic: no half-deleted version stays visible
            self.catalog.delete(entry.name, entry.version)
        shutil.rmtree(trash, ignore_errors=True)
        if folder.parent.is_dir() and not any(folder.parent.iterdir()):
            folder.parent.rmdir()
        log.info("deleted %s", entry.ref)
        return self.collect()

    def pinned(self, ref: str) -> Entry:
        parsed = Ref.parse(ref)
        if parsed.version is None:
            raise DataError(
                f"{ref}: name the exact version to delete",
                hint=f"write {parsed.name}@X.Y.Z (aliases and 'latest' move; deletes do not)",
            )
        return self.entry(parsed)

    def used_blobs(self) -> set[str]:
        used: set[str] = set()
        for name in self.names():
            for entry in self.versions(name):
                used.update(f["sha256"] for f in self.manifest(entry.ref)["files"])
        return used

    def stored_blobs(self) -> set[str]:
        """Digests of every blob the store holds."""
        if not self.store.root.is_dir():
            return set()
        return {p.parent.name + p.name for p in self.store.root.glob("*/*") if p.is_file()}

    def remove_blob(self, digest: str) -> None:
        self.store.path(digest).unlink(missing_ok=True)

    def collect(self) -> list[str]:
        """Remove blobs no version's manifest lists; returns their digests."""
        unused = sorted(self.stored_blobs() - self.used_blobs())
        for digest in unused:
            self.remove_blob(digest)
        return unused
