"""Mixture recipes: which datasets, in which proportions, how many times each may repeat.

>>> r = parse_mixture({"name": "m", "components": [{"ref": "web@1.0.0", "weight": 3},
...     {"ref": "books@2.0.0", "weight": 1, "max_epochs": 4}], "output": {"path": "out/m"}})
>>> [round(s, 2) for s in r.shares()], r.weight_by
([0.75, 0.25], 'tokens')
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from curate.errors import RecipeError
from curate.recipe import _validation_error
from curate.sqlexpr import WhereError, parse_where


class Component(BaseModel):
    """One dataset of the mixture."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ref: str = Field(description="A registry ref (NAME@X.Y.Z, NAME@ALIAS) or any DATASET.")
    name: str | None = Field(None, description="Name in the mixture table; default the ref.")
    weight: float = Field(gt=0, description="Relative weight; weights are normalised to shares.")
    where: str | None = Field(None, description="A filter expression: only rows where it holds.")
    max_epochs: float = Field(
        1.0, gt=0, description="How many times the component's rows may be used at most."
    )
    temperature: float | None = Field(
        None,
        gt=0,
        description="Re-weight the component's languages (column `lang`) by share**(1/T): 1 keeps "
        "them, above 1 flattens them towards uniform.",
    )

    @field_validator("where")
    @classmethod
    def _where(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_where(value)
            except WhereError as exc:
                raise ValueError(str(exc)) from None
        return value

    @property
    def label(self) -> str:
        return self.name or self.ref


class MixOutput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(description="Folder the mixture is written to (a dataset folder).")
    shard_rows: int = Field(100_000, ge=1, description="Rows per output Parquet file.")


class MixPublish(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="Registry name to publish the mixture as.")
    version: str | None = Field(None, description="Version to publish as; default the next.")


class Mixture(BaseModel):
    """A validated mixture recipe."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", description="Slug of the mixture.")
    description: str | None = None
    seed: int = Field(0, description="Seed of the sampling; the same seed gives the same rows.")
    weight_by: Literal["tokens", "documents"] = Field(
        "tokens", description="Whether weights are shares of tokens or of documents."
    )
    tokens_column: str = Field(
        "n_tokens", description="Column with each document's tokens (score.tokens writes it)."
    )
    total: float | None = Field(
        None,
        gt=0,
        description="Size of the mixture in weight units; default the largest that no component's "
        "max_epochs forbids.",
    )
    components: list[Component] = Field(min_length=1)
    output: MixOutput
    publish: MixPublish | None = None

    @model_validator(mode="after")
    def _distinct(self) -> Mixture:
        labels = [c.label for c in self.components]
        if len(set(labels)) != len(labels):
            raise ValueError("two components have the same name; give each a `name:`")
        return self

    def shares(self) -> list[float]:
        """Each component's requested share of the mixture (weights normalised)."""
        total = sum(c.weight for c in self.components)
        return [c.weight / total for c in self.components]


def parse_mixture(data: Any, *, source: str = "mixture") -> Mixture:
    """Validate mixture recipe ``data`` (a mapping), naming the field of any error."""
    if not isinstance(data, dict):
        raise RecipeError(f"{source}: a mixture recipe is a mapping with name and components")
    try:
        return Mixture.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc, prefix=source, model=Mixture) from None


def load_mixture(path: str | Path) -> Mixture:
    """Read and validate a mixture recipe YAML file."""
    file = Path(path)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RecipeError(f"{file}: cannot read it as YAML ({exc})") from None
    return parse_mixture(data, source=str(file))
