"""Aliases, yanks and tombstones: small write-once records beside the versions.

::

    REGISTRY/records/NAME/aliases/ALIAS/00000001.json   every move of an alias, numbered
    REGISTRY/records/NAME/yanked/X.Y.Z.json             why a version was withdrawn
    REGISTRY/records/NAME/deleted/X.Y.Z.json            a deleted version: its number stays taken
    REGISTRY/records/NAME/derived/X.Y.Z/KIND-DIGEST.json an artifact made from the version

Each record is created once and never changed (:meth:`ObjectStore.create`), so the full history
of an alias is kept and two people moving it at once both land, one after the other.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from curate.errors import DataError
from curate.registry.names import Version, check_alias
from curate.registry.objects import ObjectStore

#: Attempts to append an alias move while others append theirs.
ATTEMPTS = 50


def publisher() -> dict[str, str]:
    """Who acts: login name, host and curate version (recorded in manifests and records)."""
    import getpass
    import socket

    import curate

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name (a container with an unnamed uid)
        user = f"uid-{os.getuid()}"
    return {"user": user, "host": socket.gethostname(), "curate_version": curate.__version__}


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class AliasMove:
    """One record of an alias's history; ``target`` None means the alias was removed."""

    alias: str
    seq: int
    target: str | None
    at: str
    by: dict[str, str]


class Records:
    """The records of one registry (local folder or object store)."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    def _key(self, name: str, *parts: str) -> str:
        return "/".join(("records", name, *parts))

    def history(self, name: str, alias: str) -> list[AliasMove]:
        """Every move of ``alias`` of ``name``, oldest first."""
        moves = []
        for item in self.store.names(self._key(name, "aliases", alias)):
            if item.endswith(".json") and item[:-5].isdigit():
                value = self.store.read_json(self._key(name, "aliases", alias, item))
                moves.append(
                    AliasMove(alias, int(item[:-5]), value.get("target"), value["at"], value["by"])
                )
        return sorted(moves, key=lambda m: m.seq)

    def aliases(self, name: str) -> dict[str, str]:
        """Current alias -> version of ``name`` (removed aliases left out)."""
        current = {}
        for alias in self.store.names(self._key(name, "aliases")):
            moves = self.history(name, alias)
            if moves and moves[-1].target is not None:
                current[alias] = str(moves[-1].target)
        return current

    def move(self, name: str, alias: str, target: Version | None) -> AliasMove:
        """Point ``alias`` at ``target`` (None removes it), appending to its history."""
        check_alias(alias)
        for _ in range(ATTEMPTS):
            moves = self.history(name, alias)
            seq = moves[-1].seq + 1 if moves else 1
            by = publisher()
            move = AliasMove(alias, seq, None if target is None else str(target), now(), by)
            record = {"target": move.target, "at": move.at, "by": by}
            if self.store.create_json(self._key(name, "aliases", alias, f"{seq:08d}.json"), record):
                return move
        raise DataError(
            f"{name}@{alias}: could not record the alias move after {ATTEMPTS} attempts",
            hint="others are moving the same alias right now; try again",
        )

    def yank(self, name: str, version: Version, reason: str) -> dict[str, Any]:
        """Withdraw a version; returns its yank record (the first one, if already yanked)."""
        if not reason.strip():
            raise DataError(f"{name}@{version}: a yank needs a reason", hint='pass --reason "why"')
        key = self._key(name, "yanked", f"{version}.json")
        self.store.create_json(key, {"reason": reason.strip(), "at": now(), "by": publisher()})
        value: dict[str, Any] = self.store.read_json(key)
        return value

    def yanked(self, name: str) -> dict[str, dict[str, Any]]:
        """Version -> yank record, for every yanked version of ``name``."""
        out = {}
        for item in self.store.names(self._key(name, "yanked")):
            if item.endswith(".json"):
                out[item[:-5]] = self.store.read_json(self._key(name, "yanked", item))
        return out

    def bury(self, name: str, version: Version, content_id: str) -> bool:
        """Leave the tombstone of a deleted version; False if it was already there."""
        record = {"content_id": content_id, "at": now(), "by": publisher()}
        return self.store.create_json(self._key(name, "deleted", f"{version}.json"), record)

    def deleted(self, name: str) -> dict[str, dict[str, Any]]:
        """Version -> tombstone, for every deleted version of ``name``."""
        out = {}
        for item in self.store.names(self._key(name, "deleted")):
            if item.endswith(".json"):
                out[item[:-5]] = self.store.read_json(self._key(name, "deleted", item))
        return out

    def retired(self, name: str) -> set[Version]:
        """Version numbers of ``name`` that may never be published again."""
        return {Version.parse(v) for v in self.deleted(name)}

    def derive(
        self, name: str, version: Version, kind: str, content: dict[str, Any], **extra: Any
    ) -> tuple[str, bool]:
        """Record an artifact made from ``name@version`` (an export...), named by ``content``:
        the same content recorded again finds the first record. Returns its key and whether
        this call created it."""
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
        digest = hashlib.sha256(canonical).hexdigest()
        key = self._key(name, "derived", str(version), f"{kind}-{digest[:16]}.json")
        record = {"kind": kind, "sha256": digest, **extra, "content": content}
        created = self.store.create_json(key, {**record, "at": now(), "by": publisher()})
        return key, created

    def derived(self, name: str, version: Version) -> list[dict[str, Any]]:
        """Every artifact recorded as made from ``name@version``, oldest first."""
        folder = self._key(name, "derived", str(version))
        found = [
            self.store.read_json(f"{folder}/{item}")
            for item in self.store.names(folder)
            if item.endswith(".json")
        ]
        return sorted(found, key=lambda r: (str(r.get("at")), str(r.get("sha256"))))
