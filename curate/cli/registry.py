"""``curate registry list | show | path | verify | tag | untag | yank | delete | diff``."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import click

from curate.errors import CheckFailed

if TYPE_CHECKING:
    from curate.registry import Registry

_REGISTRY_OPTION = click.option(
    "--registry",
    "root",
    metavar="DIR|URL",
    help="Registry folder or fsspec URL, e.g. s3://bucket/prefix (default: $CURATE_REGISTRY "
    "or ~/.local/share/curate/registry).",
)


def _size(n: int) -> str:
    from curate.card.markdown import human_bytes

    return human_bytes(n)


@click.group()
def registry() -> None:
    """Query and manage the dataset registry.

    REF is NAME (the latest version that is not yanked), NAME@X.Y.Z or NAME@ALIAS.
    """


@registry.command("list")
@_REGISTRY_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def list_(root: str | None, as_json: bool) -> None:
    """Every dataset with its latest version, rows, size, license and date."""
    from curate.registry import Registry

    reg = Registry(root)
    entries = reg.latest_all()
    rows = [
        {
            "name": e.name,
            "latest": str(e.version),
            "versions": len(reg.versions(e.name)),
            "yanked": sorted(reg.records.yanked(e.name)),
            "aliases": reg.records.aliases(e.name),
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
        click.echo(f"the registry at {reg.location} is empty; add a dataset with `curate publish`")
        return
    table = [["NAME", "LATEST", "ROWS", "SIZE", "LICENSE", "DATE", "NOTES"]] + [
        [
            e.name,
            str(e.version),
            f"{e.rows:,}",
            _size(e.size),
            e.license or "-",
            e.created[:10],
            _notes(row),
        ]
        for e, row in zip(entries, rows, strict=True)
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _notes(row: Mapping[str, object]) -> str:
    yanked = row["yanked"]
    aliases = row["aliases"]
    notes = []
    if isinstance(yanked, list) and yanked:
        notes.append("yanked: " + ", ".join(yanked))
    if isinstance(aliases, dict) and aliases:
        notes.append(" ".join(f"@{k}={v}" for k, v in sorted(aliases.items())))
    return "; ".join(notes)


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
def show(ref: str, root: str | None, as_json: bool) -> None:
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
    by = manifest.get("published_by") or {}
    who = f" by {by.get('user')}@{by.get('host')} (curate {by.get('curate_version')})" if by else ""
    click.echo(f"  published {entry.created}{who}")
    yank = reg.yank_record(entry)
    if yank is not None:
        click.echo(f"  YANKED    {yank.get('at')}: {yank.get('reason')}")
    aliases = [
        f"@{k}"
        for k, v in sorted(reg.records.aliases(entry.name).items())
        if v == str(entry.version)
    ]
    if aliases:
        click.echo(f"  aliases   {', '.join(aliases)}")
    splits = ", ".join(f"{k} ({v['rows']:,})" for k, v in manifest.get("splits", {}).items())
    click.echo(f"  splits    {splits}")
    click.echo(f"  columns   {', '.join(f['name'] for f in manifest.get('schema', []))}")
    click.echo(f"  location  {reg.location}")
    others = [str(e.version) for e in reg.versions(entry.name)]
    click.echo(f"  versions  {', '.join(others)}")
    findings = (manifest.get("audit") or {}).get("findings") or []
    if findings:
        click.echo("audit findings:")
        for line in findings:
            click.echo(f"  - {line}")
    derived = reg.derived(entry.ref)
    if derived:
        click.echo("derived artifacts:")
        for record in derived:
            click.echo(f"  - {_artifact(record)}")
    click.echo("lineage:")
    for line in _lineage(reg, entry.ref, 1, set()):
        click.echo(line)
    reg.close()


def _artifact(record: dict[str, Any]) -> str:
    """One line for a derived artifact: kind, what it holds, where, when."""
    content = record.get("content") or {}
    what = record.get("kind", "artifact")
    if what == "export":
        what += (
            f" {content.get('format')} {content.get('tokens', 0):,} tokens, "
            f"{content.get('documents', 0):,} documents, seed {content.get('seed')}, tokenizer "
            f"sha256 {str((content.get('tokenizer') or {}).get('sha256'))[:12]}"
        )
    return f"{what} -> {record.get('location')} ({record.get('at')})"


@registry.command()
@click.argument("ref")
@_REGISTRY_OPTION
def path(ref: str, root: str | None) -> None:
    """Print the version folder (a Hugging Face dataset layout) to hand to any tool."""
    from curate.registry import Registry

    reg = Registry(root)
    click.echo(str(reg.path(ref).resolve()))
    reg.close()


@registry.command()
@click.argument("ref")
@_REGISTRY_OPTION
def verify(ref: str, root: str | None) -> None:
    """Recompute every checksum of a version; exit 1 naming each file that does not match."""
    from curate.registry import Registry

    reg = Registry(root)
    entry = reg.entry(ref)
    problems = reg.verify(entry.ref)
    count = len(reg.manifest(entry.ref)["files"]) if not problems else 0  # verify downloaded
    reg.close()
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise CheckFailed(
            f"{entry.ref}: {len(problems)} problem(s)\n{listing}",
            hint="restore the files or publish the dataset again as a new version",
        )
    click.echo(f"{entry.ref}: {count} files verified")


@registry.command()
@click.argument("ref")
@click.argument("alias")
@_REGISTRY_OPTION
def tag(ref: str, alias: str, root: str | None) -> None:
    """Point NAME@ALIAS at the version REF names (the alias's history is kept)."""
    from curate.registry import Registry

    reg = Registry(root)
    move = reg.tag(ref, alias)
    click.echo(f"{ref.split('@', 1)[0]}@{alias} -> {move.target} (move {move.seq})")


@registry.command()
@click.argument("ref", metavar="NAME@ALIAS")
@_REGISTRY_OPTION
def untag(ref: str, root: str | None) -> None:
    """Remove an alias (its history is kept)."""
    from curate.registry import Ref, Registry

    parsed = Ref.parse(ref)
    if parsed.alias is None:
        raise click.UsageError(f"{ref}: write NAME@ALIAS, e.g. web@stable")
    reg = Registry(root)
    reg.untag(parsed.name, parsed.alias)
    click.echo(f"{ref} removed")


@registry.command()
@click.argument("ref")
@click.option("--reason", required=True, help="Why the version is withdrawn (shown on load).")
@_REGISTRY_OPTION
def yank(ref: str, reason: str, root: str | None) -> None:
    """Withdraw a version: loads refuse it unless allow_yanked=True; NAME skips it."""
    from curate.registry import Registry

    reg = Registry(root)
    entry = reg.entry(ref)
    record = reg.yank(entry.ref, reason)
    click.echo(f"{entry.ref} yanked: {record['reason']}")


@registry.command()
@click.argument("ref", metavar="NAME@X.Y.Z")
@click.option("--yes", is_flag=True, help="Delete without asking.")
@_REGISTRY_OPTION
def delete(ref: str, yes: bool, root: str | None) -> None:
    """Delete a version and the blobs no other version uses; its number is never reused."""
    from curate.registry import Registry

    reg = Registry(root)
    entry = reg.pinned(ref)
    if not yes:
        click.confirm(f"delete {entry.ref} ({entry.rows:,} rows) for good?", abort=True)
    removed = reg.delete(entry.ref)
    reg.close()
    click.echo(f"{entry.ref} deleted; {len(removed)} unused blob(s) removed")


@registry.command()
@click.argument("a")
@click.argument("b")
@_REGISTRY_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the whole diff as JSON.")
def diff(a: str, b: str, root: str | None, as_json: bool) -> None:
    """What changed from version A to version B: documents, schema, card statistics."""
    from curate.registry import Registry
    from curate.registry.diff import diff as compute

    reg = Registry(root)
    result = compute(reg, a, b)
    reg.close()
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    for line in _diff_lines(result):
        click.echo(line)


def _diff_lines(result: dict[str, Any]) -> Iterator[str]:
    yield f"{result['a']} -> {result['b']}"
    docs = result["documents"]
    if docs is None:
        yield "  documents  not compared (no id column on one side)"
    else:
        yield f"  documents  +{docs['added']:,} -{docs['removed']:,} ({docs['kept']:,} kept)"
        for reason, n in (docs["removal_reasons"] or {}).items():
            yield f"    removed by {reason}: {n:,}"
    schema = result["schema"]
    for name in schema["added"]:
        yield f"  column +   {name}"
    for name in schema["removed"]:
        yield f"  column -   {name}"
    for name, (old, new) in schema["retyped"].items():
        yield f"  column ~   {name}: {old} -> {new}"
    sa, sb = result["stats"]["a"], result["stats"]["b"]
    for key in ("rows", "tokens", "toxicity_mean"):
        if key in sa or key in sb:
            yield f"  {key:<10} {_num(sa.get(key))} -> {_num(sb.get(key))}"
    for key in ("languages", "identities"):
        old, new = sa.get(key) or {}, sb.get(key) or {}
        for k in sorted(set(old) | set(new)):
            if old.get(k) != new.get(k):
                label = "identity" if key == "identities" else "language"
                yield f"  {label} {k}: {_pct(old.get(k))} -> {_pct(new.get(k))}"


def _num(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return f"{value:,}" if isinstance(value, int) else "-"


def _pct(value: object) -> str:
    return f"{value:.1%}" if isinstance(value, float) else "-"
