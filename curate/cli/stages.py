"""``curate stages``: list stages, or show one stage's parameters and columns."""

from __future__ import annotations

import json
from typing import Any

import click


def stage_help(name: str) -> dict[str, Any]:
    """Everything documented about a stage, as data."""
    from pydantic_core import PydanticUndefined

    from curate.stages import get_stage

    cls = get_stage(name)
    params = []
    for pname, f in cls.model_fields.items():
        if f.default_factory is not None:
            default = f.get_default(call_default_factory=True, validated_data={})
        else:
            default = None if f.default is PydanticUndefined else f.default
        params.append(
            {
                "name": pname,
                "type": _type_name(f.annotation),
                "required": f.is_required(),
                "default": default,
                "description": f.description or "",
            }
        )
    return {
        "name": cls.name,
        "summary": cls.summary,
        "kind": cls.kind,
        "removes_rows": cls.removes_rows,
        "reasons": list(cls.reasons),
        "params": params,
        "doc": (cls.__doc__ or "").split("\n\n")[0].strip(),
    }


def _type_name(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) or str(annotation)
    return text.replace("typing.", "")


@click.command()
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def stages(name: str | None, as_json: bool) -> None:
    """List stages with a one-line summary; with NAME, its parameters, defaults and columns."""
    if name is None:
        from curate.stage_index import summaries

        # From the table of summaries: listing imports no stage module.
        rows = list(summaries().items())
        if as_json:
            click.echo(json.dumps(dict(rows), indent=2))
            return
        width = max(len(n) for n, _ in rows)
        for n, summary in rows:
            click.echo(f"{n:<{width}}  {summary}")
        return
    info = stage_help(name)
    if as_json:
        click.echo(json.dumps(info, indent=2, default=str))
        return
    click.echo(f"{info['name']}: {info['summary']}")
    click.echo(
        f"kind: {info['kind']}; {'removes rows' if info['removes_rows'] else 'keeps rows'}"
        + (f" (ledger reasons: {', '.join(info['reasons'])})" if info["reasons"] else "")
    )
    click.echo("parameters:")
    for p in info["params"]:
        default = "required" if p["required"] else f"default {p['default']!r}"
        click.echo(f"  {p['name']} ({p['type']}, {default})")
        if p["description"]:
            click.echo(f"      {p['description']}")
