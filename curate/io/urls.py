"""Input files behind URLs (``s3://``, ``gs://``, ``memory://``...), read through fsspec.

Readers get what pyarrow reads from here: for a local path, the path itself (so local files keep
their memory maps and pyarrow's own compression detection); for a URL, an fsspec file object that
fetches bytes as they are read, never a full download first. The fsspec driver of a scheme is a
package of its own (``s3fs``, ``gcsfs``, ``adlfs``...); a missing one raises
:class:`~curate.errors.MissingDependencyError` naming it.

>>> is_url("s3://bucket/a.jsonl"), is_url("data/a.jsonl")
(True, False)
>>> compression_of("s3://b/part-0.jsonl.zst"), compression_of("s3://b/x.csv")
('zstd', None)
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any, cast

import pyarrow as pa

from curate.errors import DataError, MissingDependencyError

_MIB = 1 << 20
_CODECS = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd", ".zstd": "zstd"}
_MAGIC = {"gzip": b"\x1f\x8b", "bz2": b"BZh", "zstd": b"\x28\xb5\x2f\xfd"}
# Backends name these differently: local and sftp `mtime`, S3 `LastModified`, GCS `updated`,
# Azure `last_modified`, memory `created` (a rewrite there is a new file).
_MTIME_KEYS = ("mtime", "LastModified", "last_modified", "updated", "created")
_TAG_KEYS = ("ETag", "etag", "md5Hash", "crc32c", "checksum")


def is_url(path: str) -> bool:
    """Whether ``path`` names a file through a file system driver rather than a local path."""
    return "://" in path


def compression_of(path: str) -> str | None:
    """The pyarrow codec a file's suffix implies (``detect`` only works on local paths)."""
    lower = path.lower()
    return next((codec for suffix, codec in _CODECS.items() if lower.endswith(suffix)), None)


def missing_url(url: str) -> DataError:
    """The error for a URL that names nothing."""
    return DataError(
        f"{url}: no such file or folder",
        hint="check the URL, and that this machine's credentials may read it",
    )


def local_only(spec: str, *, command: str, fix: str) -> str:
    """``spec`` for a command that reads local files only: ``file://`` URLs become paths, other
    URLs (but ``hf://``) raise :class:`~curate.errors.DataError` naming the command and ``fix``.
    """
    spec = spec.removeprefix("file://")
    if is_url(spec) and not spec.startswith("hf://"):
        raise DataError(f"{spec}: curate {command} reads local files, not a URL", hint=fix)
    return spec


def url_fs(url: str) -> tuple[Any, str]:
    """The fsspec file system serving ``url``, and the path of ``url`` within it."""
    try:
        from fsspec.core import url_to_fs

        fs, path = url_to_fs(url)
    except (ImportError, ValueError) as exc:
        # fsspec raises ImportError from the driver's own ModuleNotFoundError, which names the
        # package to install (s3fs, gcsfs, aiohttp...); ValueError means an unknown scheme.
        cause = exc if isinstance(exc, ModuleNotFoundError) else exc.__cause__
        package = getattr(cause, "name", None)
        raise MissingDependencyError(
            f"{url}: no file system driver for this URL ({exc})",
            hint=f"pip install {package}"
            if package
            else "install the fsspec driver of its scheme, e.g. pip install s3fs or gcsfs",
        ) from exc
    return fs, cast(str, path)


def _open(url: str) -> IO[bytes]:
    fs, path = url_fs(url)
    try:
        return cast(IO[bytes], fs.open(path, "rb"))
    except FileNotFoundError as exc:
        raise missing_url(url) from exc


@contextmanager
def random_access(path: str) -> Iterator[str | IO[bytes]]:
    """What pyarrow opens a Parquet or Arrow file from: the local path, or a seekable URL file."""
    if not is_url(path):
        yield path
        return
    with _open(path) as handle:
        yield handle


@contextmanager
def byte_stream(path: str) -> Iterator[pa.NativeFile]:
    """The file's bytes read front to back, decompressed as its suffix says (text formats)."""
    if not is_url(path):
        _check_magic(path)
        with pa.input_stream(path, compression="detect") as stream:
            yield stream
        return
    codec = compression_of(path)
    with _open(path) as handle, pa.input_stream(handle, compression=codec) as stream:
        yield stream


def _check_magic(path: str) -> None:
    """Refuse a local file whose compression suffix its first bytes contradict (a plain text
    file named ``.gz``), before a decompressor fails on it with a codec message."""
    codec = compression_of(path)
    if codec is None:
        return
    with open(path, "rb") as f:
        head = f.read(4)
    if head and not head.startswith(_MAGIC[codec]):
        suffix = os.path.splitext(path)[1]
        raise DataError(
            f"{path}: named {suffix} but not {codec} data (it starts with {head!r})",
            hint=f"rename it without {suffix} if it is not compressed, or compress it",
        )


def _ends_digest(handle: IO[bytes], size: int) -> str:
    h = hashlib.sha256(str(size).encode())
    h.update(handle.read(_MIB))
    if size > 2 * _MIB:
        handle.seek(size - _MIB)
        h.update(handle.read())
    return h.hexdigest()


def file_identity(path: str) -> dict[str, Any]:
    """What tells that an input file changed: its size, its modification time and a digest.

    The digest is a sha256 of the size and the first and last MiB: cheap, even remotely. A local
    file gives ``bytes``, ``mtime_ns`` and ``digest``; a URL gives ``bytes``, ``mtime`` and
    ``etag`` as strings when its file system reports them (backends differ), and ``digest``.
    """
    if not is_url(path):
        st = os.stat(path)
        with open(path, "rb") as f:
            digest = _ends_digest(f, st.st_size)
        return {"bytes": st.st_size, "mtime_ns": st.st_mtime_ns, "digest": digest}
    fs, inner = url_fs(path)
    try:
        info = fs.info(inner)
    except FileNotFoundError as exc:
        raise missing_url(path) from exc
    out: dict[str, Any] = {"bytes": int(info["size"])}
    for field, keys in (("mtime", _MTIME_KEYS), ("etag", _TAG_KEYS)):
        value = next((info[k] for k in keys if info.get(k) is not None), None)
        if value is not None:
            out[field] = str(value)
    with _open(path) as handle:
        out["digest"] = _ends_digest(handle, out["bytes"])
    return out
