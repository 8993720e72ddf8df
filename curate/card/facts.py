"""What a card can know about a dataset folder: its data files, schema, sizes and run report.

Only Parquet footers and the small JSON reports are read here; column statistics live in
:mod:`curate.card.stats`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from curate.errors import DataError
from curate.io import features

#: ``train-00000-of-00004.parquet`` -> split ``train``; any other name is a ``train`` shard.
_SHARD = re.compile(r"^(?P<split>[A-Za-z0-9_.]+?)-\d+-of-\d+\.parquet$")


@dataclass(frozen=True)
class DataFile:
    """One Parquet shard of the dataset."""

    path: Path
    split: str
    rows: int
    num_bytes: int  # uncompressed, as Arrow would hold it
    size: int  # bytes on disk


@dataclass(frozen=True)
class Split:
    name: str
    files: tuple[DataFile, ...]

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def num_bytes(self) -> int:
        return sum(f.num_bytes for f in self.files)

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


@dataclass(frozen=True)
class DatasetFacts:
    """Facts about a dataset folder (``OUT/``) gathered without reading column data."""

    root: Path
    splits: tuple[Split, ...]
    schema: pa.Schema
    run: dict[str, Any] = field(default_factory=dict)
    audit: dict[str, Any] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.splits)

    @property
    def files(self) -> tuple[DataFile, ...]:
        return tuple(f for s in self.splits for f in s.files)

    @property
    def recipe(self) -> dict[str, Any]:
        recipe = self.run.get("recipe")
        return recipe if isinstance(recipe, dict) else {}

    @property
    def stages(self) -> list[dict[str, Any]]:
        """The run report's per-stage entries (empty without a run report)."""
        stages = self.run.get("stages")
        return [s for s in stages if isinstance(s, dict)] if isinstance(stages, list) else []

    @property
    def versions(self) -> dict[str, Any]:
        versions = self.run.get("versions")
        return versions if isinstance(versions, dict) else {}

    @property
    def name(self) -> str:
        return str(self.recipe.get("name") or self.root.resolve().name)


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(
            f"{path}: cannot read JSON ({exc})",
            hint="re-run the step that wrote it, or delete the file",
        ) from exc
    return value if isinstance(value, dict) else {}


def _data_file(path: Path) -> DataFile:
    try:
        meta = pq.read_metadata(path)
    except (OSError, pa.ArrowException) as exc:
        raise DataError(
            f"{path}: not a readable Parquet file ({exc})", hint="re-run curate run"
        ) from exc
    match = _SHARD.match(path.name)
    return DataFile(
        path=path,
        split=match["split"] if match else "train",
        rows=meta.num_rows,
        num_bytes=sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)),
        size=path.stat().st_size,
    )


def _features_only(schema: pa.Schema) -> pa.Schema:
    """The schema without metadata, except the Hugging Face features the card describes."""
    kept = {k: v for k, v in (schema.metadata or {}).items() if k == features.KEY}
    return schema.with_metadata(kept) if kept else schema.remove_metadata()


def gather(root: Path) -> DatasetFacts:
    """Collect the facts of a dataset folder laid out as ``curate run`` writes it.

    Raises :class:`~curate.errors.DataError` when the folder holds no ``data/*.parquet``.
    """
    root = Path(root)
    paths = sorted((root / "data").glob("*.parquet"))
    if not paths:
        raise DataError(
            f"{root}: no data/*.parquet files",
            hint="pass the output folder of `curate run` (it holds data/ and curate/run.json)",
        )
    files = [_data_file(p) for p in paths]
    by_split: dict[str, list[DataFile]] = {}
    for f in files:
        by_split.setdefault(f.split, []).append(f)
    order = sorted(by_split, key=lambda s: (s != "train", s))
    schema = pq.read_schema(paths[0])
    return DatasetFacts(
        root=root,
        splits=tuple(Split(name, tuple(by_split[name])) for name in order),
        schema=_features_only(schema),
        run=_read_json(root / "curate" / "run.json"),
        audit=_read_json(root / "curate" / "audit" / "audit.json"),
    )
