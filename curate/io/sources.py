"""Turn a DATASET spec (files, globs, folders, run outputs, registry refs, hf://, URLs) into
sources.

A spec with another scheme (``s3://``, ``gs://``, ``memory://``...) is listed through fsspec, with
the rules of local files and folders; ``file://`` URLs are local paths.

>>> from curate.io.sources import detect_format
>>> detect_format("part-0.jsonl.zst"), detect_format("x.feather"), detect_format("a.csv.gz")
('jsonl', 'arrow', 'csv')
"""

from __future__ import annotations

import glob
import json
import logging
import os
import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from curate.errors import DataError
from curate.io.splits import ALL, choose_split, dataset_dict_files, file_split
from curate.io.urls import is_url, missing_url, url_fs

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
log = logging.getLogger(__name__)
_REGISTRY_REF = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}(@\d+\.\d+\.\d+|@[a-z][a-z0-9._-]{0,63})?$")


@dataclass(frozen=True)
class Source:
    """One readable unit: a file (or an hf:// dataset) in a known format."""

    path: str
    format: Format
    #: Name used in generated ids and messages: the path relative to the input's root.
    name: str
    #: The split the file belongs to, when resolved with ``split=ALL`` (see curate.io.splits).
    split: str | None = None


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


def _folder_sources(
    folder: Path, split: str | None = None
) -> tuple[list[Path], Format | None, Path | None]:
    if (folder / "curate" / "run.json").exists() or (folder / "manifest.json").exists():
        files = sorted((folder / "data").glob("*.parquet"))
        return choose_split(files, folder, split), "parquet", folder
    if (folder / "dataset_dict.json").exists():
        return dataset_dict_files(folder, split), "arrow-stream", None
    state = folder / "state.json"
    if state.exists() and (folder / "dataset_info.json").exists():
        if split not in (None, ALL):
            raise DataError(
                f"{folder}: input.split is {split!r}, but this is one saved Dataset, not a "
                "DatasetDict with splits",
                hint="remove input.split",
            )
        files = [folder / f["filename"] for f in json.loads(state.read_text())["_data_files"]]
        return files, "arrow-stream", None
    found = [
        p
        for p in sorted(folder.rglob("*"))
        if p.is_file() and detect_format(p.name) and not p.name.startswith((".", "_"))
    ]
    return choose_split(found, folder, split), None, None


def _no_data(folder: str) -> DataError:
    return DataError(
        f"{folder}: folder holds no readable data files",
        hint="expected Parquet, JSONL, CSV or Arrow files",
    )


def _url_folder(fs: Any, root: str) -> tuple[list[str], Format | None]:
    """``_folder_sources`` for a folder on a URL's file system (no run_dir: it is not local)."""
    if fs.exists(f"{root}/curate/run.json") or fs.exists(f"{root}/manifest.json"):
        return sorted(fs.glob(f"{root}/data/*.parquet")), "parquet"
    if fs.exists(f"{root}/state.json") and fs.exists(f"{root}/dataset_info.json"):
        state = json.loads(fs.cat_file(f"{root}/state.json"))
        return [f"{root}/{f['filename']}" for f in state["_data_files"]], "arrow-stream"
    found = [
        p
        for p in fs.find(root)
        if detect_format(p) and not posixpath.basename(p).startswith((".", "_"))
    ]
    # Component by component, as local folders are sorted ("a/x" before "a-b/x").
    return sorted(found, key=lambda p: p.split("/")), None


def _hidden(found: str, pattern: str) -> bool:
    """Whether a glob match is one local globs skip: a name starting with "." that the pattern
    does not spell with its ".".
    """
    magic = min((i for i, c in enumerate(pattern) if c in "*?["), default=len(pattern))
    depth = pattern[:magic].count("/")
    wild = pattern.split("/")[depth:]
    return any(n.startswith(".") for n in found.split("/")[depth:]) and not any(
        w.startswith(".") for w in wild
    )


def _url_sources(url: str) -> list[tuple[str, Format | None]]:
    """The files a URL names (a glob's matches, a folder's data files or the file), as URLs."""
    url = url.rstrip("/")
    fs, path = url_fs(url)
    # A fresh listing: a long-lived process must see objects written since its last one.
    fs.invalidate_cache(path)
    # Stripping the scheme only changes the front of the URL, so found paths map back onto the
    # URL as written (memory://x/a, not memory:///x/a); the driver's form is the fallback.
    head = url[: len(url) - len(path)] if url.endswith(path) else None

    def as_url(found: str) -> str:
        return head + found if head is not None else str(fs.unstrip_protocol(found))

    if glob.has_magic(url):
        entries = sorted(
            (found, info)
            for found, info in fs.glob(path, detail=True).items()
            if not _hidden(found, path)
        )
    else:
        try:
            entries = [(path, fs.info(path))]
        except FileNotFoundError:
            entries = []
    if not entries:
        raise missing_url(url)
    out: list[tuple[str, Format | None]] = []
    for found, info in entries:
        if info["type"] != "directory":
            out.append((as_url(found), None))
            continue
        files, fmt = _url_folder(fs, found)
        if not files:
            raise _no_data(as_url(found))
        out.extend((as_url(f), fmt) for f in files)
    return out


