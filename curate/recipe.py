"""Recipes: YAML loaded with ``yaml.safe_load`` and validated before any data is read.

Errors name the file, the field path and the fix, e.g.
``recipes/x.yaml: stages[2].with.threshold: must be between 0 and 1``.

>>> r = parse_recipe({"name": "demo", "input": {"path": "in.jsonl"},
...                   "stages": [{"use": "filter", "with": {"where": "length(text) > 3"}}],
...                   "output": {"path": "out/demo"}})
>>> [s.label for s in r.stages], r.build_stages()[0].where
(['filter'], 'length(text) > 3')
"""

from __future__ import annotations

import difflib
from collections import Counter
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from curate.errors import RecipeError
from curate.io.guards import DEFAULT_MAX_CHARS
from curate.io.writer import Compression
from curate.output_prefix import check_prefix
from curate.stage import Stage
from curate.stages import get_stage


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class InputSpec(_Model):
    """Where the corpus comes from and which columns hold the text and the ids."""

    path: str | list[str] = Field(
        description="File, glob, list, folder, registry ref NAME@X.Y.Z, hf://datasets/ORG/NAME, "
        "or any of these behind an fsspec URL (s3://, gs://, ...)."
    )
    text_column: str = Field("text", description="Column holding the document text.")
    id_column: str | None = Field(
        None,
        description="Column of unique ids; default: `id` when present, else generated "
        "as `<file>:<row>`.",
    )
    columns: list[str] | None = Field(
        None, description="Other columns to carry through (default: all)."
    )
    on_error: Literal["error", "skip"] = Field(
        "error", description="`skip` moves unreadable rows to the ledger instead of failing."
    )
    split: str | None = Field(
        None,
        description="The one split to read when the input has several (a DatasetDict folder, "
        "or files such as data/train-*.parquet and data/test-*.parquet); by default every "
        "split is read and kept apart in the output (data/{split}-*.parquet).",
    )
    max_chars: int | None = Field(
        DEFAULT_MAX_CHARS,
        gt=0,
        description="Documents longer than this many characters go to the ledger with reason "
        "`too-long` (null: no limit).",
    )


#: Parameters every stage accepts in ``with:``, handled by the recipe, not by the stage.
COMMON = ("overwrite", "output_prefix")


class StageSpec(_Model):
    """One step of the recipe: a stage name and its parameters."""

    use: str = Field(description="Stage name, see `curate stages`.")
    with_: dict[str, Any] = Field(
        default_factory=dict, alias="with", description="The stage's parameters."
    )
    id: str | None = Field(
        None,
        description="Label for reports and the ledger (default: the "
        "stage name, numbered when it repeats).",
    )
    label: str = Field("", exclude=True)
    overwrite: StrictBool = Field(
        False,
        exclude=True,
        description="Set in `with:` (`with: {overwrite: true}`), for any stage: the stage "
        "replaces input columns of the same name on purpose, so `curate check` and `curate "
        "run` do not warn about it.",
    )

    output_prefix: str | None = Field(
        None,
        exclude=True,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Set in `with:` (`with: {output_prefix: pred_}`), for any map stage: the "
        "columns the stage adds are written as `pred_<name>` (`pred_lang`), so input columns "
        "of the same names keep their values.",
    )

    @model_validator(mode="before")
    @classmethod
    def _common_fields(cls, data: Any) -> Any:
        """Take the fields every stage accepts out of ``with`` before the stage sees it."""
        params = data.get("with") if isinstance(data, dict) else None
        if not isinstance(params, dict):
            return data
        common = {k: params[k] for k in COMMON if k in params}
        if not common:
            return data
        rest = {k: v for k, v in params.items() if k not in COMMON}
        return {**data, "with": rest, **common}


class OutputSpec(_Model):
    """Where the curated dataset is written and how it is sharded."""

    path: str = Field(description="Output folder.")
    shard_rows: int = Field(
        100_000, gt=0, description="Rows per input shard and at most per output file."
    )
    shard_bytes: int = Field(
        512 << 20, gt=0, description="Uncompressed bytes at most per output file."
    )
    compression: Compression = Field("zstd", description="Parquet compression.")
    ledger_text: Literal["redact", "keep", "drop"] = Field(
        "redact",
        description="Text of removed documents in the ledger: redact (with the recipe's "
        "redact.pii redactor, when it has one), keep as read, or drop (null).",
    )


