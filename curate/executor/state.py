"""Run progress on disk, so ``curate run --resume`` can finish an interrupted run.

A run's working folder (``OUT/.curate-work``) holds ``state.json``, whose ``key`` identifies the
run: the resolved recipe, the curate version, the row limit and every input file (path, size,
modification time, digest of its ends, and a URL's ETag when its file system gives one). Each
finished unit of work (the read, a shard of a segment, a global stage, a whole segment, the final
move) leaves a small JSON marker under ``progress/``, written atomically after the files it names
are complete, with their sizes and SHA-256 digests. Resuming first checks that every marker and
the files it names are intact (:mod:`curate.executor.damage`), then skips every unit that has a
marker and redoes the others; as every unit is deterministic, the output is the same as that of
an uninterrupted run.

>>> import tempfile, pathlib
>>> work = pathlib.Path(tempfile.mkdtemp()) / ".curate-work"
>>> key = {"recipe": {"name": "demo"}, "curate": "0.1.0", "limit": None, "input": []}
>>> state = RunState.open(work, key, resume=False, force=False)
>>> state.mark("shard-seg0-00000", {"files": [], "rows": [], "ledger": None, "stats": {}})
>>> RunState.open(work, key, resume=True, force=False).done("shard-seg0-00000")["rows"]
[]
>>> try:
...     RunState.open(work, dict(key, limit=10), resume=True, force=False)
... except RecipeError as exc:
...     print(exc.message.split(": ", 1)[1])
limit: None -> 10
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from curate.errors import DataError, RecipeError
from curate.executor.damage import DAMAGE_HINT, check_progress, file_record
from curate.io.atomic import write_json_atomic
from curate.io.sources import Source
from curate.io.urls import file_identity

log = logging.getLogger(__name__)
STATE = "state.json"
#: Failpoint for the resume tests: ``NAME`` or ``NAME:N`` kills this process with SIGKILL the
#: N-th time (default 1st) the run passes the point named NAME.
KILL_ENV = "CURATE_KILL_AT"
_hits: dict[str, int] = {}


def crash_point(name: str) -> None:
    """Die like ``kill -9`` here when ``CURATE_KILL_AT`` names this point (tests only)."""
    want = os.environ.get(KILL_ENV)
    if not want:
        return
    point, _, nth = want.partition(":")
    if point != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)


def curate_version() -> str:
    try:
        return version("llmos-curate")
    except PackageNotFoundError:
        return "unknown"


def run_key(recipe: dict[str, Any], sources: Sequence[Source], limit: int | None) -> dict[str, Any]:
    """What makes two runs the same run: recipe, curate version, limit and the input files."""
    files = []
    for s in sources:
        entry: dict[str, Any] = {"path": s.path}
        if s.format != "hf":
            entry.update(file_identity(s.path))
        files.append(entry)
    return {"recipe": recipe, "curate": curate_version(), "limit": limit, "input": files}


def _diff(old: Any, new: Any, path: str, out: list[str]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for k in sorted(set(old) | set(new), key=str):
            sub = f"{path}.{k}" if path else str(k)
            if k not in old:
                out.append(f"{sub}: added")
            elif k not in new:
                out.append(f"{sub}: removed")
            else:
                _diff(old[k], new[k], sub, out)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new)):
            _diff(a, b, f"{path}[{i}]", out)
    elif old != new:
        out.append(f"{path}: {old!r} -> {new!r}")


def describe_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Human-readable differences between two run keys, input files named by path."""
    out: list[str] = []
    _diff(old.get("recipe"), new.get("recipe"), "recipe", out)
    for name in ("curate", "limit"):
        if old.get(name) != new.get(name):
            out.append(f"{name}: {old.get(name)!r} -> {new.get(name)!r}")
    before = {f["path"]: f for f in old.get("input", [])}
    after = {f["path"]: f for f in new.get("input", [])}
    for path in before.keys() - after.keys():
        out.append(f"input file {path}: no longer part of the input")
    for path in after.keys() - before.keys():
        out.append(f"input file {path}: new")
    for path in sorted(before.keys() & after.keys()):
        a, b = before[path], after[path]
        if a.get("bytes") != b.get("bytes"):
            out.append(f"input file {path}: size {a.get('bytes')} -> {b.get('bytes')} bytes")
        elif a != b:
            out.append(f"input file {path}: modified since the interrupted run")
    if not out and [f["path"] for f in old["input"]] != [f["path"] for f in new["input"]]:
        out.append("input files: same files in another order")
    return out


