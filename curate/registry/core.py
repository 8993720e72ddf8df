"""The registry: a folder with a SQLite catalog, content-addressed blobs and version folders.

::

    REGISTRY/catalog.sqlite                 which versions exist (schema-versioned)
    REGISTRY/blobs/sha256/ab/cdef...        every distinct file, once
    REGISTRY/datasets/NAME/X.Y.Z/           a version: Hugging Face layout, manifest, Croissant
    REGISTRY/tmp/                           staging for publishes in progress
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any

from curate.errors import DataError
from curate.registry.catalog import Catalog, Entry, open_catalog
from curate.registry.manifest import MANIFEST
from curate.registry.names import Ref
from curate.registry.publish import Published, publish_folder
from curate.registry.rebuild import missing, sync
from curate.registry.store import BlobStore, sha256_file


def default_root() -> Path:
    """``$CURATE_REGISTRY``, else ``~/.local/share/curate/registry``."""
    env = os.environ.get("CURATE_REGISTRY")
    return (
        Path(env).expanduser() if env else Path.home() / ".local" / "share" / "curate" / "registry"
    )


class Registry:
    """One registry folder. Cheap to create; opens the catalog on first use.

    >>> import tempfile
    >>> reg = Registry(Path(tempfile.mkdtemp()))
    >>> reg.latest_all(), reg.catalog.schema_version()
    ([], 1)
    """

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_root()
        self.store = BlobStore(self.root)
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

    def entry(self, ref: str | Ref) -> Entry:
        """The catalog entry for ``NAME`` (latest) or ``NAME@X.Y.Z``."""
        parsed = ref if isinstance(ref, Ref) else Ref.parse(ref)
        found = self.catalog.get(parsed.name, parsed.version)
        if found is not None:
            return found
        versions = self.catalog.versions(parsed.name)
        if versions:
            have = ", ".join(str(e.version) for e in versions[-5:])
            hint = f"published versions of {parsed.name}: {have}"
        else:
            close = difflib.get_close_matches(parsed.name, self.catalog.names(), n=1)
            hint = (
                f"did you mean {close[0]!r}?"
                if close
                else f"`curate registry list` shows what {self.root} holds"
            )
        raise DataError(f"{parsed}: no such dataset version in the registry", hint=hint)

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

    def manifest(self, ref: str | Ref) -> dict[str, Any]:
        value = json.loads((self.path(ref) / MANIFEST).read_text(encoding="utf-8"))
        assert isinstance(value, dict)
        return value

    def versions(self, name: str) -> list[Entry]:
        return self.catalog.versions(name)

    def latest_all(self) -> list[Entry]:
        return self.catalog.latest_all()

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
