"""The card's "Mixture" section for a dataset built by ``curate mix``: the components, with the
share of the mixture each was asked for and the share it got."""

from __future__ import annotations

from typing import Any

from curate.card.facts import DatasetFacts
from curate.card.markdown import cell, code_span, table, text


def section(facts: DatasetFacts) -> str:
    """Markdown for the mixture table; empty for datasets that are not mixtures."""
    mixture = facts.run.get("mixture")
    if not isinstance(mixture, dict):
        return ""
    unit = str(mixture.get("weight_by") or "tokens")
    components: list[dict[str, Any]] = [
        c for c in mixture.get("components") or [] if isinstance(c, dict)
    ]
    rows = [
        (
            text(c.get("name")),
            code_span(c.get("ref")),
            cell(c.get("weight")),
            f"{100 * float(c.get('requested_share') or 0):.2f}%",
            f"{100 * float(c.get('achieved_share') or 0):.2f}%",
            cell(c.get("size")),
            f"{float(c.get('epochs') or 0):.2f}",
        )
        for c in components
    ]
    seed = (facts.recipe.get("seed") if facts.recipe else None) or 0
    return "\n\n".join(
        [
            f"This dataset is a mixture built by `curate mix` (seed {cell(seed)}): "
            f"{cell(mixture.get('total_achieved'))} {text(unit)} from {len(components)} "
            "components, each document copy with the id `<component>:<epoch>:<source id>`.",
            table(
                ["component", "source", "weight", "requested", "achieved", text(unit), "epochs"],
                rows,
            ),
        ]
    )
