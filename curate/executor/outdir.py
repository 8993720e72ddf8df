"""Which output folders a run may write into, and which of their files it may remove.

A run writes into an empty or new folder, into the output of a previous run (recognised by its
report ``curate/run.json``) or into the working folder of an interrupted one
(``.curate-work/state.json``). Any other non-empty folder is refused unless ``overwrite``. An
output that equals, contains or lies inside an input (real paths, after globs and folders are
resolved) is always refused: replacing the output would delete the input.

Replacing a previous output removes only what curate wrote there: the data shards and ledger
files its run report names (or an interrupted run's final move had planned), and its audit.
Every other file is left alone, and a Parquet file in ``data/`` that curate did not write is
refused, as readers of the folder would take it for a shard.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "notes.txt").write_text("mine")
>>> try:
...     check_output(d, [], [], overwrite=False)
... except DataError as exc:
...     print(exc.message.split(": ", 1)[1])
not empty and not a curate output (no curate/run.json); it holds notes.txt
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from curate.errors import DataError
from curate.io.sources import Source
from curate.io.urls import is_url

REPORT = "curate/run.json"
STATE = ".curate-work/state.json"
PLAN = ".curate-work/progress/finalize.json"
#: Where the kinds of output files go, relative to the output folder.
FOLDERS = {"data": "data", "removed": "curate/removed"}


def _real(path: str | Path) -> Path:
    return Path(os.path.realpath(path))


def _inputs(sources: Sequence[Source], specs: Sequence[str]) -> list[tuple[str, Path]]:
    """Local inputs as (as given, real path): every folder named, then every file read."""
    found = []
    for spec in specs:
        text = spec.removeprefix("file://")
        if not is_url(text) and os.path.isdir(text):
            found.append((text, _real(text)))
    found.extend(
        (s.path, _real(s.path)) for s in sources if s.format != "hf" and not is_url(s.path)
    )
    return found


def check_overlap(out: Path, sources: Sequence[Source], specs: Sequence[str]) -> None:
    """Refuse an output folder that equals, contains or lies inside an input."""
    target = _real(out)
    inputs = _inputs(sources, specs)
    relations = (
        ("is the input", lambda real: real == target),
        ("lies inside the input", lambda real: real in target.parents),
        ("contains the input", lambda real: target in real.parents),
    )
    for how, holds in relations:
        shown = next((shown for shown, real in inputs if holds(real)), None)
        if shown is not None:
            raise DataError(
                f"output folder {out} {how} {shown}: writing it would replace or mix with the "
                "input",
                hint="choose an output folder outside every input (-o DIR or output.path)",
            )


def check_url_overlap(url: str, sources: Sequence[Source], specs: Sequence[str]) -> None:
    """:func:`check_overlap` for an output URL, comparing URLs as paths."""
    target = url.rstrip("/")
    for shown in [*specs, *(s.path for s in sources)]:
        other = shown.rstrip("/")
        if not is_url(other):
            continue
        how = (
            "is the input"
            if other == target
            else "lies inside the input"
            if target.startswith(other + "/")
            else "contains the input"
            if other.startswith(target + "/")
            else None
        )
        if how is not None:
            raise DataError(
                f"output folder {url} {how} {shown}: writing it would replace or mix with the "
                "input",
                hint="choose an output folder outside every input (-o DIR or output.path)",
            )


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _reported(out: Path) -> list[str]:
    """Files the previous run's report says it wrote (relative to ``out``)."""
    report = _json(out / REPORT)
    if not isinstance(report, dict) or not isinstance(report.get("output"), dict):
        raise DataError(
            f"{out / REPORT} is damaged, so which files the previous run wrote is unknown",
            hint="remove that folder's data/ and curate/ folders yourself, or use a new folder",
        )
    files: list[str] = []
    for kind, folder in FOLDERS.items():
        names = report["output"].get(kind) or []
        files.extend(f"{folder}/{n}" for n in names if isinstance(n, str) and "/" not in n)
    recipe = report.get("recipe")
    if (
        isinstance(recipe, dict)
        and recipe.get("audit") is not None
        and (out / "curate/audit").is_dir()
    ):
        files.extend(
            p.relative_to(out).as_posix() for p in (out / "curate/audit").rglob("*") if p.is_file()
        )
    return files


def _planned(out: Path) -> list[str]:
    """Files an interrupted run's final move may already have put in place."""
    record = _json(out / PLAN)
    plan = record.get("data") if isinstance(record, dict) else None
    if not isinstance(plan, dict):
        return []
    return [
        f"{folder}/{move[1]}"
        for kind, folder in FOLDERS.items()
        for move in plan.get(kind) or []
        if isinstance(move, list) and len(move) == 2 and isinstance(move[1], str)
    ]


def check_output(
    out: Path, sources: Sequence[Source], specs: Sequence[str], *, overwrite: bool
) -> list[str]:
    """Check that a run may write into ``out``; the files of a previous run there to remove.

    Raises :class:`~curate.errors.DataError` naming the folder and what is wrong with it.
    """
    check_overlap(out, sources, specs)
    if out.exists() and not out.is_dir():
        raise DataError(f"output folder {out} is a file", hint="choose a folder (-o DIR)")
    if not out.exists():
        return []
    held = sorted(p.name for p in out.iterdir())
    ours = (out / REPORT).is_file() or (out / STATE).is_file()
    if held and not ours and not overwrite:
        shown = ", ".join(held[:5]) + (", ..." if len(held) > 5 else "")
        raise DataError(
            f"output folder {out}: not empty and not a curate output (no {REPORT}); "
            f"it holds {shown}",
            hint="choose a new or empty folder, or pass --overwrite to write into it "
            "(its files are kept, apart from README.md and croissant.json, which are replaced)",
        )
    stale = _reported(out) if (out / REPORT).is_file() else []
    owned = set(stale) | set(_planned(out))
    strays = sorted(
        p.relative_to(out).as_posix()
        for p in (out / "data").glob("*.parquet")
        if p.relative_to(out).as_posix() not in owned
    )
    if strays:
        raise DataError(
            f"output folder {out}: {strays[0]} was not written by curate, and would be read as "
            "part of the curated dataset",
            hint="move it (and any other Parquet file in data/ that curate did not write) out "
            "of the folder, or choose another output folder",
        )
    return [rel for rel in stale if (out / rel).is_file()]
