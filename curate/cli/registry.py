"""``curate registry list | show REF | path REF | verify REF``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from curate.errors import CheckFailed

if TYPE_CHECKING:
    from curate.registry import Registry

_REGISTRY_OPTION = click.option(
    "--registry",
    "root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Registry folder (default: $CURATE_REGISTRY or ~/.local/share/curate/registry).",
)


def _size(n: int) -> str:
    from curate.card.markdown import human_bytes

    return human_bytes(n)


@click.group()
def registry() -> None:
    """Query the dataset registry. REF is NAME (the latest version) or NAME@X.Y.Z."""


@registry.command("list")
@_REGISTRY_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def list_(root: Path | None, as_json: bool) -> None:
    """Every dataset with its latest version, rows, size, license and date."""
    from curate.registry import Registry

    reg = Registry(root)
    entries = reg.latest_all()
    rows = [
        {
            "name": e.name,
            "latest": str(e.version),
            "versions": len(reg.versions(e.name)),
            "rows": e.rows,
            "size": e.size,
            "license": e.license,
            "created": e.created,
        }
        for e in entries
    ]
    reg.close()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo(f"the registry at {reg.root} is empty; add a dataset with `curate publish`")
        return
    table = [["NAME", "LATEST", "ROWS", "SIZE", "LICENSE", "DATE"]] + [
        [e.name, str(e.version), f"{e.rows:,}", _size(e.size), e.license or "-", e.created[:10]]
        for e in entries
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _lineage(reg: Registry, ref: str, depth: int, seen: set[str]) -> Iterator[str]:
    """The version, then its parent versions indented below it (inputs for a root)."""
    from curate.errors import DataError

    pad = "  " * depth
    if ref in seen:
        yield f"{pad}{ref} (see above)"
        return
    seen.add(ref)
    try:
        manifest = reg.manifest(ref)
    except DataError:
        yield f"{pad}{ref} (not in this registry)"
        return
    inputs = (manifest.get("lineage") or {}).get("inputs") or {}
    parents = (manifest.get("lineage") or {}).get("parents") or []
    yield f"{pad}{manifest['ref']}  ({manifest['rows']:,} rows)"
    for parent in parents:
        yield from _lineage(reg, parent, depth + 1, seen)
    if not parents:
        for path in (inputs.get("paths") or [])[:5]:
            yield f"{pad}  {path}"
        more = len(inputs.get("paths") or []) - 5
        if more > 0:
            yield f"{pad}  ... and {more} more input files"


@registry.command()
@click.argument("ref")
@_REGISTRY_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
def show(ref: str, root: Path | None, as_json: bool) -> None:
    """A version's card summary, files and lineage tree."""
    from curate.registry import Registry

    reg = Registry(root)
    entry = reg.entry(ref)
    manifest = reg.manifest(entry.ref)
    if as_json:
        click.echo(json.dumps(manifest, indent=2))
        reg.close()
        return
    recipe = (manifest.get("lineage") or {}).get("recipe") or {}
    click.echo(f"{entry.ref}  {entry.pretty_name or ''}".rstrip())
    if recipe.get("description"):
        click.echo(f"  {recipe['description']}")
    click.echo(f"  rows      {entry.rows:,}")
    click.echo(f"  size      {_size(entry.size)}")
    click.echo(f"  license   {entry.license or 'not stated'}")
    click.echo(f"  published {entry.created}")
    splits = ", ".join(f"{k} ({v['rows']:,})" for k, v in manifest.get("splits", {}).items())
    click.echo(f"  splits    {splits}")
    click.echo(f"  columns   {', '.join(f['name'] for f in manifest.get('schema', []))}")
    click.echo(f"  folder    {reg.folder(entry)}")
    others = [str(e.version) for e in reg.versions(entry.name)]
    click.echo(f"  versions  {', '.join(others)}")
    findings = (manifest.get("audit") or {}).get("findings") or []
    if findings:
        click.echo("audit findings:")
        for line in findings:
            click.echo(f"  - {line}")
    click.echo("lineage:")
    for line in _lineage(reg, entry.ref, 1, set()):
        click.echo(line)
    reg.close()


@registry.command()
@click.argument("ref")
@_REGISTRY_OPTION
def path(ref: str, root: Path | None) -> None:
    """Print the version folder (a Hugging Face dataset layout) to hand to any tool."""
    from curate.registry import Registry

    reg = Registry(root)
    click.echo(str(reg.path(ref).resolve()))
    reg.close()


@registry.command()
@click.argument("ref")
@_REGISTRY_OPTION
def verify(ref: str, root: Path | None) -> None:
    """Recompute every checksum of a version; exit 1 naming each file that does not match."""
    from curate.registry import Registry

    reg = Registry(root)
    entry = reg.entry(ref)
    problems = reg.verify(entry.ref)
    count = len(reg.manifest(entry.ref)["files"]) if not problems else 0
    reg.close()
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise CheckFailed(
            f"{entry.ref}: {len(problems)} problem(s)\n{listing}",
            hint="restore the files or publish the dataset again as a new version",
        )
    click.echo(f"{entry.ref}: {count} files verified")
