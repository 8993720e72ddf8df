"""Turn a DATASET spec (files, globs, folders, run outputs, registry refs, hf://) into sources.

>>> from curate.io.sources import detect_format
>>> detect_format("part-0.jsonl.zst"), detect_format("x.feather"), detect_format("a.csv.gz")
('jsonl', 'arrow', 'csv')
"""

from __future__ import annotations

import glob
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from curate.errors import DataError

Format = Literal["parquet", "jsonl", "csv", "arrow", "arrow-stream", "hf"]

_SUFFIXES: dict[str, Format] = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "csv",
    ".arrow": "arrow",
    ".feather": "arrow",
    ".ipc": "arrow",
}
_COMPRESSION = (".gz", ".zst", ".zstd", ".bz2")
_REGISTRY_REF = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}(@\d+\.\d+\.\d+)?$")


@dataclass(frozen=True)
class Source:
    """One readable unit: a file (or an hf:// dataset) in a known format."""

    path: str
    format: Format
    #: Name used in generated ids and messages: the path relative to the input's root.
    name: str


def detect_format(path: str) -> Format | None:
    """The format implied by a file name, looking through a compression suffix."""
    lower = path.lower()
    for comp in _COMPRESSION:
        if lower.endswith(comp):
            lower = lower[: -len(comp)]
            break
    return _SUFFIXES.get(os.path.splitext(lower)[1])


@dataclass(frozen=True)
class Resolved:
    """What a DATASET spec points at."""

    sources: list[Source]
    #: Set when the spec is a ``curate run`` output folder (or a registry version of one).
    run_dir: Path | None = None
    #: Registry refs the spec went through (lineage).
    registry_refs: tuple[str, ...] = ()


def _folder_sources(folder: Path) -> tuple[list[Path], Format | None, Path | None]:
    if (folder / "curate" / "run.json").exists() or (folder / "manifest.json").exists():
        return sorted((folder / "data").glob("*.parquet")), "parquet", folder
    state = folder / "state.json"
    if state.exists() and (folder / "dataset_info.json").exists():
        files = [folder / f["filename"] for f in json.loads(state.read_text())["_data_files"]]
        return files, "arrow-stream", None
    found = [
        p
        for p in sorted(folder.rglob("*"))
        if p.is_file() and detect_format(p.name) and not p.name.startswith((".", "_"))
    ]
    return found, None, None


def resolve(spec: str | Path | Sequence[str | Path]) -> Resolved:
    """Expand a DATASET spec into an ordered list of sources.

    Order is deterministic: globs and folders are sorted, lists keep their order.
    """
    specs = [spec] if isinstance(spec, (str, Path)) else list(spec)
    if not specs:
        raise DataError("no input given", hint="set input.path in the recipe or pass -i PATH")
    paths: list[tuple[Path, Format | None]] = []
    sources: list[Source] = []
    run_dir: Path | None = None
    refs: list[str] = []
    for item in specs:
        text = str(item)
        if text.startswith("hf://datasets/"):
            sources.append(Source(text, "hf", text.removeprefix("hf://datasets/")))
            continue
        matches = sorted(glob.glob(text, recursive=True)) if glob.has_magic(text) else [text]
        if not matches or not any(os.path.exists(m) for m in matches):
            if not glob.has_magic(text) and _REGISTRY_REF.match(text):
                from curate.registry import resolve as resolve_ref

                folder = resolve_ref(text)
                refs.append(text)
                files, fmt, rd = _folder_sources(folder)
                run_dir = run_dir or rd
                paths.extend((f, fmt) for f in files)
                continue
            raise DataError(
                f"{text}: no such file, folder or registry version",
                hint="check the path (relative paths start from the current directory)",
            )
        for m in matches:
            p = Path(m)
            if p.is_dir():
                files, fmt, rd = _folder_sources(p)
                if not files:
                    raise DataError(
                        f"{p}: folder holds no readable data files",
                        hint="expected Parquet, JSONL, CSV or Arrow files",
                    )
                run_dir = run_dir or rd
                paths.extend((f, fmt) for f in files)
            else:
                paths.append((p, None))
    if paths:
        root = Path(os.path.commonpath([str(p.resolve().parent) for p, _ in paths]))
        for p, fmt in paths:
            found = fmt or detect_format(p.name)
            if found is None:
                raise DataError(
                    f"{p}: unknown file type",
                    hint="use .parquet, .jsonl(.gz/.zst), .csv, .arrow/.feather, or a folder",
                )
            sources.append(Source(str(p), found, p.resolve().relative_to(root).as_posix()))
    return Resolved(sources=sources, run_dir=run_dir, registry_refs=tuple(refs))
