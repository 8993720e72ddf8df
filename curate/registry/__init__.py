"""The dataset registry: immutable, versioned, checksummed datasets that training jobs load.

>>> import curate.registry as registry
>>> callable(registry.load) and callable(registry.resolve)
True

Publish with :func:`publish` (or ``curate publish``), find a version's folder with
:func:`resolve`, and load it with :func:`load`, which verifies checksums first.
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path
from typing import Any

from curate.errors import CheckFailed, DataError
from curate.registry.core import Registry, default_root
from curate.registry.load import load
from curate.registry.names import Ref, Version, check_name
from curate.registry.publish import Published

log = logging.getLogger(__name__)

__all__ = [
    "Published",
    "Ref",
    "Registry",
    "Version",
    "check_name",
    "default_root",
    "derived",
    "load",
    "publish",
    "resolve",
    "resolve_verified",
]

#: Rows per Parquet shard when a DATASET that is not a folder is written out for publishing.
SHARD_ROWS = 1_000_000


def resolve(ref: str) -> Path:
    """The version folder for ``NAME`` (latest) or ``NAME@X.Y.Z`` in the default registry.

    Raises :class:`~curate.errors.DataError` with a hint when the version is unknown.
    """
    registry = Registry()
    try:
        return registry.path(ref).resolve()
    finally:
        registry.close()


def derived(ref: str, *, registry: Path | str | None = None) -> list[dict[str, Any]]:
    """The artifacts recorded as made from a version (``curate export`` records its manifest
    there: token counts, checksums, tokenizer sha256, format, seed), oldest first.

    Each record holds ``kind``, ``sha256`` (of its content), ``location``, ``at``, ``by`` and
    ``content`` (for an export, its ``manifest.json`` less the timing).
    """
    reg = Registry(registry)
    try:
        return reg.derived(ref)
    finally:
        reg.close()


def resolve_verified(ref: str, *, registry: Path | str | None = None) -> Path:
    """Like :func:`resolve`, after recomputing every checksum of the version.

    This is how a recipe's ``input.path: NAME@X.Y.Z`` reads the registry: a changed, missing or
    added file raises :class:`~curate.errors.CheckFailed` naming it.
    """
    reg = Registry(registry)
    try:
        entry = reg.entry(ref)
        verified(reg, entry.ref)
        return reg.path(entry.ref).resolve()
    finally:
        reg.close()


def verified(reg: Registry, ref: str) -> None:
    """Raise :class:`~curate.errors.CheckFailed` unless every file of ``ref`` matches."""
    problems = reg.verify(ref)
    if problems:
        raise CheckFailed(
            f"{ref}: {len(problems)} file(s) fail verification: {problems[0]}",
            hint="the version was modified after publishing; restore the files "
            "(`curate registry verify` lists every problem) or publish the data again",
        )


def _version_of_folder(reg: Registry, path: Path) -> str | None:
    """``NAME@X.Y.Z`` when ``path`` is a version folder of this registry."""
    try:
        rel = path.resolve().relative_to(reg.datasets.resolve())
    except ValueError:
        return None
    return f"{rel.parts[0]}@{rel.parts[1]}" if len(rel.parts) == 2 else None


def is_dataset_folder(path: Path) -> bool:
    """A folder in the layout ``curate run`` writes (``data/*.parquet``)."""
    return path.is_dir() and any((path / "data").glob("*.parquet"))


def materialize(spec: str, dest: Path) -> Path:
    """Write any DATASET form (files, globs, ``hf://``, ...) as ``dest/data/train-*.parquet``."""
    import pyarrow.parquet as pq

    from curate.io.dataset import open_dataset

    dataset = open_dataset(spec)
    data = dest / "data"
    data.mkdir(parents=True, exist_ok=True)
    parts: list[Path] = []
    writer: pq.ParquetWriter | None = None
    rows = 0
    for batch in dataset.iter_batches():
        if writer is None or rows >= SHARD_ROWS:
            if writer is not None:
                writer.close()
            parts.append(data / f".part-{len(parts):05d}.parquet")
            writer = pq.ParquetWriter(parts[-1], batch.schema)
            rows = 0
        writer.write_batch(batch)
        rows += batch.num_rows
    if writer is not None:
        writer.close()
    if not parts:
        raise DataError(f"{spec}: no rows to publish", hint="check the input path")
    for i, part in enumerate(parts):
        part.rename(data / f"train-{i:05d}-of-{len(parts):05d}.parquet")
    return dest


def _registry_ref(reg: Registry, text: str) -> Ref | None:
    try:
        ref = Ref.parse(text)
    except DataError:
        return None
    try:
        reg.entry(ref)
    except DataError:
        return None
    return ref


def publish(
    dataset: str | Path,
    name: str,
    *,
    version: str | None = None,
    registry: Path | str | None = None,
    ledger: bool = True,
    allow_partial: bool = False,
) -> Published:
    """Publish DATASET as ``name`` and return the version (existing if content is identical).

    DATASET is a ``curate run`` output folder, a registry ref, or any other DATASET form (which
    is first written out as Parquet shards). A registry version (by ref or by folder) is
    verified first, so a tampered version cannot be promoted or republished. A partial run
    (``--limit``) is refused unless ``allow_partial``.
    """
    import shutil

    check_name(name)
    reg = Registry(registry)

    def into(source: Path) -> Published:
        return reg.publish(
            source, name, version=version, ledger=ledger, allow_partial=allow_partial
        )

    try:
        path = Path(dataset)
        if is_dataset_folder(path):
            own = _version_of_folder(reg, path)
            if own is not None:
                verified(reg, own)
            return into(path)
        ref = _registry_ref(reg, str(dataset)) if not path.exists() else None
        if ref is not None:  # promote or rename an existing version
            entry = reg.entry(ref)
            verified(reg, entry.ref)
            return into(reg.path(ref))
        scratch = reg.root / "tmp" / f"source-{uuid.uuid4().hex}"
        try:
            materialize(os.fspath(dataset), scratch)
            return into(scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    finally:
        reg.close()
