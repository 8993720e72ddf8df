"""Checking model files: sha256 once per cache entry, and loading fastText files safely.

A cached file is hashed once; the digest is kept in a stamp beside it
(``<file>.verified``, JSON with ``sha256``, ``size`` and ``mtime_ns``) and trusted while the
file's size and modification time are unchanged, so a file replaced or edited in place is hashed
again. A stamp that cannot be written (a read-only cache) only costs a re-hash next time.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "m.bin"
>>> _ = p.write_bytes(b"abc")
>>> cached_sha256(p)[:12], stamp_path(p).is_file()
('ba7816bf8f01', True)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import struct
from pathlib import Path
from typing import Any

from curate.errors import DataError, MissingDependencyError

log = logging.getLogger(__name__)

STAMP_SUFFIX = ".verified"
#: fastText's file header: a magic number and the format version (both int32, little-endian).
FASTTEXT_MAGIC = 793_712_314
FASTTEXT_VERSION = 12
#: Loaded fastText models by path: one per worker process, shared by every stage instance.
_FASTTEXT: dict[str, Any] = {}


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def stamp_path(path: Path) -> Path:
    """Where the verification stamp of ``path`` lives."""
    return path.with_name(path.name + STAMP_SUFFIX)


def cached_sha256(path: Path) -> str:
    """sha256 of ``path``, from its stamp while size and mtime match, else hashed and stamped."""
    stat = path.stat()
    stamp = stamp_path(path)
    try:
        saved = json.loads(stamp.read_text(encoding="utf-8"))
        if saved.get("size") == stat.st_size and saved.get("mtime_ns") == stat.st_mtime_ns:
            return str(saved["sha256"])
    except (OSError, ValueError, KeyError, AttributeError):
        pass
    digest = sha256_file(path)
    record = {"sha256": digest, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    try:
        tmp = stamp.with_name(stamp.name + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(record), encoding="utf-8")
        os.replace(tmp, stamp)
    except OSError as exc:
        log.debug("cannot write %s: %s", stamp, exc)
    return digest


def check_fasttext_header(path: Path) -> None:
    """Refuse a file that does not start like a fastText model, before fastText reads it.

    fastText trusts its input: some damaged files crash the process instead of raising.
    """
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise DataError(f"{path}: cannot read the model file ({exc.strerror})") from exc
    if len(head) < 8 or struct.unpack("<ii", head) != (FASTTEXT_MAGIC, FASTTEXT_VERSION):
        raise DataError(
            f"{path}: not a fastText model file (wrong header)",
            hint="give a fastText .bin or .ftz file; if it came from the cache, delete it and "
            "run `curate models pull NAME` again",
        )


def load_fasttext(path: Path) -> Any:
    """The compiled fastText model at ``path`` (its ``.f`` object), loaded once per process.

    A file fastText cannot read becomes a :class:`DataError` naming it.
    """
    key = str(path)
    if key in _FASTTEXT:
        return _FASTTEXT[key]
    try:
        from fasttext.FastText import _FastText
    except ImportError as exc:
        raise MissingDependencyError(
            "this stage needs fastText, which is not installed",
            hint="pip install fasttext-wheel (only one fastText binding may be installed)",
        ) from exc
    check_fasttext_header(path)
    # Every worker loads its own copy: at info level the line would repeat once per worker.
    log.debug("loading fastText model %s", path)
    try:
        model = _FastText(model_path=key).f
    except (ValueError, RuntimeError, MemoryError, OSError) as exc:
        raise DataError(
            f"{path}: fastText cannot load this model file ({exc})",
            hint="the file is damaged or truncated: download it again (`curate models pull "
            "NAME` for a known asset) or point the stage at a good copy",
        ) from exc
    _FASTTEXT[key] = model
    return model
