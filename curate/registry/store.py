"""Content-addressed file storage: each distinct file is kept once, under its sha256.

Version folders hold hard links to these blobs, so versions that share a shard share its disk
space, and every version folder is still a plain folder any tool can read.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import uuid
from pathlib import Path

from curate.errors import DataError

log = logging.getLogger(__name__)

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def read_only_mode() -> int:
    """Read permission as the process umask allows it, write permission for nobody."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o444 & ~mask


def _copy_hashing(source: Path, target: Path) -> tuple[str, int]:
    """Copy ``source`` to a new file ``target`` (mode from the umask); return its sha256, size."""
    digest = hashlib.sha256()
    size = 0
    with source.open("rb") as src, target.open("xb") as dst:
        while block := src.read(_CHUNK):
            digest.update(block)
            dst.write(block)
            size += len(block)
        dst.flush()
        os.fsync(dst.fileno())
    return digest.hexdigest(), size


class BlobStore:
    """``REGISTRY/blobs/sha256/ab/cdef...``: immutable, read-only files named by their hash."""

    def __init__(self, root: Path) -> None:
        self.root = root / "blobs" / "sha256"
        self.tmp = root / "tmp"

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest[2:]

    def add(self, source: Path) -> tuple[str, int]:
        """Store ``source`` under its sha256 and return (sha256, size).

        The file is hashed first. An existing blob of that name is trusted only after its own
        bytes hash to the name; a corrupt one (changed on disk, or through a hard link in a
        version folder) is replaced. A new blob is hashed again as it is copied, so what is
        stored is what was hashed; a file rewritten meanwhile is refused.
        """
        digest = sha256_file(source)
        final = self.path(digest)
        if final.is_file() and sha256_file(final) == digest:
            return digest, final.stat().st_size
        if final.exists():
            log.warning("blob %s is corrupt; storing it again from %s", final, source)
        self.tmp.mkdir(parents=True, exist_ok=True)
        tmp = self.tmp / f"blob.{uuid.uuid4().hex}"
        try:
            copied, size = _copy_hashing(source, tmp)
            if copied != digest:
                raise DataError(
                    f"{source}: changed while it was being published",
                    hint="wait for whatever writes it to finish, then publish again",
                )
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp.chmod(read_only_mode())
            os.replace(tmp, final)  # a concurrent publisher may have stored it too: same bytes
            return digest, size
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def link(self, digest: str, target: Path) -> None:
        """Make ``target`` a hard link to the blob (a copy where links are not supported)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        blob = self.path(digest)
        try:
            os.link(blob, target)
        except OSError as exc:
            log.debug("hard link %s -> %s failed (%s); copying", blob, target, exc)
            shutil.copyfile(blob, target)
            target.chmod(read_only_mode())
