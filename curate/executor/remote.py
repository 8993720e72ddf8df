"""Output folders on any file system fsspec knows (``s3://``, ``gs://``, ``memory://``...).

A run whose output is a URL works in a local staging folder, named after the URL inside the
cache (so ``--resume`` finds it again), and uploads the finished folder at the end: the data and
ledger files first, ``run.json`` last, so a reader that sees ``run.json`` sees a complete run.
As for local folders, a URL that holds files but no run report is refused unless
``overwrite``, and only the files of the previous run that its report names are removed.
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
import json
import os
from collections.abc import Sequence
from pathlib import Path

from curate.errors import DataError
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


def remote_stale(url: str, *, overwrite: bool) -> list[str]:
    """Files of a previous run at ``url`` that the upload replaces (relative to it).

    Raises :class:`~curate.errors.DataError` when ``url`` holds files but no run report,
    unless ``overwrite``.
    """
    fs, root = url_fs(url)
    root = root.rstrip("/")
    if not fs.exists(f"{root}/{LAST}"):
        held = fs.find(root) if fs.exists(root) else []
        if held and not overwrite:
            raise DataError(
                f"output folder {url}: not empty and not a curate output (no {LAST})",
                hint="choose a new or empty folder, or pass --overwrite to write into it "
                "(its files are kept, apart from those the run writes)",
            )
        return []
    try:
        output = json.loads(fs.cat_file(f"{root}/{LAST}"))["output"]
        names = [("data", n) for n in output["data"]] + [
            ("curate/removed", n) for n in output["removed"]
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise DataError(
            f"{url}/{LAST} is damaged, so which files the previous run wrote is unknown",
            hint="remove the previous run's files there yourself, or use a new folder",
        ) from exc
    audit = fs.find(f"{root}/curate/audit") if fs.exists(f"{root}/curate/audit") else []
    return [f"{folder}/{name}" for folder, name in names if isinstance(name, str)] + [
        f.split(f"{root}/", 1)[-1] for f in audit
    ]


def upload(local: Path, url: str, *, stale: Sequence[str] = ()) -> None:
    """Copy the finished run folder ``local`` to ``url``, after removing the ``stale`` files
    of the previous run there."""
    fs, root = url_fs(url)
    root = root.rstrip("/")
    for rel in stale:
        if fs.exists(f"{root}/{rel}"):
            fs.rm(f"{root}/{rel}")
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
