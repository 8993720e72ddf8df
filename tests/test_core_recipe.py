"""Recipe validation: every mistake names the file, the field path and a fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from curate.errors import RecipeError
from curate.recipe import load_recipe, parse_recipe

BASE = {"name": "demo", "input": {"path": "in.jsonl"}, "output": {"path": "out"}}


def _recipe(**changes: object) -> dict[str, object]:
    return {**BASE, **changes}


def _error(data: object) -> RecipeError:
    with pytest.raises(RecipeError) as err:
        parse_recipe(data, source="r.yaml")
    return err.value


def test_unknown_top_level_key_suggests_the_right_one() -> None:
    err = _error(_recipe(stagse=[]))
    assert err.message == "r.yaml: stagse: unknown field"
    assert err.hint == "did you mean 'stages'?"


def test_unknown_input_key_has_path_and_hint() -> None:
    err = _error(_recipe(input={"path": "x", "text_colum": "body"}))
    assert err.message == "r.yaml: input.text_colum: unknown field"
    assert err.hint == "did you mean 'text_column'?"


def test_unknown_stage_suggests_a_close_name() -> None:
    err = _error(_recipe(stages=[{"use": "normalize"}, {"use": "filtr"}]))
    assert err.message == "r.yaml: stages[1].use: unknown stage 'filtr'"
    assert err.hint == "did you mean 'filter'?"


def test_bad_stage_parameter_has_the_full_path() -> None:
    err = _error(_recipe(stages=[{"use": "normalize", "with": {"form": "NFX"}}]))
    assert err.message.startswith("r.yaml: stages[0].with.form: Input should be")
    err = _error(_recipe(stages=[{"use": "normalize", "with": {"fom": "NFC"}}]))
    assert (err.message, err.hint) == (
        "r.yaml: stages[0].with.fom: unknown field",
        "did you mean 'form'?",
    )


def test_missing_required_fields() -> None:
    assert _error({"name": "x", "output": {"path": "o"}}).message == (
        "r.yaml: input: required field is missing"
    )
    err = _error(_recipe(stages=[{"use": "filter"}]))
    assert err.message == "r.yaml: stages[0].with.where: required field is missing"


def test_bad_filter_expression_is_a_recipe_error() -> None:
    err = _error(_recipe(stages=[{"use": "filter", "with": {"where": "lang ==="}}]))
    assert err.message.startswith(
        "r.yaml: stages[0].with.where: Value error, 'lang ===': cannot parse"
    )


def test_name_must_be_a_slug_and_recipe_a_mapping() -> None:
    assert "must be a slug" in _error(_recipe(name="My Recipe!")).message
    assert "a recipe is a YAML mapping" in _error(["not", "a", "mapping"]).message


def test_repeated_stages_get_numbered_labels_and_ids_must_be_unique() -> None:
    stages = [
        {"use": "filter", "with": {"where": "true"}},
        {"use": "filter", "with": {"where": "true"}, "id": "keep-all"},
        {"use": "filter", "with": {"where": "true"}},
    ]
    recipe = parse_recipe(_recipe(stages=stages))
    assert [s.label for s in recipe.stages] == ["filter#1", "keep-all", "filter#3"]
    dup = [{"use": "normalize", "id": "a"}, {"use": "filter", "with": {"where": "true"}, "id": "a"}]
    assert "id 'a' is used twice" in _error(_recipe(stages=dup)).message


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("name: x\ninput: {path: [a\nstages: []\n")
    with pytest.raises(RecipeError, match=r"r.yaml:\d+: not valid YAML"):
        load_recipe(path)
    with pytest.raises(RecipeError, match="cannot read recipe"):
        load_recipe(tmp_path / "absent.yaml")


def test_resolved_recipe_has_every_default() -> None:
    resolved = parse_recipe(_recipe(stages=[{"use": "normalize"}])).resolved()
    assert resolved["stages"][0] == {
        "use": "normalize",
        "id": "normalize",
        "with": {"form": "NFC", "fix_mojibake": True, "unescape_html": False, "whitespace": True},
    }
    assert resolved["input"]["on_error"] == "error"
    assert resolved["output"]["shard_rows"] == 100_000


def test_input_limits_and_split_are_validated() -> None:
    err = _error(_recipe(input={"path": "x", "max_chars": 0}))
    assert err.message.startswith("r.yaml: input.max_chars: Input should be greater than 0")
    recipe = parse_recipe(_recipe(input={"path": "x", "max_chars": None, "split": "test"}))
    assert (recipe.input.max_chars, recipe.input.split) == (None, "test")
    assert parse_recipe(_recipe()).input.max_chars == 10_000_000
