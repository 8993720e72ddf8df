"""Write-once objects on any fsspec file system: the registry's only primitive for agreement.

Everything a shared registry records (a version's manifest, an alias move, a yank, a tombstone)
is one new object created only if absent. Whoever creates it first wins; the others see
:class:`FileExistsError` and re-read. What each store gives:

- local folders (and ``file://``): the object is written to a temporary name and hard-linked to
  its final name, which fails if that exists (POSIX ``link``; atomic on local and NFS).
- ``s3://`` (s3fs): ``PutObject`` with ``If-None-Match: *`` (S3 conditional writes), which S3
  and compatible servers answer with 412 when the key exists.
- ``gs://`` (gcsfs): the same ``mode="create"`` request, which gcsfs sends as a generation-0
  precondition (``ifGenerationMatch=0``).
- any other store: an existence check, then the write. Safe for one writer at a time only;
  concurrent publishers to such a store can both succeed, and the later one overwrites.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from curate.errors import DataError

log = logging.getLogger(__name__)

#: Protocols whose ``pipe_file(mode="create")`` is a server-side create-if-absent.
CONDITIONAL = frozenset({"s3", "s3a", "gs", "gcs"})

_LOCK = threading.Lock()


@contextlib.contextmanager
def _reaching(path: str, *, writing: bool = False) -> Iterator[None]:
    """Turn a store's access errors (credentials, network, no bucket) into one clear error;
    a missing object stays :class:`FileNotFoundError` for readers."""
    try:
        yield
    except FileExistsError:
        raise
    except FileNotFoundError as exc:
        if not writing:
            raise
        raise DataError(
            f"{path}: cannot write to the registry store: {exc}",
            hint="check that the bucket (or folder) exists and that you may write to it",
        ) from exc
    except OSError as exc:
        raise DataError(
            f"{path}: the registry store cannot be reached: {exc}",
            hint="check the URL, the credentials (e.g. AWS_PROFILE) and the network",
        ) from exc


class ObjectStore:
    """Objects under ``root`` of one fsspec file system, addressed by ``/``-separated keys."""

    def __init__(self, fs: Any, root: str) -> None:
        self.fs = fs
        self.root = root.rstrip("/")
        protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
        self.local = "file" in protocols or "local" in protocols
        self.conditional = bool(CONDITIONAL.intersection(protocols))

    @classmethod
    def at(cls, location: str | Path) -> ObjectStore:
        """The store for a local folder or a URL (``s3://bucket/prefix``, ``memory://x``)."""
        from curate.io.urls import is_url, url_fs

        text = os.fspath(location)
        if is_url(text) and not text.startswith("file://"):
            fs, path = url_fs(text)
            return cls(fs, path)
        from fsspec.implementations.local import LocalFileSystem

        folder = Path(text.removeprefix("file://")).expanduser().resolve()
        return cls(LocalFileSystem(), folder.as_posix())

    def key(self, *parts: str) -> str:
        return "/".join((self.root, *parts))

    def create(self, key: str, data: bytes) -> bool:
        """Write ``data`` at ``key`` unless it exists; True if this call created it."""
        path = self.key(key)
        if self.local:
            return _create_local(Path(path), data)
        try:
            with _reaching(path, writing=True):
                if self.conditional:
                    self.fs.pipe_file(path, data, mode="create")
                    return True
                with _LOCK:
                    if self.fs.exists(path):
                        return False
                    self.fs.pipe_file(path, data)
            return True
        except FileExistsError:
            return False

    def create_json(self, key: str, value: Any) -> bool:
        return self.create(key, (json.dumps(value, indent=2, sort_keys=True) + "\n").encode())

    def read(self, key: str) -> bytes:
        with _reaching(self.key(key)):
            data = self.fs.cat_file(self.key(key))
        assert isinstance(data, bytes)
        return data

    def read_json(self, key: str) -> Any:
        return json.loads(self.read(key).decode("utf-8"))

    def exists(self, key: str) -> bool:
        return bool(self.fs.exists(self.key(key)))

    def size(self, key: str) -> int | None:
        try:
            return int(self.fs.size(self.key(key)))
        except (FileNotFoundError, OSError):
            return None

    def names(self, prefix: str) -> list[str]:
        """Names of the entries directly under ``prefix`` (files and folders), sorted."""
        folder = self.key(prefix)
        try:
            with _reaching(folder):
                try:
                    listed = self.fs.ls(folder, detail=False, refresh=True)
                except TypeError:  # a file system whose ls takes no refresh
                    listed = self.fs.ls(folder, detail=False)
        except FileNotFoundError:
            return []
        return sorted({str(p).rstrip("/").rsplit("/", 1)[-1] for p in listed} - {""})

    def put(self, local: Path, key: str) -> None:
        """Upload a local file (an overwrite: callers name blobs by content)."""
        path = self.key(key)
        if self.local:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        with _reaching(path, writing=True):
            self.fs.put_file(os.fspath(local), path)

    def get(self, key: str, local: Path) -> None:
        self.fs.get_file(self.key(key), os.fspath(local))

    def remove(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(self.key(key))


def _create_local(path: Path, data: bytes) -> bool:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    with tmp.open("xb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink()
