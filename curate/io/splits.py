"""Splits of an input: ``DatasetDict.save_to_disk`` folders and Hub-style file layouts.

A folder saved by ``DatasetDict.save_to_disk`` lists its splits in ``dataset_dict.json``, each a
``save_to_disk`` folder of its own. Other layouts name the split in a path component, as the Hub
does: ``data/train-00000-of-00002.parquet``, ``test.jsonl``, ``validation/part-0.jsonl``.
``input.split`` chooses one. ``curate run`` reads every split when none is chosen
(``split=ALL``): each row carries its split in the reserved column :data:`COLUMN` through the
stages, the ledger records it as ``split``, and the output has one set of shards per split.
Elsewhere an input with several splits and no choice is an error listing them, never a silent
mix of train and test.

>>> split_of("data/train-00000-of-00001.parquet"), split_of("valid/x.jsonl"), split_of("a.csv")
('train', 'valid', None)
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from curate.errors import DataError

#: ``split`` value asking for every split, each source tagged with its own.
ALL = "*"
#: Reserved column holding each row's split while a run carries several.
COLUMN = "__curate_split"
#: The ledger's name for that column (kept as COLUMN when the input has a ``split`` column).
LEDGER_COLUMN = "split"

_SPLIT = re.compile(
    r"^(train|training|test|testing|validation|valid|val|dev|eval|evaluation)(?=$|[-_.\s0-9])",
    re.IGNORECASE,
)


def split_of(relative: str) -> str | None:
    """The split a file's path (relative to its input folder) names, if any."""
    for part in relative.split("/"):
        found = _SPLIT.match(part)
        if found:
            return found.group(1).lower()
    return None


def file_split(path: Path, root: Path) -> str | None:
    """The split of ``path``, found under the input folder ``root``: the split folder of a
    ``DatasetDict`` folder, or the split its relative path names."""
    rel = path.relative_to(root)
    if len(rel.parts) > 1 and (root / "dataset_dict.json").exists():
        return rel.parts[0]
    return split_of(rel.as_posix())


def carried(splits: Sequence[str | None]) -> list[str]:
    """The splits a run carries through to its output, in input order: none when the sources
    name at most one (a single-split input keeps the plain ``train-*`` layout). Sources that
    name no split are ``train``.

    >>> carried(["train", "train"]), carried([None, "test", "train", "test"])
    ([], ['train', 'test'])
    """
    names = list(dict.fromkeys(s or "train" for s in splits))
    return names if len(set(s for s in splits if s is not None)) > 1 else []


def _unknown(where: str, split: str, splits: Sequence[str]) -> DataError:
    return DataError(
        f"{where}: no split {split!r} (splits: {', '.join(splits)})",
        hint="set input.split to one of them",
    )


class SeveralSplits(DataError):
    """An input holds several splits and the recipe chose none: wrong wherever it is read."""


def _several(where: str, splits: Sequence[str]) -> DataError:
    return SeveralSplits(
        f"{where}: holds several splits ({', '.join(splits)}); choose one",
        hint=f"set `input: {{split: {'train' if 'train' in splits else splits[0]}}}` in the "
        "recipe (one run per split)",
    )


def dataset_dict_files(folder: Path, split: str | None) -> list[Path]:
    """The Arrow files of one split of a ``DatasetDict.save_to_disk`` folder."""
    try:
        splits = [str(s) for s in json.loads((folder / "dataset_dict.json").read_text())["splits"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(
            f"{folder / 'dataset_dict.json'}: not a readable DatasetDict index ({exc})",
            hint="save the dataset again with DatasetDict.save_to_disk",
        ) from exc
    if split == ALL:
        return [f for name in splits for f in _saved_files(folder, name)]
    if split is None:
        if len(splits) != 1:
            raise _several(str(folder), splits)
        split = splits[0]
    if split not in splits:
        raise _unknown(str(folder), split, splits)
    return _saved_files(folder, split)


def _saved_files(folder: Path, split: str) -> list[Path]:
    part = folder / split
    try:
        state = json.loads((part / "state.json").read_text())
        return [part / f["filename"] for f in state["_data_files"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(
            f"{part / 'state.json'}: split {split!r} is not a readable saved dataset ({exc})",
            hint="save the dataset again with DatasetDict.save_to_disk",
        ) from exc


def choose_split(files: Sequence[Path], root: Path, split: str | None) -> list[Path]:
    """The files of the chosen split among ``files`` found under ``root``.

    Without a choice, every file is read when at most one split is named; with one, only its
    files are, and a split no file names is an error listing those that are. ``ALL`` reads
    every file.
    """
    if split == ALL:
        return list(files)
    names = [split_of(f.relative_to(root).as_posix()) for f in files]
    splits = sorted({n for n in names if n is not None})
    if split is None:
        if len(splits) > 1:
            raise _several(str(root), splits)
        return list(files)
    chosen = [f for f, n in zip(files, names) if n == split.lower()]
    if not chosen:
        if not splits:
            raise DataError(
                f"{root}: input.split is {split!r}, but no file name there names a split",
                hint="remove input.split, or name the files <split>-*.parquet or <split>/...",
            )
        raise _unknown(str(root), split, splits)
    return chosen
