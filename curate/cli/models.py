"""``curate models``: list the model assets and where each one is; fetch one into the cache."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from curate import models as assets


def asset_status(name: str) -> dict[str, Any]:
    """Where asset ``name`` is on this machine, with its checksum and license, as data."""
    asset = assets.get_asset(name)
    loc = assets.locate(name)
    if asset.kind == "hf-classifier":
        # A Hub model: transformers reads it from the Hugging Face cache, not curate's.
        status, path = "hub", f"hf:{asset.filename} (Hugging Face cache)"
    else:
        status = loc.origin if loc.path is not None or loc.origin == "corrupt" else "missing"
        path = str(loc.path if loc.path is not None else loc.expected)
    return {
        "name": asset.name,
        "file": asset.filename,
        "status": status,
        "problem": loc.problem,
        "kind": asset.kind,
        "path": path,
        "env": asset.env_var,
        "sha256": asset.sha256,
        "size": asset.size,
        "license": asset.license,
        "urls": list(asset.urls),
        "wheel": None if asset.wheel is None else f"{asset.wheel.wheel}:{asset.wheel.member}",
        "description": asset.description,
    }


@click.group("models")
def models() -> None:
    """Model assets: where each is, its checksum and license; fetch one into the cache."""


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def list_models(as_json: bool) -> None:
    """List every model asset, where it is found (or that it is missing), and its license."""
    rows = [asset_status(name) for name in sorted(assets.ASSETS)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    header = ("NAME", "STATUS", "SIZE", "LICENSE", "SHA256", "PATH")
    lines = [header]
    for r in rows:
        status = {"env": f"${r['env']}"}.get(r["status"], r["status"])
        where = {
            "missing": f"(put it at) {r['path']}",
            "corrupt": f"(damaged: {r['problem']}; pull again) {r['path']}",
        }.get(r["status"], r["path"])
        digest = r["sha256"][:12] or "-"
        size = f"{r['size']:,}" if r["size"] else "?"
        lines.append((r["name"], status, size, r["license"], digest, where))
    widths = [max(len(row[i]) for row in lines) for i in range(len(header) - 1)]
    for row in lines:
        cells = [cell.ljust(w) for cell, w in zip(row, widths)]
        click.echo("  ".join([*cells, row[-1]]))


@models.command("pull")
@click.argument("name")
@click.option("--force", is_flag=True, help="Download again even if the cache has a good copy.")
def pull(name: str, force: bool) -> None:
    """Fetch model asset NAME into the cache, verifying its sha256, and print its path."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(name, total=None)

        def progress(done: int, total: int | None, what: str) -> None:
            bar.update(task, completed=done, total=total, description=what)

        path = assets.pull(name, progress=progress, force=force)
    click.echo(str(path))
