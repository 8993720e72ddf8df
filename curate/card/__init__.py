"""Dataset cards (``OUT/README.md``) and Croissant metadata (``OUT/croissant.json``).

A card is rebuilt from the dataset folder every time: facts come from the Parquet files, the run
report and the audit; author-provided fields come from the recipe's ``card:`` block, from
``curate card --set`` (kept in ``OUT/curate/card.json``) and from the author-written sections of
the previous card, which are carried over.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from curate.card import prompts, stats
from curate.card.facts import DatasetFacts, gather
from curate.card.options import AUTHOR_SECTIONS, CardOptions
from curate.errors import RecipeError
from curate.io.atomic import write_text_atomic

log = logging.getLogger(__name__)

#: Author fields set with ``curate card --set``, relative to the dataset folder.
SET_FIELDS = Path("curate") / "card.json"

__all__ = [
    "SET_FIELDS",
    "CardOptions",
    "DatasetFacts",
    "gather",
    "options_for",
    "parse_assignment",
    "set_fields",
    "write_card",
]


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename, with the process umask
    (a card in a shared folder is as readable as any other file written there)."""
    write_text_atomic(path, text)


def _validated(data: Mapping[str, Any], source: str) -> CardOptions:
    try:
        return CardOptions(**data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise RecipeError(
            f"{source}: card.{where}: {first['msg']}",
            hint="run `curate card --help` or see docs/cards.md for the card fields",
        ) from exc


def options_for(facts: DatasetFacts, fields: Mapping[str, Any] | None = None) -> CardOptions:
    """Author fields for a dataset: recipe ``card:`` (or ``fields``), then ``--set`` values,
    then author text carried over from the existing card for sections still unset."""
    merged: dict[str, Any] = {}
    recipe_card = facts.recipe.get("card")
    if fields is None and isinstance(recipe_card, dict):
        fields = recipe_card
    merged.update(fields or {})
    stored = facts.root / SET_FIELDS
    if stored.is_file():
        merged.update(json.loads(stored.read_text(encoding="utf-8")))
    readme = facts.root / "README.md"
    if readme.is_file():
        for key, text in prompts.carried_over(readme.read_text(encoding="utf-8")).items():
            if key in AUTHOR_SECTIONS and not merged.get(key):
                merged[key] = text
    return _validated(merged, str(stored if stored.is_file() else facts.root))


def parse_assignment(text: str) -> tuple[str, Any]:
    """``key=value`` from ``--set``; the value is read as YAML (``[a, b]`` is a list), other
    scalars stay text, so ``--set pretty_name=2024`` is the string "2024".

    >>> parse_assignment("tags=[web, en]"), parse_assignment("license=mit")
    (('tags', ['web', 'en']), ('license', 'mit'))
    >>> parse_assignment("homepage=")
    ('homepage', None)
    """
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise RecipeError(
            f"--set {text!r}: expected KEY=VALUE", hint="e.g. --set license=cc-by-4.0"
        )
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    if value is not None and not isinstance(value, (str, list)):
        value = raw.strip()
    return key.strip(), value


def set_fields(root: Path, assignments: Mapping[str, Any]) -> CardOptions:
    """Store author fields in ``root/curate/card.json`` (a ``None`` value removes the field);
    return the merged, validated options. Nothing is stored when validation fails."""
    path = Path(root) / SET_FIELDS
    stored: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    for key, value in assignments.items():
        if value is None:
            stored.pop(key, None)
        else:
            stored[key] = value
    _validated(stored, f"{path} (--set)")
    atomic_write(path, json.dumps(stored, indent=2, sort_keys=True) + "\n")
    return options_for(gather(Path(root)))


def write_card(
    out_dir: Path,
    *,
    fields: Mapping[str, Any] | None = None,
    ref: str | None = None,
    version: str | None = None,
    hub_repo: str | None = None,
    checksums: Mapping[str, str] | None = None,
) -> Path:
    """Write ``out_dir/README.md`` and ``out_dir/croissant.json``; return the README path.

    ``fields`` are the recipe's ``card:`` block (``None`` reads it from the run report); ``ref``
    (``NAME@X.Y.Z``), ``version`` and ``hub_repo`` add registry and Hub details; ``checksums``
    (relative path -> sha256) spares re-hashing files whose digest the caller knows.
    """
    # Imported here: they pull in `datasets`, which recipe validation must not pay for.
    from curate.card.croissant import write_croissant
    from curate.card.metadata import card_languages
    from curate.card.render import render

    out_dir = Path(out_dir)
    facts = gather(out_dir)
    options = options_for(facts, fields)
    counts = stats.language_counts(facts)
    readme = out_dir / "README.md"
    text = render(facts, options, languages=counts, ref=ref, hub_repo=hub_repo)
    atomic_write(readme, text)
    languages = options.language or card_languages(counts, sum(counts.values()))
    url = f"https://huggingface.co/datasets/{hub_repo}" if hub_repo else None
    write_croissant(
        facts, options, languages=languages, url=url, version=version, checksums=checksums
    )
    log.debug("wrote %s", readme)
    return readme
