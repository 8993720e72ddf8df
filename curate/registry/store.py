"""Content-addressed file storage: each distinct file is kept once, under its sha256.

Version folders hold hard links to these blobs, so versions that share a shard share its disk
space, and every version folder is still a plain folder any tool can read.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import stat
import tempfile
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


class BlobStore:
    """``REGISTRY/blobs/sha256/ab/cdef...``: immutable, read-only files named by their hash."""

    def __init__(self, root: Path) -> None:
        self.root = root / "blobs" / "sha256"
        self.tmp = root / "tmp"

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest[2:]

    def add(self, source: Path) -> tuple[str, int]:
        """Store ``source`` unless an identical blob exists; return (sha256, size).

        The file is hashed first, so republishing unchanged files reads them once and writes
        nothing; a new blob is then copied by the kernel. A file whose size or modification
        time changed between the hash and the copy is refused (it was being rewritten).
        """
        before = source.stat()
        digest = sha256_file(source)
        final = self.path(digest)
        if final.exists():
            return digest, final.stat().st_size
        self.tmp.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix="blob.", dir=self.tmp)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            shutil.copyfile(source, tmp)
            after = source.stat()
            if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns):
                raise DataError(
                    f"{source}: changed while it was being published",
                    hint="wait for whatever writes it to finish, then publish again",
                )
            with tmp.open("rb") as handle:
                os.fsync(handle.fileno())
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
            os.replace(tmp, final)  # a concurrent publisher may have stored it too: same bytes
            return digest, before.st_size
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
            target.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