class RunState:
    """The progress markers of one run in its working folder."""

    def __init__(self, work: Path, key: dict[str, Any], created: str, resumed: bool) -> None:
        self.work = work
        self.key = key
        self.created = created
        self.resumed = resumed
        #: Records of the work files already hashed: a finished file never changes, and later
        #: markers (a segment's, the final move's) name the files of earlier ones again.
        self._files: dict[str, dict[str, Any]] = {}

    @classmethod
    def open(cls, work: Path, key: dict[str, Any], *, resume: bool, force: bool) -> RunState:
        """Continue the run in ``work`` (``resume``) or start a new one there.

        Resuming a run whose key differs raises :class:`RecipeError` listing what changed, and
        resuming from damaged progress (an unreadable ``state.json`` or marker, a work file
        missing or changed under its marker) raises :class:`DataError` saying what is damaged;
        ``force`` starts over instead.
        """
        state_file = work / STATE
        if resume and state_file.exists():
            old, damage = _read_state(state_file)
            if damage is None:
                assert old is not None
                changes = describe_changes(old["key"], json.loads(json.dumps(key)))
                if not changes:
                    state = cls(work, key, old["created"], True)
                    damage = state.damage()
                    if damage is None:
                        log.info("resuming the interrupted run in %s", work)
                        return state
                elif not force:
                    shown = "; ".join(changes[:5]) + ("; ..." if len(changes) > 5 else "")
                    raise RecipeError(
                        f"cannot resume {work.parent}: {shown}",
                        hint="undo the change to resume, or pass --force to start the run over",
                    )
                else:
                    log.warning("starting over in %s: %s", work.parent, "; ".join(changes))
            if damage is not None:
                if not force:
                    raise DataError(f"cannot resume {work.parent}: {damage}", hint=DAMAGE_HINT)
                log.warning("starting over in %s: %s", work.parent, damage)
        elif resume:
            log.info("nothing to resume in %s; starting a new run", work.parent)
        elif state_file.exists():
            log.warning("discarding the interrupted run in %s (use --resume to continue it)", work)
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        created = datetime.now(timezone.utc).isoformat(timespec="seconds")
        write_json_atomic(state_file, {"key": key, "created": created})
        return cls(work, key, created, False)

    def _marker(self, name: str) -> Path:
        return self.work / "progress" / f"{name}.json"

    def _record(self, path: Path) -> dict[str, Any]:
        """A marker file as written by :meth:`mark`; DataError when it is not one."""
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise DataError(f"progress record {path} is damaged ({exc})", hint=DAMAGE_HINT) from exc
        if not isinstance(record, dict) or set(record) != {"data", "files"}:
            raise DataError(
                f"progress record {path} is damaged (not a record curate wrote)",
                hint=DAMAGE_HINT,
            )
        return record

    def done(self, name: str) -> Any:
        """The data recorded when unit ``name`` finished, or None if it has not."""
        path = self._marker(name)
        if not path.exists():
            return None
        return self._record(path)["data"]

    def records(self) -> dict[str, dict[str, Any]]:
        """Every marker of the run by unit name, as :meth:`mark` wrote it."""
        return {p.stem: self._record(p) for p in sorted((self.work / "progress").glob("*.json"))}

    def damage(self) -> str | None:
        """What is damaged in the recorded progress, or None when a resume can trust it."""
        try:
            records = self.records()
        except DataError as exc:
            return exc.message
        return check_progress(self.work, records)

    def mark(self, name: str, data: Any) -> None:
        """Record that unit ``name`` finished, with what later steps need to know about it.

        The size and digest of every work file the data names are recorded with it, so a
        resumed run notices a file deleted or changed since.
        """
        files = {}
        for rel in _work_files(self.work, data):
            if rel not in self._files:
                self._files[rel] = file_record(self.work / rel)
            files[rel] = self._files[rel]
        write_json_atomic(self._marker(name), {"data": data, "files": files})
        crash_point(f"after-{name.split('-')[0]}")

    def rel(self, path: Path | str) -> str:
        """A path inside the working folder as stored in markers (relative, so it may move)."""
        return Path(path).relative_to(self.work).as_posix()

    def abs(self, rel: str) -> Path:
        return self.work / rel

    def remove(self) -> None:
        """Delete the working folder once the run is complete.

        A worker that is still letting go of a file (a Ray worker closing its spill files
        after its task returned) can make one pass of rmtree miss an entry, so it is repeated
        briefly until the folder is gone.
        """
        for attempt in range(20):
            shutil.rmtree(self.work, ignore_errors=True)
            if not self.work.exists():
                return
            time.sleep(0.05 * (attempt + 1))
        log.warning("could not remove the work folder %s; delete it by hand", self.work)


def _read_state(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """``state.json``'s content, or what is wrong with it."""
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, f"{path} is damaged ({exc})"
    if (
        not isinstance(old, dict)
        or not isinstance(old.get("key"), dict)
        or not isinstance(old.get("created"), str)
        or not isinstance(old["key"].get("input"), list)
        or not all(isinstance(f, dict) and "path" in f for f in old["key"]["input"])
    ):
        return None, f"{path} is damaged (not a run state curate wrote)"
    return old, None


def _work_files(work: Path, data: Any) -> list[str]:
    """The strings in ``data`` that name files in the working folder."""
    if isinstance(data, str):
        return [data] if "/" in data and (work / data).is_file() else []
    if isinstance(data, dict):
        return [f for v in data.values() for f in _work_files(work, v)]
    if isinstance(data, list):
        return [f for v in data for f in _work_files(work, v)]
    return []
