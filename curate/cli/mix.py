"""``curate mix RECIPE [-o DIR]``: build a mixture of datasets and publish it if the recipe says."""

from __future__ import annotations

import click


@click.command()
@click.argument("recipe", type=click.Path(dir_okay=False))
@click.option("-o", "--output", default=None, help="Folder to write to, instead of output.path.")
def mix(recipe: str, output: str | None) -> None:
    """Build the mixture RECIPE describes as a dataset folder (and a registry version)."""
    from curate.mix.build import build_mixture
    from curate.mix.recipe import load_mixture

    mixture = load_mixture(recipe)
    report = build_mixture(mixture, out=output)
    table = report["mixture"]
    unit = table["weight_by"]
    click.echo(f"{report['rows_out']:,} documents, {table['total_achieved']:,} {unit}")
    for c in table["components"]:
        click.echo(
            f"  {c['name']:<24} requested {c['requested_share']:7.2%}  achieved "
            f"{c['achieved_share']:7.2%}  ({c['epochs']:.2f} epochs)"
        )
    target = output or mixture.output.path
    if mixture.publish is not None:
        from curate.registry import publish

        published = publish(target, mixture.publish.name, version=mixture.publish.version)
        click.echo(published.ref)
    else:
        click.echo(f"wrote {target}")
