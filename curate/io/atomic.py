"""Atomic file writing for bytes, text, JSON and Parquet, with the process umask.

A file appears under its final name only once it is complete: it is written under a hidden
temporary name in the same folder (``.NAME.tmp-PID-RANDOM``) and renamed. Unlike
``tempfile.mkstemp``, which creates ``0600`` files, the temporary file is created as
:func:`open` creates files, ``0666`` minus the process umask, so outputs meant to be shared (a
run folder, a registry, a model cache) are readable by the team when the umask says so.

A failed write removes its temporary file. A full disk or an exhausted quota (``ENOSPC``,
``EDQUOT``, or Arrow's message for them) is raised as an :class:`OSError` carrying that errno
and the path being written, so the caller can say which folder filled up
(:func:`disk_full` recognises it).

>>> import os, tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> old = os.umask(0o022)
>>> write_text_atomic(d / "notes" / "a.txt", "hello")
>>> oct((d / "notes" / "a.txt").stat().st_mode & 0o777), (d / "notes" / "a.txt").read_text()
('0o644', 'hello')
>>> _ = os.umask(old)
"""

from __future__ import annotations

import errno
import json
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

Compression = Literal["zstd", "snappy", "gzip", "none"]
#: Errors that mean the storage is full, whoever reports them.
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
#: How Arrow, which reports most I/O errors without an errno, words the same errors.
_FULL_WORDS = ("No space left on device", "Disk quota exceeded")


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the storage being written to is full."""
    if not isinstance(exc, OSError):
        return False
    return exc.errno in FULL_ERRNOS or any(w in str(exc) for w in _FULL_WORDS)


def temporary_name(path: Path) -> Path:
    """A hidden name next to ``path``, unique to this process and call."""
    return path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")


def as_disk_full(exc: OSError, path: Path) -> OSError:
    """``exc`` as an ``OSError`` with the errno and the path written, when it means disk full."""
    if not disk_full(exc) or (exc.errno in FULL_ERRNOS and exc.filename):
        return exc
    quota = exc.errno == errno.EDQUOT or _FULL_WORDS[1] in str(exc)
    code = errno.EDQUOT if quota else errno.ENOSPC
    return OSError(code, os.strerror(code), str(path))


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it is renamed to ``path``, else removed.

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "x.bin"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_bytes(b"abc")
    >>> target.read_bytes()
    b'abc'
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(final)
    try:
        yield tmp
        os.replace(tmp, final)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raised = as_disk_full(exc, final)
        if raised is exc:
            raise
        raise raised from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_with(path: str | Path, write: Callable[[Any], None], *, durable: bool) -> None:
    with atomic_path(path) as tmp, open(tmp, "xb") as f:
        write(f)
        if durable:
            f.flush()
            os.fsync(f.fileno())


def write_bytes_atomic(path: str | Path, data: bytes, *, durable: bool = False) -> None:
    """Write ``data`` to ``path`` atomically; ``durable`` also syncs it to the disk first."""
    _write_with(path, lambda f: f.write(data), durable=durable)


def write_text_atomic(path: str | Path, text: str, *, durable: bool = False) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    write_bytes_atomic(path, text.encode("utf-8"), durable=durable)


def write_json_atomic(path: str | Path, data: Any, *, durable: bool = True) -> None:
    """Write ``data`` as indented JSON; synced by default, as progress records must survive."""
    write_text_atomic(path, json.dumps(data, indent=2) + "\n", durable=durable)


def write_parquet_atomic(
    table: pa.Table, path: str | Path, *, compression: Compression = "zstd"
) -> None:
    """Write ``table`` as a Parquet file at ``path`` atomically."""
    codec = None if compression == "none" else compression
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression=codec)