class Recipe(_Model):
    """A whole recipe."""

    name: str = Field(description="Slug naming the recipe and the dataset.")
    description: str = ""
    input: InputSpec
    stages: list[StageSpec] = Field(default_factory=list)
    output: OutputSpec
    card: dict[str, Any] = Field(default_factory=dict)
    audit: dict[str, Any] | None = None

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        import re

        if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,99}", value):
            raise ValueError("must be a slug: lowercase letters, digits, '.', '_' or '-'")
        return value

    def build_stages(self) -> list[Stage]:
        """Instantiate every stage from its parameters (raises RecipeError with paths)."""
        built: list[Stage] = []
        for i, spec in enumerate(self.stages):
            try:
                cls = get_stage(spec.use)
            except RecipeError as exc:
                raise RecipeError(f"stages[{i}].use: {exc.message}", hint=exc.hint) from exc
            try:
                stage = cls(**spec.with_)
            except ValidationError as exc:
                raise _validation_error(exc, prefix=f"stages[{i}].with", model=cls) from exc
            if spec.output_prefix:
                check_prefix(f"stages[{i}].output_prefix", spec.use, stage)
                stage.set_output_prefix(spec.output_prefix)
            built.append(stage)
        return built

    def resolved(self) -> dict[str, Any]:
        """The recipe with every default filled, stage parameters included."""
        data = self.model_dump(mode="json", by_alias=True)
        for spec, stage, out in zip(self.stages, self.build_stages(), data["stages"]):
            out["with"] = stage.params()
            if spec.overwrite:
                out["with"]["overwrite"] = True
            if spec.output_prefix:
                out["with"]["output_prefix"] = spec.output_prefix
            out["id"] = spec.label
        return data


def _label_stages(recipe: Recipe) -> None:
    counts = Counter(s.use for s in recipe.stages)
    seen: Counter[str] = Counter()
    for spec in recipe.stages:
        seen[spec.use] += 1
        spec.label = spec.id or (
            spec.use if counts[spec.use] == 1 else f"{spec.use}#{seen[spec.use]}"
        )
    labels = [s.label for s in recipe.stages]
    dup = [x for x, n in Counter(labels).items() if n > 1]
    if dup:
        raise RecipeError(f"stages: id {dup[0]!r} is used twice", hint="give each stage its own id")


def _loc(parts: tuple[int | str, ...]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _validation_error(
    exc: ValidationError, *, prefix: str = "", model: type[BaseModel] | None = None
) -> RecipeError:
    err = exc.errors()[0]
    loc = tuple(err["loc"])
    path = _loc(loc)
    where = f"{prefix}.{path}" if prefix and path else prefix or path
    hint = None
    if err["type"] == "extra_forbidden":
        known = list(model.model_fields) if model is not None else []
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = (
            f"did you mean {close[0]!r}?"
            if close
            else (f"known fields: {', '.join(known)}" if known else None)
        )
        return RecipeError(f"{where}: unknown field", hint=hint)
    if err["type"] == "missing":
        return RecipeError(f"{where}: required field is missing")
    return RecipeError(f"{where}: {err['msg']}", hint=hint)


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel]:
    sub: dict[str, type[BaseModel]] = {
        "input": InputSpec,
        "output": OutputSpec,
        "stages": StageSpec,
    }
    return sub.get(str(loc[0]), Recipe) if len(loc) > 1 else Recipe


def parse_recipe(data: Any, *, source: str = "recipe") -> Recipe:
    """Validate recipe data (a mapping) into a :class:`Recipe`, stages included."""
    if not isinstance(data, dict):
        raise RecipeError(f"{source}: a recipe is a YAML mapping with name, input, stages, output")
    try:
        recipe = Recipe.model_validate(data)
    except ValidationError as exc:
        loc = tuple(exc.errors()[0]["loc"])
        model = _model_at(tuple(p for p in loc if not isinstance(p, int)))
        err = _validation_error(exc, model=model)
        raise RecipeError(f"{source}: {err.message}", hint=err.hint) from exc
    try:
        _label_stages(recipe)
        recipe.build_stages()
        _validate_blocks(recipe)
    except RecipeError as exc:
        raise RecipeError(f"{source}: {exc.message}", hint=exc.hint) from exc
    return recipe


def _validate_blocks(recipe: Recipe) -> None:
    """Validate the ``card:`` and ``audit:`` blocks against their owners' option models."""
    from curate.card import CardOptions

    try:
        CardOptions.model_validate(recipe.card)
    except ValidationError as exc:
        raise _validation_error(exc, prefix="card", model=CardOptions) from exc
    if recipe.audit is not None:
        from curate.audit import AuditOptions

        try:
            AuditOptions.model_validate(recipe.audit)
        except ValidationError as exc:
            raise _validation_error(exc, prefix="audit", model=AuditOptions) from exc


def load_recipe(path: str | Path) -> Recipe:
    """Load and validate a YAML recipe file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise RecipeError(f"{p}: cannot read recipe ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        line = p.read_bytes()[: exc.start].count(b"\n") + 1
        raise RecipeError(
            f"{p}:{line}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start})",
            hint="save the recipe as UTF-8",
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise RecipeError(f"{p}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    recipe = parse_recipe(data, source=str(p))
    recipe.input.path = _near_recipe(recipe.input.path, p.parent)
    return recipe


def _near_recipe(spec: str | list[str], folder: Path) -> str | list[str]:
    """Relative input paths start from the current directory; when nothing is there but the
    path exists next to the recipe, use that, so a recipe runs from any directory."""
    if isinstance(spec, list):
        return [str(_near_recipe(s, folder)) for s in spec]
    import glob

    path = Path(spec)
    if path.is_absolute() or "://" in spec or glob.glob(spec):
        return spec
    beside = folder / path
    return str(beside) if glob.glob(str(beside)) else spec
