"""A registry on object storage (any fsspec URL), shared by a team; no SQLite file.

::

    URL/versions/NAME/X.Y.Z.json     the version's manifest: created once, only if absent
    URL/blobs/sha256/ab/cdef...      every distinct file (data, card, run report), by content
    URL/records/NAME/...             aliases, yanks, tombstones (:mod:`curate.registry.records`)

Publishing uploads the blobs first (idempotent: named by content), then creates the manifest
with a create-if-absent write (:mod:`curate.registry.objects`). That one write is the commit:
of several publishers racing for one version number exactly one creates it; the others re-read
the listing and either find their content already published or take the next number.

Reads download only the files asked for (one split's shards for a load) into the local cache
(``$CURATE_CACHE/registry``), hashing every byte as it arrives; a blob whose bytes do not match
the manifest is refused, and cached blobs are hashed again before each use.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from curate.errors import CheckFailed, DataError
from curate.registry.catalog import Catalog, Entry
from curate.registry.core import Registry, default_location
from curate.registry.manifest import MANIFEST, Content, FileEntry, parquet_rows, source_files
from curate.registry.names import Ref, Version, check_name
from curate.registry.objects import ObjectStore
from curate.registry.publish import Published, check_complete, choose, inside, render
from curate.registry.rebuild import entry_from_manifest
from curate.registry.records import Records
from curate.registry.store import read_only_mode, sha256_file

log = logging.getLogger(__name__)

#: Version numbers tried by one publish while others win the race for them.
ATTEMPTS = 50


def cache_root() -> Path:
    """``$CURATE_CACHE/registry`` (default ``~/.cache/curate/registry``)."""
    base = os.environ.get("CURATE_CACHE")
    return (Path(base).expanduser() if base else Path.home() / ".cache" / "curate") / "registry"


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


class RemoteRegistry(Registry):
    """A registry at an fsspec URL; local files live only in the cache.

    >>> reg = Registry("memory://doc-registry")
    >>> type(reg).__name__, reg.latest_all()
    ('RemoteRegistry', [])
    """

    def __init__(self, root: Path | str | None = None) -> None:
        self.location = os.fspath(root) if root is not None else default_location()
        self.objects = ObjectStore.at(self.location)
        self.records = Records(self.objects)
        key = hashlib.sha256(self.location.encode()).hexdigest()[:16]
        self.root = cache_root() / "views" / key  # local views of versions, and staging
        self.blob_cache = cache_root() / "blobs" / "sha256"
        self._manifests: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}

    @property
    def catalog(self) -> Catalog:
        raise DataError(
            f"{self.location}: a remote registry has no SQLite catalog",
            hint="use Registry.versions(), entry() and latest_all()",
        )

    def close(self) -> None:
        self._manifests.clear()

    def names(self) -> list[str]:
        return self.objects.names("versions")

    def _read_manifest(self, name: str, version: str) -> tuple[dict[str, Any], str]:
        """A version's manifest and the sha256 of its bytes."""
        cached = self._manifests.get((name, version))
        if cached is None:  # manifests are write-once, so a copy stays valid while it exists
            raw = self.objects.read(f"versions/{name}/{version}.json")
            value = json.loads(raw.decode("utf-8"))
            if not isinstance(value, dict):
                raise DataError(
                    f"{self.objects.key(f'versions/{name}/{version}.json')}: not a manifest",
                    hint="the registry's objects were changed by hand",
                )
            cached = (value, hashlib.sha256(raw).hexdigest())
            self._manifests[(name, version)] = cached
        return cached

    def versions(self, name: str) -> list[Entry]:
        out = []
        for item in self.objects.names(f"versions/{name}"):
            if item.endswith(".json"):
                manifest, sha = self._read_manifest(name, item[:-5])
                out.append(entry_from_manifest(manifest, sha256=sha))
        return sorted(out, key=lambda e: e.version)

    def manifest(self, ref: str | Ref) -> dict[str, Any]:
        entry = self.entry(ref)
        return self._read_manifest(entry.name, str(entry.version))[0]

    def folder(self, entry: Entry) -> Path:
        return self.root / "datasets" / entry.name / str(entry.version)

    def _blob(self, digest: str) -> str:
        return f"blobs/sha256/{digest[:2]}/{digest[2:]}"

    def _cached(self, digest: str, size: int) -> tuple[Path | None, str | None]:
        """The verified local copy of a blob, downloading it if needed; or a problem."""
        local = self.blob_cache / digest[:2] / digest[2:]
        if local.is_file() and local.stat().st_size == size and sha256_file(local) == digest:
            return local, None
        local.parent.mkdir(parents=True, exist_ok=True)
        tmp = local.with_name(f".{local.name}.{uuid.uuid4().hex}")
        key = self._blob(digest)
        try:
            self.objects.get(key, tmp)  # the store's own bulk download, then one hashing read
            if sha256_file(tmp) != digest:
                return None, f"{self.objects.key(key)}: sha256 differs from the manifest"
            tmp.chmod(read_only_mode())
            os.replace(tmp, local)
            return local, None
        except FileNotFoundError:
            return None, f"{self.objects.key(key)}: missing"
        finally:
            tmp.unlink(missing_ok=True)

    def fetch(self, entry: Entry, paths: set[str] | None = None) -> tuple[Path, list[str]]:
        """Download (verified) the files ``paths`` of a version into its local view."""
        manifest = self._read_manifest(entry.name, str(entry.version))[0]
        view = self.folder(entry)
        problems = []
        for item in manifest["files"]:
            if paths is not None and item["path"] not in paths:
                continue
            local, problem = self._cached(item["sha256"], int(item["size"]))
            if local is None:
                problems.append(str(problem))
            else:
                _link_or_copy(local, view / item["path"])
        if not problems:
            view.mkdir(parents=True, exist_ok=True)
            (view / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        return view, problems

    def verify(self, ref: str | Ref, *, only: set[str] | None = None) -> list[str]:
        return self.fetch(self.entry(ref), only)[1]

    def path(self, ref: str | Ref) -> Path:
        entry = self.entry(ref)
        view, problems = self.fetch(entry)
        if problems:
            raise CheckFailed(
                f"{entry.ref}: {len(problems)} file(s) fail verification: {problems[0]}",
                hint="the registry's objects were changed; publish the data again",
            )
        return view

    def _upload(self, path: Path) -> tuple[str, int]:
        """Store a file as a blob (skipped when a blob of that name and size exists)."""
        before = path.stat()
        digest = sha256_file(path)
        key = self._blob(digest)
        if self.objects.size(key) != before.st_size:
            self.objects.put(path, key)
        after = path.stat()
        if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns):
            raise DataError(
                f"{path}: changed while it was being published",
                hint="wait for whatever writes it to finish, then publish again",
            )
        return digest, before.st_size

    def publish(
        self,
        source: Path,
        name: str,
        *,
        version: str | None = None,
        ledger: bool = True,
        allow_partial: bool = False,
    ) -> Published:
        check_name(name)
        wanted = Version.parse(version) if version else None
        source = Path(source)
        check_complete(source, allow_partial=allow_partial)
        files = source_files(source, ledger=ledger)
        inside(source, files)
        data = [f for f in files if f.parent == source / "data"]
        if not data:
            raise DataError(
                f"{source}: no data/*.parquet to publish",
                hint="publish the output folder of `curate run`",
            )
        staging = self.root / "tmp" / f"version-{uuid.uuid4().hex}"
        try:
            entries = []
            for path in files:
                rel = path.relative_to(source).as_posix()
                digest, size = self._upload(path)
                _link_or_copy(path, staging / rel)
                entries.append(
                    FileEntry(rel, digest, size, parquet_rows(path) if path in data else None)
                )
            if (source / "README.md").is_file():  # so author-written sections carry over
                shutil.copyfile(source / "README.md", staging / "README.md")
            schema = pq.read_schema(data[0]).remove_metadata()
            return self._commit(staging, name, wanted, Content(tuple(entries), schema))
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _commit(
        self, staging: Path, name: str, wanted: Version | None, content: Content
    ) -> Published:
        for _ in range(ATTEMPTS):
            self._manifests.clear()
            versions = self.versions(name)
            same = next((e for e in versions if e.content_id == content.content_id), None)
            if same is not None and (wanted is None or wanted == same.version):
                return Published(same.ref, self.folder(same), False)
            number = choose(
                versions, content, wanted, retired=self.records.retired(name), name=name
            )
            manifest = render(
                staging, name=name, version=number, content=content, registry_root=self.root
            )
            for card in ("README.md", "croissant.json"):
                self._upload(staging / card)
            text = json.dumps(manifest, indent=2) + "\n"
            if self.objects.create(f"versions/{name}/{number}.json", text.encode()):
                entry = entry_from_manifest(
                    manifest, sha256=hashlib.sha256(text.encode()).hexdigest()
                )
                log.info("published %s to %s (%d rows)", entry.ref, self.location, content.rows)
                return Published(entry.ref, self.folder(entry), True)
            log.info("%s@%s was published by someone else first; trying again", name, number)
        raise DataError(
            f"{name}: no free version number after {ATTEMPTS} attempts",
            hint="many publishers are racing on this name; try again",
        )

    def delete(self, ref: str) -> list[str]:
        entry = self.pinned(ref)
        self.records.bury(entry.name, entry.version, entry.content_id)
        self.objects.remove(f"versions/{entry.name}/{entry.version}.json")
        self._manifests.clear()
        shutil.rmtree(self.folder(entry), ignore_errors=True)
        return self.collect()

    def stored_blobs(self) -> set[str]:
        return {
            prefix + rest
            for prefix in self.objects.names("blobs/sha256")
            for rest in self.objects.names(f"blobs/sha256/{prefix}")
        }

    def remove_blob(self, digest: str) -> None:
        self.objects.remove(self._blob(digest))
