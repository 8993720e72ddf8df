"""Loading a registry version for training: verify checksums, then hand over to ``datasets``."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from curate.errors import CheckFailed, DataError
from curate.registry.core import Registry
from curate.registry.parts import SHUFFLE_BUFFER, check_rank, part_of

log = logging.getLogger(__name__)


def _cache_dir() -> Path:
    """Where ``datasets`` keeps its Arrow copies of registry data (under ``CURATE_CACHE``)."""
    base = os.environ.get("CURATE_CACHE")
    root = Path(base).expanduser() if base else Path.home() / ".cache" / "curate"
    return root / "datasets"


def load(
    ref: str,
    split: str = "train",
    streaming: bool = False,
    columns: list[str] | None = None,
    *,
    verify: bool = True,
    allow_yanked: bool = False,
    rank: int | None = None,
    world_size: int | None = None,
    shuffle_seed: int | None = None,
    registry: Registry | None = None,
) -> Any:
    """A ``datasets.Dataset`` (or ``IterableDataset`` when ``streaming``) for a registry version.

    The split's Parquet files and the manifest are checked against their sha256 first; a
    mismatch raises :class:`~curate.errors.CheckFailed` naming the file. ``columns`` reads only
    those columns. A yanked version is refused unless ``allow_yanked``. From a remote registry
    only the split's files are downloaded, into ``$CURATE_CACHE/registry``, hashed on arrival.

    ``rank`` and ``world_size`` return that rank's part (:mod:`curate.registry.parts`): the
    parts of all ranks are disjoint and cover every row once. ``shuffle_seed`` shuffles
    deterministically (without ``rank``, the whole split).
    """
    part = check_rank(rank, world_size)
    reg = registry or Registry()
    try:
        dataset = _load(
            reg, ref, split, streaming, columns, verify=verify, allow_yanked=allow_yanked
        )
    finally:
        if registry is None:
            reg.close()
    if part is not None:
        return part_of(
            dataset,
            rank=part[0],
            world_size=part[1],
            shuffle_seed=shuffle_seed,
            streaming=streaming,
        )
    if shuffle_seed is not None:
        return dataset.shuffle(
            seed=shuffle_seed, **({"buffer_size": SHUFFLE_BUFFER} if streaming else {})
        )
    return dataset


def _load(
    reg: Registry,
    ref: str,
    split: str,
    streaming: bool,
    columns: list[str] | None,
    *,
    verify: bool,
    allow_yanked: bool,
) -> Any:
    from datasets import load_dataset

    entry = reg.entry(ref)
    yank = reg.yank_record(entry)
    if yank is not None and not allow_yanked:
        raise DataError(
            f"{entry.ref} was yanked on {yank.get('at')}: {yank.get('reason')}",
            hint="pin another version, or pass allow_yanked=True to load it anyway",
        )
    manifest = reg.manifest(entry.ref)
    splits = manifest.get("splits") or {}
    if split not in splits:
        raise DataError(
            f"{entry.ref}: no split {split!r}",
            hint=f"available splits: {', '.join(sorted(splits)) or 'none'}",
        )
    files = list(splits[split]["files"])
    if columns is not None:
        names = {f["name"] for f in manifest.get("schema", [])}
        unknown = [c for c in columns if c not in names]
        if unknown:
            raise DataError(
                f"{entry.ref}: no column {unknown[0]!r}",
                hint=f"columns: {', '.join(sorted(names))}",
            )
    if verify:
        problems = reg.verify(entry.ref, only=set(files))
        if problems:
            raise CheckFailed(
                f"{entry.ref}: {len(problems)} file(s) fail verification: {problems[0]}",
                hint="the version was modified after publishing; republish it or restore "
                "the files (`curate registry verify` lists every problem)",
            )
    folder = reg.fetch(entry, set(files))[0] if not verify else reg.folder(entry)
    data_files = {split: [str(folder / f) for f in files]}
    log.info("loading %s split %s (%d files)", entry.ref, split, len(files))
    kwargs: dict[str, Any] = {"data_files": data_files, "split": split, "streaming": streaming}
    if columns is not None:
        kwargs["columns"] = list(columns)
    if not streaming:
        kwargs["cache_dir"] = str(_cache_dir())
    return load_dataset("parquet", **kwargs)
