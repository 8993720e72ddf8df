"""``curate publish DATASET NAME``: publish into the registry, and optionally to the Hub."""

from __future__ import annotations

import click


@click.command()
@click.argument("dataset")
@click.argument("name")
@click.option("--version", help="Version X.Y.Z; default: the next one, from what changed.")
@click.option(
    "--registry",
    metavar="DIR|URL",
    help="Registry folder or fsspec URL, e.g. s3://bucket/prefix (default: $CURATE_REGISTRY "
    "or ~/.local/share/curate/registry).",
)
@click.option("--no-ledger", is_flag=True, help="Leave the removal ledger (curate/removed/) out.")
@click.option(
    "--allow-partial",
    is_flag=True,
    help="Publish a run made with --limit (its run report says partial); refused otherwise.",
)
@click.option("--hub", "hub_repo", metavar="ORG/NAME", help="Also push to this Hub dataset repo.")
@click.option("--revision", metavar="TAG", help="Hub tag for the version (default: vX.Y.Z).")
def publish(
    dataset: str,
    name: str,
    version: str | None,
    registry: str | None,
    no_ledger: bool,
    allow_partial: bool,
    hub_repo: str | None,
    revision: str | None,
) -> None:
    """Publish DATASET as an immutable version of NAME and print NAME@X.Y.Z."""
    from curate.io.urls import local_only
    from curate.registry import check_name, publish
    from curate.registry.hub import LEDGER, push, ready

    check_name(name)
    dataset = local_only(
        dataset,
        command="publish",
        fix="copy the files or the run folder here and publish the copy, or run the recipe with "
        "a local -o and publish that",
    )
    if revision and not hub_repo:
        raise click.UsageError("--revision tags the Hub copy; it needs --hub ORG/NAME")
    api = ready(hub_repo) if hub_repo else None  # fail before publishing or uploading anything
    result = publish(
        dataset,
        name,
        version=version,
        registry=registry,
        ledger=not no_ledger,
        allow_partial=allow_partial,
    )
    click.echo(result.ref)
    if not result.created:
        click.echo(f"{result.ref} already holds this content; nothing new was published", err=True)
    if hub_repo:
        tag = revision or f"v{result.ref.rsplit('@', 1)[-1]}"
        from curate.registry import Registry

        folder = Registry(registry).path(result.ref)  # a remote version is fetched first
        url = push(folder, hub_repo, ref=result.ref, tag=tag, api=api)
        click.echo(f"pushed to {url} (tag {tag})", err=True)
        kept = "it was left out (--no-ledger)" if no_ledger else f"it stays in {result.ref} only"
        click.echo(f"the removal ledger ({LEDGER}) was not uploaded: {kept}", err=True)
