"""The registry's SQLite catalog: an index of which versions exist, and what each holds.

The version folders are the truth: a missing, corrupt or stale catalog is rebuilt from their
manifests (:mod:`curate.registry.rebuild`), and a publish never replaces an existing folder.
A version's folder is moved into place, complete, inside the write transaction that records
it, so a crash leaves either a complete version or none. Writers take
SQLite's write lock (``BEGIN IMMEDIATE``) for the short decide-rename-insert step, which
serialises concurrent publishers across processes; readers are never blocked for long.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from curate.errors import DataError
from curate.registry.names import Version

log = logging.getLogger(__name__)

#: Bumped whenever the tables change; :func:`_migrate` brings older catalogs up to date.
SCHEMA_VERSION = 1

_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS versions (
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    major INTEGER NOT NULL,
    minor INTEGER NOT NULL,
    patch INTEGER NOT NULL,
    content_id TEXT NOT NULL,
    data_id TEXT NOT NULL,
    schema_id TEXT NOT NULL,
    manifest_sha256 TEXT NOT NULL,
    rows INTEGER NOT NULL,
    size INTEGER NOT NULL,
    license TEXT,
    pretty_name TEXT,
    created TEXT NOT NULL,
    parents TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (name, major, minor, patch)
);
CREATE INDEX IF NOT EXISTS versions_content ON versions (name, content_id);
"""


@dataclass(frozen=True)
class Entry:
    """One published version, as the catalog records it."""

    name: str
    version: Version
    content_id: str
    data_id: str
    schema_id: str
    manifest_sha256: str
    rows: int
    size: int
    license: str | None
    pretty_name: str | None
    created: str
    parents: tuple[str, ...]

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


def _entry(row: sqlite3.Row) -> Entry:
    return Entry(
        name=row["name"],
        version=Version(row["major"], row["minor"], row["patch"]),
        content_id=row["content_id"],
        data_id=row["data_id"],
        schema_id=row["schema_id"],
        manifest_sha256=row["manifest_sha256"],
        rows=row["rows"],
        size=row["size"],
        license=row["license"],
        pretty_name=row["pretty_name"],
        created=row["created"],
        parents=tuple(json.loads(row["parents"])),
    )


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    found = int(row[0]) if row else None
    if found is None:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
        )
    elif found > SCHEMA_VERSION:
        raise DataError(
            f"{path}: catalog schema version {found} is newer than this curate understands "
            f"({SCHEMA_VERSION})",
            hint="upgrade curate (pip install -U llmos-curate)",
        )
    # Versions older than SCHEMA_VERSION would be upgraded here, one step at a time.


def open_catalog(path: Path) -> Catalog:
    """Open the catalog; a corrupt or truncated file is moved aside and a new one started.

    The catalog only indexes the version folders, so the caller rebuilds it from them
    (:func:`curate.registry.rebuild.sync`). Lock timeouts and I/O errors are not corruption
    and are raised as they are.
    """
    try:
        return Catalog(path)
    except sqlite3.OperationalError:
        raise
    except sqlite3.DatabaseError as exc:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{uuid.uuid4().hex[:6]}")
        with contextlib.suppress(FileNotFoundError):  # another process moved it first
            path.rename(aside)
        for suffix in ("-wal", "-shm", "-journal"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        log.warning("%s is not a readable catalog (%s); moved to %s, rebuilding", path, exc, aside)
        try:
            return Catalog(path)
        except sqlite3.DatabaseError as again:
            raise DataError(
                f"{path}: the registry catalog cannot be read or rebuilt: {again}",
                hint=f"check the disk and permissions of {path.parent}",
            ) from again


class Catalog:
    """Access to ``REGISTRY/catalog.sqlite``, an index of the version folders."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # Long timeout: a concurrent publisher holds the write lock while it renders a card.
        self.conn = sqlite3.connect(path, timeout=600, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        with self.write():
            for statement in _TABLES.split(";"):
                if statement.strip():
                    self.conn.execute(statement)
            _migrate(self.conn, path)

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; only one process at a time holds it."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def schema_version(self) -> int:
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0])

    def versions(self, name: str) -> list[Entry]:
        """Every version of ``name``, oldest first."""
        rows = self.conn.execute(
            "SELECT * FROM versions WHERE name = ? ORDER BY major, minor, patch", (name,)
        ).fetchall()
        return [_entry(r) for r in rows]

    def get(self, name: str, version: Version | None) -> Entry | None:
        """One version, or the latest when ``version`` is None."""
        if version is None:
            row = self.conn.execute(
                "SELECT * FROM versions WHERE name = ? "
                "ORDER BY major DESC, minor DESC, patch DESC LIMIT 1",
                (name,),
            ).fetchone()
        else:
            row = self.conn.execute(
                "SELECT * FROM versions WHERE name = ? AND major = ? AND minor = ? AND patch = ?",
                (name, version.major, version.minor, version.patch),
            ).fetchone()
        return _entry(row) if row else None

    def by_content(self, name: str, content_id: str) -> Entry | None:
        row = self.conn.execute(
            "SELECT * FROM versions WHERE name = ? AND content_id = ? "
            "ORDER BY major, minor, patch LIMIT 1",
            (name, content_id),
        ).fetchone()
        return _entry(row) if row else None

    def latest_all(self) -> list[Entry]:
        """The latest version of every dataset, by name."""
        rows = self.conn.execute(
            "SELECT * FROM versions AS v WHERE NOT EXISTS ("
            " SELECT 1 FROM versions AS w WHERE w.name = v.name AND"
            " (w.major, w.minor, w.patch) > (v.major, v.minor, v.patch)) ORDER BY name"
        ).fetchall()
        return [_entry(r) for r in rows]

    def names(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT DISTINCT name FROM versions ORDER BY name")]

    def known(self) -> set[tuple[str, str]]:
        """Every recorded (name, version) pair."""
        return {(r[0], r[1]) for r in self.conn.execute("SELECT name, version FROM versions")}

    def insert(self, entry: Entry, *, if_absent: bool = False) -> None:
        """Record a version; call inside :meth:`write`."""
        v = entry.version
        verb = "INSERT OR IGNORE" if if_absent else "INSERT"
        self.conn.execute(
            f"{verb} INTO versions (name, version, major, minor, patch, content_id, data_id, "
            "schema_id, manifest_sha256, rows, size, license, pretty_name, created, parents) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.name,
                str(v),
                v.major,
                v.minor,
                v.patch,
                entry.content_id,
                entry.data_id,
                entry.schema_id,
                entry.manifest_sha256,
                entry.rows,
                entry.size,
                entry.license,
                entry.pretty_name,
                entry.created,
                json.dumps(list(entry.parents)),
            ),
        )

    def delete(self, name: str, version: Version) -> None:
        """Forget a version; call inside :meth:`write`."""
        self.conn.execute(
            "DELETE FROM versions WHERE name = ? AND major = ? AND minor = ? AND patch = ?",
            (name, version.major, version.minor, version.patch),
        )

    def as_dict(self, entry: Entry) -> dict[str, Any]:
        return {
            "name": entry.name,
            "version": str(entry.version),
            "rows": entry.rows,
            "size": entry.size,
            "license": entry.license,
            "created": entry.created,
        }