def _shared_depth(folders: Sequence[Sequence[str]]) -> int:
    """How many leading components the folders share: names are relative to the deepest folder
    that holds every file (local or URL; no such folder holds both)."""
    depth = 0
    for parts in zip(*folders):
        if len(set(parts)) > 1:
            break
        depth += 1
    return depth


def _glob_split(matches: list[str], split: str | None) -> tuple[list[str], Path | None]:
    """A glob's matched files narrowed to one split (folders it matches choose their own), and
    the folder holding those files."""
    files = [Path(m) for m in matches if not os.path.isdir(m)]
    if not files:
        return matches, None
    root = Path(os.path.commonpath([str(f.parent) for f in files]))
    chosen = set(choose_split(files, root, split))
    return [m for m in matches if os.path.isdir(m) or Path(m) in chosen], root


def _unique(found: list[tuple[str, str, Format | None]]) -> list[tuple[str, str, Format | None]]:
    """Each file once, by its real path: a file listed twice, a symlink to a file already
    listed, or the copies a symlink loop under ``**`` reaches are read once, where first seen."""
    seen: dict[str, str] = {}
    out = []
    for path, absolute, fmt in found:
        if absolute in seen:
            log.info("%s is %s, already an input; read once", path, seen[absolute])
            continue
        seen[absolute] = path
        out.append((path, absolute, fmt))
    return out


def resolve(spec: str | Path | Sequence[str | Path], *, split: str | None = None) -> Resolved:
    """Expand a DATASET spec into an ordered list of sources.

    Order is deterministic: globs and folders are sorted, lists keep their order. ``split``
    chooses one split of folders and globs that hold several (see :mod:`curate.io.splits`);
    without it, such an input is an error listing its splits. With ``split=ALL`` every split is
    read and each source found in a folder or glob says its split.
    """
    specs = [spec] if isinstance(spec, (str, Path)) else list(spec)
    if not specs:
        raise DataError("no input given", hint="set input.path in the recipe or pass -i PATH")
    # (path to read and show, absolute form that names are made from, format when known)
    found: list[tuple[str, str, Format | None]] = []
    split_by_path: dict[str, str | None] = {}
    sources: list[Source] = []
    run_dir: Path | None = None
    refs: list[str] = []

    def add_local(files: Sequence[Path], fmt: Format | None, root: Path | None = None) -> None:
        found.extend((str(f), f.resolve().as_posix(), fmt) for f in files)
        if split == ALL and root is not None:
            split_by_path.update((str(f), file_split(f, root)) for f in files)

    for item in specs:
        text = str(item)
        if text.startswith("hf://datasets/"):
            name = text.removeprefix("hf://datasets/")
            if split not in (None, ALL) and ":" not in name:
                name = f"{name}:{split}"
            sources.append(Source(text, "hf", name))
            continue
        text = text.removeprefix("file://")
        if is_url(text):
            found.extend((url, url, fmt) for url, fmt in _url_sources(text))
            continue
        matches = sorted(glob.glob(text, recursive=True)) if glob.has_magic(text) else [text]
        if not matches or not any(os.path.exists(m) for m in matches):
            if not glob.has_magic(text) and _REGISTRY_REF.match(text):
                from curate.registry import resolve_verified as resolve_ref

                folder = resolve_ref(text)
                refs.append(text)
                files, fmt, rd = _folder_sources(folder, split)
                run_dir = run_dir or rd
                add_local(files, fmt, folder)
                continue
            raise DataError(
                f"{text}: no such file, folder or registry version",
                hint="check the path (relative paths start from the current directory)",
            )
        glob_root: Path | None = None
        if glob.has_magic(text):
            matches, glob_root = _glob_split(matches, split)
        for m in matches:
            p = Path(m)
            if p.is_dir():
                files, fmt, rd = _folder_sources(p, split)
                if not files:
                    raise _no_data(str(p))
                run_dir = run_dir or rd
                add_local(files, fmt, p)
            else:
                add_local([p], None, glob_root)
    found = _unique(found)
    root = _shared_depth([absolute.split("/")[:-1] for _, absolute, _ in found])
    for path, absolute, fmt in found:
        kind = fmt or detect_format(posixpath.basename(path))
        if kind is None:
            raise DataError(
                f"{path}: unknown file type",
                hint="use .parquet, .jsonl(.gz/.zst), .csv, .arrow/.feather, or a folder",
            )
        name = "/".join(absolute.split("/")[root:])
        sources.append(Source(path, kind, name, split_by_path.get(path)))
    return Resolved(sources=sources, run_dir=run_dir, registry_refs=tuple(refs))
