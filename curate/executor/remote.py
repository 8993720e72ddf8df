"""Output folders on any file system fsspec knows (``s3://``, ``gs://``, ``memory://``...).

A run whose output is a URL works in a local staging folder, named after the URL inside the
cache (so ``--resume`` finds it again), and uploads the finished folder at the end: the data and
ledger files first, ``run.json`` last, so a reader that sees ``run.json`` sees a complete run.
``file://`` URLs are plain local paths.

>>> output_location("file:///data/out")
(PosixPath('/data/out'), None)
>>> output_location("out/web")
(PosixPath('out/web'), None)
>>> local, url = output_location("memory://bucket/out")
>>> url, local.parent.name
('memory://bucket/out', 'staging')
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from curate.io.urls import is_url, url_fs

#: The report goes last: its presence means the rest was uploaded.
LAST = "curate/run.json"


def _cache() -> Path:
    return Path(os.environ.get("CURATE_CACHE", Path.home() / ".cache" / "curate"))


def output_location(spec: str | Path) -> tuple[Path, str | None]:
    """The local folder a run writes to, and the URL to upload it to (None when local).

    A URL whose file system driver is missing raises
    :class:`~curate.errors.MissingDependencyError` naming the package to install.
    """
    text = str(spec)
    if text.startswith("file://"):
        return Path(text.removeprefix("file://")), None
    if not is_url(text):
        return Path(text), None
    # Fail before the run rather than at the upload, hours later, when the driver is missing.
    url_fs(text)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return _cache() / "staging" / digest, text


def upload(local: Path, url: str) -> None:
    """Copy the finished run folder ``local`` to ``url``, replacing its data and ledger."""
    fs, root = url_fs(url)
    root = root.rstrip("/")
    for stale in ("data", "curate/removed", "curate/audit"):
        if fs.exists(f"{root}/{stale}"):
            fs.rm(f"{root}/{stale}", recursive=True)
    files = sorted(
        p.relative_to(local).as_posix()
        for p in local.rglob("*")
        if p.is_file() and ".curate-work" not in p.relative_to(local).parts
    )
    files.sort(key=lambda rel: rel == LAST)
    for rel in files:
        target = f"{root}/{rel}"
        fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
        fs.put_file(str(local / rel), target)
