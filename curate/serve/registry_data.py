"""What the registry pages show, as plain data over :mod:`curate.registry`'s public API.

Every function takes an open :class:`~curate.registry.Registry` and returns dicts and
dataclasses the templates render; nothing here writes to the registry. The diff of two versions
is :func:`curate.registry.diff.diff`, the same code ``curate registry diff`` prints.

>>> import tempfile
>>> from curate.registry import Registry
>>> datasets(Registry(tempfile.mkdtemp()))
[]
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curate.errors import DataError
from curate.registry import Registry
from curate.registry.catalog import Entry
from curate.registry.diff import diff as registry_diff

#: Input files listed under a root of the lineage graph (the rest are counted).
INPUTS_SHOWN = 5


def datasets(reg: Registry) -> list[dict[str, Any]]:
    """Every dataset with its latest version (yanked ones skipped), as ``registry list``."""
    out = []
    for entry in reg.latest_all():
        out.append(
            {
                "name": entry.name,
                "latest": str(entry.version),
                "pretty_name": entry.pretty_name,
                "versions": len(reg.versions(entry.name)),
                "rows": entry.rows,
                "size": entry.size,
                "license": entry.license,
                "created": entry.created,
                "yanked": sorted(reg.records.yanked(entry.name)),
                "aliases": dict(sorted(reg.records.aliases(entry.name).items())),
            }
        )
    return out


def versions(reg: Registry, name: str) -> list[dict[str, Any]]:
    """Every version of ``name``, newest first, with its aliases and yank record.

    Raises :class:`~curate.errors.DataError` (with the registry's hint) for an unknown name.
    """
    entries = reg.versions(name)
    if not entries:
        reg.entry(name)  # raises the registry's own "no such dataset" error with its hint
    aliases = reg.records.aliases(name)
    yanked = reg.records.yanked(name)
    out = []
    for entry in reversed(entries):
        version = str(entry.version)
        out.append(
            {
                "ref": entry.ref,
                "version": version,
                "rows": entry.rows,
                "size": entry.size,
                "license": entry.license,
                "pretty_name": entry.pretty_name,
                "created": entry.created,
                "parents": list(entry.parents),
                "aliases": sorted(a for a, v in aliases.items() if v == version),
                "yanked": yanked.get(version),
            }
        )
    return out


def manifest(reg: Registry, ref: str) -> dict[str, Any]:
    """A version's manifest with its catalog entry, aliases, yank record and other versions."""
    entry = reg.entry(ref)
    data = reg.manifest(entry.ref)
    version = str(entry.version)
    return {
        "ref": entry.ref,
        "name": entry.name,
        "version": version,
        "entry": entry,
        "manifest": data,
        "files": list(data.get("files") or []),
        "schema": list(data.get("schema") or []),
        "splits": dict(data.get("splits") or {}),
        "lineage": dict(data.get("lineage") or {}),
        "aliases": sorted(a for a, v in reg.records.aliases(entry.name).items() if v == version),
        "yanked": reg.yank_record(entry),
        "others": [str(e.version) for e in reg.versions(entry.name)],
    }


def verify(reg: Registry, ref: str) -> dict[str, Any]:
    """Recompute every checksum of ``ref``: the problems found (empty when all match)."""
    entry = reg.entry(ref)
    problems = reg.verify(entry.ref)
    files = len(reg.manifest(entry.ref).get("files") or [])
    return {"ref": entry.ref, "files": files, "problems": problems}


def diff(reg: Registry, a: str, b: str) -> dict[str, Any]:
    """The differences from version ``a`` to ``b`` (``curate registry diff``'s data)."""
    return registry_diff(reg, a, b)


@dataclass(frozen=True)
class Node:
    """One version in a lineage graph; ``known`` is False for a parent this registry lacks."""

    ref: str
    known: bool
    rows: int | None = None
    layer: int = 0
    inputs: tuple[str, ...] = ()
    more_inputs: int = 0

    @property
    def name(self) -> str:
        return self.ref.split("@", 1)[0]

    @property
    def version(self) -> str:
        return self.ref.split("@", 1)[1] if "@" in self.ref else ""


@dataclass(frozen=True)
class Lineage:
    """The versions ``focus`` was made from and those made from it, with parent -> child edges.

    ``layer`` of a node is the length of the longest chain of parents above it in the graph,
    so every edge goes from a lower layer to a higher one.
    """

    focus: str
    nodes: tuple[Node, ...]
    edges: tuple[tuple[str, str], ...] = field(default=())

    def layers(self) -> list[list[Node]]:
        depth = max((n.layer for n in self.nodes), default=-1) + 1
        return [[n for n in self.nodes if n.layer == i] for i in range(depth)]


def _all_entries(reg: Registry) -> dict[str, Entry]:
    return {e.ref: e for name in reg.names() for e in reg.versions(name)}


def _walk(start: str, step: dict[str, list[str]]) -> set[str]:
    seen = {start}
    todo = deque([start])
    while todo:
        for nxt in step.get(todo.popleft(), []):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def layers_of(parents: dict[str, list[str]], members: set[str]) -> dict[str, int]:
    """The layer of each member: the longest chain of member parents above it.

    A parent outside ``members`` is ignored, and so is an edge that would close a cycle (a
    hand-edited manifest could make one), so every kept edge goes to a higher layer.

    >>> layers_of({"b": ["a"], "c": ["a", "b"]}, {"a", "b", "c"})
    {'a': 0, 'b': 1, 'c': 2}
    """
    layer: dict[str, int] = {}

    def depth(node: str, path: frozenset[str]) -> int:
        if node not in layer:
            ups = [u for u in parents.get(node, []) if u in members and u not in path]
            layer[node] = 1 + max((depth(u, path | {node}) for u in ups), default=-1)
        return layer[node]

    return {node: depth(node, frozenset()) for node in sorted(members)}


def lineage(reg: Registry, ref: str) -> Lineage:
    """The lineage graph around ``ref``: every ancestor and every descendant version."""
    focus = reg.entry(ref).ref
    entries = _all_entries(reg)
    parents = {r: list(e.parents) for r, e in entries.items()}
    children: dict[str, list[str]] = {}
    for child, ups in parents.items():
        for up in ups:
            children.setdefault(up, []).append(child)
    members = _walk(focus, parents) | _walk(focus, children)
    edges = sorted((up, r) for r in members for up in parents.get(r, []) if up in members)
    layer = layers_of(parents, members)
    nodes = []
    for r in sorted(members):
        entry = entries.get(r)
        inputs: list[str] = []
        if entry is not None and not entry.parents:
            lineage_of = reg.manifest(r).get("lineage") or {}
            inputs = [str(p) for p in ((lineage_of.get("inputs") or {}).get("paths") or [])]
        nodes.append(
            Node(
                ref=r,
                known=entry is not None,
                rows=entry.rows if entry is not None else None,
                layer=layer[r],
                inputs=tuple(inputs[:INPUTS_SHOWN]),
                more_inputs=max(0, len(inputs) - INPUTS_SHOWN),
            )
        )
    return Lineage(focus=focus, nodes=tuple(nodes), edges=tuple(edges))


def all_refs(reg: Registry) -> list[str]:
    """Every version of every dataset, by name then version: the choices of the diff form."""
    return [e.ref for name in reg.names() for e in reg.versions(name)]


def open_registry(location: str | None) -> Registry:
    """The served registry; a clear error when the app serves none."""
    if location is None:
        raise DataError(
            "this server has no registry",
            hint="start it with `curate serve REGISTRY_DIR` (or set CURATE_REGISTRY)",
        )
    from curate.registry.core import is_remote

    if not is_remote(location) and not (Path(location).expanduser() / "datasets").is_dir():
        # Opening a folder that is not a registry would create one: this app writes nothing.
        raise DataError(
            f"{location}: no registry with a published dataset here (no datasets/ folder)",
            hint="publish a dataset into it with `curate publish OUT NAME --registry "
            f"{location}`, or serve another registry",
        )
    return Registry(location)
