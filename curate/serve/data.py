"""Run folders as Polars lazy frames: the kept rows, the ledger, the run report and the audit.

Nothing here reads rows eagerly: callers filter, project and slice the lazy frames, so a page
over a 10M-row output reads only what it shows.

>>> import pyarrow as pa, pyarrow.parquet as pq, tempfile, json
>>> d = Path(tempfile.mkdtemp()); (d / "curate").mkdir(); (d / "data").mkdir()
>>> _ = (d / "curate" / "run.json").write_text(json.dumps({"rows_in": 1, "stages": []}))
>>> pq.write_table(pa.table({"id": ["a"], "text": ["x"]}), d / "data" / "train-0.parquet")
>>> run = Run.open(d, key="0")
>>> run.rows("kept").collect().rows()
[('a', 'x')]
>>> run.rows("removed").collect().height
0
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import polars as pl
from starlette.exceptions import HTTPException
from starlette.requests import Request

from curate import schema
from curate.errors import DataError
from curate.ledger import ledger_files
from curate.serve.app import ServeState, state_of
from curate.serve.security import resolve_key

Source = Literal["kept", "removed"]
SOURCES: tuple[Source, ...] = ("kept", "removed")

#: An empty ledger still has the ledger's leading columns, so filters on them work.
_EMPTY = {
    schema.LEDGER_STAGE: pl.String,
    schema.LEDGER_REASON: pl.String,
    schema.LEDGER_DETAIL: pl.String,
    schema.ID: pl.String,
    schema.TEXT: pl.String,
}


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``, or a :class:`DataError` naming the file."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(
            f"{path}: cannot be read as JSON ({exc})",
            hint="rewrite it with the curate command that made it",
        ) from exc
    if not isinstance(value, dict):
        raise DataError(f"{path}: expected a JSON object", hint="rewrite it with curate")
    return value


def scan(files: list[Path]) -> pl.LazyFrame:
    """The rows of Parquet ``files`` as one lazy frame; columns missing from a file are null."""
    if not files:
        return pl.LazyFrame(schema=_EMPTY)
    return pl.concat([pl.scan_parquet(f) for f in files], how="diagonal_relaxed")


#: Files that make a folder an audit: the numbers, or only the rendered page.
AUDIT_FILES = ("audit.json", "audit.html")


def find_audit(folder: Path) -> Path | None:
    """The audit folder of a run (``curate/audit``) or ``folder`` itself when it holds one
    (``audit.json``, or only ``audit.html`` when the numbers were not kept)."""
    for candidate in (folder / "curate" / "audit", folder):
        if any((candidate / name).is_file() for name in AUDIT_FILES):
            return candidate
    return None


@dataclass(frozen=True)
class Run:
    """A ``curate run`` output folder, named in URLs by ``key``."""

    folder: Path
    key: str

    @classmethod
    def open(cls, folder: Path, *, key: str) -> Run:
        """The run in ``folder``; 404 when it is not a run folder."""
        if not (folder / "curate" / "run.json").is_file():
            raise HTTPException(404, "not a run folder (no curate/run.json)")
        return cls(folder=folder, key=key)

    @property
    def name(self) -> str:
        recipe = self.report.get("recipe")
        name = recipe.get("name") if isinstance(recipe, dict) else None
        return str(name) if name else self.folder.name

    @cached_property
    def report(self) -> dict[str, Any]:
        return read_json(self.folder / "curate" / "run.json")

    @property
    def audit(self) -> Path | None:
        return find_audit(self.folder)

    def files(self, source: Source) -> list[Path]:
        if source == "kept":
            return sorted((self.folder / "data").glob("**/*.parquet"))
        return ledger_files(self.folder)

    def rows(self, source: Source) -> pl.LazyFrame:
        """The kept rows (``data/``) or the removed ones (the ledger) as a lazy frame."""
        return scan(self.files(source))

    def identity_groups(self) -> list[str]:
        """The ``axis/group`` names the audit reports, when the run has an audit."""
        audit = self.audit
        if audit is None:
            return []
        if not (audit / "audit.json").is_file():
            return []
        groups = read_json(audit / "audit.json").get("groups")
        return sorted(groups) if isinstance(groups, dict) else []


def run_of(request: Request) -> tuple[ServeState, Run]:
    """The app state and the run the request's ``key`` names (403/404 through the path guard)."""
    state = state_of(request)
    key = str(request.path_params["key"])
    return state, Run.open(resolve_key(state.roots, key), key=key)
