"""Finding a version from a ref, the same way for a local and a remote registry.

``NAME@X.Y.Z`` is that version (refused if it was deleted); ``NAME@ALIAS`` is the version the
alias points at now; ``NAME`` alone is the highest version that is not yanked.
"""

from __future__ import annotations

import difflib
from typing import Any

from curate.errors import DataError
from curate.registry.catalog import Entry
from curate.registry.names import Ref
from curate.registry.records import Records


class Lookup:
    """Ref resolution over ``versions(name)`` and ``names()``, which subclasses provide."""

    records: Records
    location: str

    def versions(self, name: str) -> list[Entry]:
        raise NotImplementedError

    def names(self) -> list[str]:
        raise NotImplementedError

    def latest_all(self) -> list[Entry]:
        """The latest version (yanked ones skipped, unless all are) of every dataset."""
        out = []
        for name in self.names():
            versions = self.versions(name)
            if versions:
                yanked = self.records.yanked(name)
                kept = [e for e in versions if str(e.version) not in yanked]
                out.append((kept or versions)[-1])
        return out

    def yank_record(self, entry: Entry) -> dict[str, Any] | None:
        return self.records.yanked(entry.name).get(str(entry.version))

    def derive(
        self, ref: str | Ref, kind: str, content: dict[str, Any], **extra: Any
    ) -> tuple[str, str, bool]:
        """Attach an artifact to a version (write-once, like every registry record): returns
        the pinned ``NAME@X.Y.Z``, the record's key and whether this call created it."""
        entry = self.entry(ref)
        key, created = self.records.derive(entry.name, entry.version, kind, content, **extra)
        return entry.ref, key, created

    def derived(self, ref: str | Ref) -> list[dict[str, Any]]:
        """The artifacts recorded as made from the version ``ref`` names."""
        entry = self.entry(ref)
        return self.records.derived(entry.name, entry.version)

    def entry(self, ref: str | Ref) -> Entry:
        """The entry for ``NAME`` (latest not yanked), ``NAME@X.Y.Z`` or ``NAME@ALIAS``."""
        parsed = ref if isinstance(ref, Ref) else Ref.parse(ref)
        version = parsed.version
        if parsed.alias is not None:
            target = self.records.aliases(parsed.name).get(parsed.alias)
            if target is None:
                current = self.records.aliases(parsed.name)
                raise DataError(
                    f"{parsed}: no such alias",
                    hint=f"aliases of {parsed.name}: {', '.join(sorted(current)) or 'none'}; "
                    f"add one with `curate registry tag {parsed.name}@X.Y.Z {parsed.alias}`",
                )
            version = Ref.parse(f"{parsed.name}@{target}").version
        versions = self.versions(parsed.name)
        if version is not None:
            found = next((e for e in versions if e.version == version), None)
            tomb = self.records.deleted(parsed.name).get(str(version))
            if found is None and tomb is not None:
                by = tomb.get("by") or {}
                raise DataError(
                    f"{parsed.name}@{version} was deleted on {tomb.get('at')} by "
                    f"{by.get('user')}@{by.get('host')}; its number is never reused",
                    hint="pin another version (`curate registry list` shows them)",
                )
        else:
            yanked = self.records.yanked(parsed.name)
            kept = [e for e in versions if str(e.version) not in yanked]
            found = kept[-1] if kept else None
            if found is None and versions:
                raise DataError(
                    f"{parsed.name}: every version is yanked",
                    hint=f"pin one explicitly, e.g. {versions[-1].ref}, and load it with "
                    "allow_yanked=True",
                )
        if found is not None:
            return found
        if versions:
            have = ", ".join(str(e.version) for e in versions[-5:])
            hint = f"published versions of {parsed.name}: {have}"
        else:
            close = difflib.get_close_matches(parsed.name, self.names(), n=1)
            hint = (
                f"did you mean {close[0]!r}?"
                if close
                else f"`curate registry list` shows what {self.location} holds"
            )
        raise DataError(f"{parsed}: no such dataset version in the registry", hint=hint)
