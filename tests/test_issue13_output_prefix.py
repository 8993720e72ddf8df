"""``with: {output_prefix: P}``: a map stage's added columns are written as ``P<name>`` and the
input's columns of the same names keep their values (issue 13: the input's gold ``lang``)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from cli_process import run_cli

from curate.errors import RecipeError
from curate.recipe import parse_recipe
from curate.stages import get_stage

TEXTS = [
    "The weather is lovely today and we walked along the river.",
    "Le chat dort sur le canapé pendant que la pluie tombe dehors.",
    "Der Zug nach Berlin fährt heute eine Stunde später ab.",
    "The meeting was moved to Thursday afternoon at three.",
]
GOLD = ["en", "xx", "de", "en"]  # "xx": a gold label the model cannot produce


def _recipe(tmp_path: Path, stages: list[dict[str, object]], out: str = "out") -> Path:
    corpus = tmp_path / "in.jsonl"
    corpus.write_text(
        "".join(
            json.dumps({"text": t, "lang": g, "quality_word_count": 99}) + "\n"
            for t, g in zip(TEXTS, GOLD)
        )
    )
    recipe = tmp_path / f"{out}.yaml"
    recipe.write_text(
        yaml.safe_dump(
            {
                "name": "prefix",
                "input": {"path": str(corpus)},
                "stages": stages,
                "output": {"path": str(tmp_path / out)},
            }
        )
    )
    return recipe


def test_the_input_keeps_its_gold_language_next_to_the_prediction(
    tmp_path: Path, lid_model: Path
) -> None:
    stages: list[dict[str, object]] = [
        {"use": "score.language", "with": {"model": str(lid_model), "output_prefix": "pred_"}},
        {"use": "filter", "with": {"where": "pred_lang_score > 0.5"}},
    ]
    recipe = _recipe(tmp_path, stages)
    check = run_cli("check", str(recipe))
    assert check.returncode == 0, check.stderr
    assert "writes: pred_lang, pred_lang_score" in check.stdout
    assert "warning" not in check.stderr
    run = run_cli("run", str(recipe), "--quiet", "--workers", "2")
    assert run.returncode == 0, run.stderr
    assert "already has" not in run.stderr
    out = tmp_path / "out"
    table = pq.read_table(out / "data")
    names = table.column_names
    assert names.index("lang") < names.index("pred_lang")  # the input's column stays in place
    assert table.column("lang").to_pylist() == GOLD
    assert table.column("pred_lang").to_pylist() == ["en", "fr", "de", "en"]
    assert table.column("quality_word_count").to_pylist() == [99] * 4
    saved = json.loads((out / "curate" / "run.json").read_text())["recipe"]["stages"][0]
    assert saved["with"]["output_prefix"] == "pred_"

    card = (out / "README.md").read_text(encoding="utf-8")
    assert "| `pred_lang` | `string` | score.language | Language detected by fastText" in card
    assert "(`lang` written with the stage's output_prefix `pred_`)" in card
    assert "| `lang` | `string` | input |" in card
    doc = json.loads((out / "croissant.json").read_text())
    described = {f["name"]: f["description"] for f in doc["recordSet"][0]["field"]}
    assert "output_prefix `pred_`" in described["pred_lang_score"]


def test_without_the_prefix_the_gold_column_is_replaced_and_reported(
    tmp_path: Path, lid_model: Path
) -> None:
    recipe = _recipe(tmp_path, [{"use": "score.language", "with": {"model": str(lid_model)}}])
    check = run_cli("check", str(recipe))
    assert "writes 'lang', which the input already has" in check.stderr


def test_a_stage_that_only_rewrites_text_keeps_its_text_column() -> None:
    """redact.pii rewrites ``text`` (not an added column) and adds ``pii_count``."""
    import pyarrow as pa

    stage = get_stage("redact.pii")()
    stage.set_output_prefix("p_")
    assert stage.writes() == ("text", "p_pii_count")
    batch = pa.record_batch({"id": ["a"], "text": ["mail me at jane@corp.io"], "pii_count": [7]})
    out = stage.process(batch)
    assert out.column("text").to_pylist() == ["mail me at <EMAIL>"]
    assert out.column("pii_count").to_pylist() == [7]
    assert out.column("p_pii_count").to_pylist() == [1]


def test_an_input_column_of_the_prefixed_name_is_replaced(tmp_path: Path) -> None:
    import pyarrow as pa

    stage = get_stage("score.quality")(groups=["c4"])
    stage.set_output_prefix("p_")
    batch = pa.record_batch({"id": ["a"], "text": ["lorem ipsum."], "p_quality_lorem_ipsum": [0]})
    out = stage.process(batch)
    assert out.schema.names.count("p_quality_lorem_ipsum") == 1
    assert out.column("p_quality_lorem_ipsum").to_pylist() == [True]


@pytest.mark.parametrize(
    ("stage", "prefix", "message"),
    [
        ({"use": "dedup.exact"}, "p_", "dedup.exact is a global stage"),
        ({"use": "filter", "with": {"where": "true"}}, "p_", "filter adds no columns"),
        ({"use": "score.quality"}, "p-", "stages[0].output_prefix"),
        ({"use": "score.quality"}, "", "stages[0].output_prefix"),
    ],
)
def test_a_prefix_that_cannot_apply_is_refused(
    tmp_path: Path, stage: dict[str, object], prefix: str, message: str
) -> None:
    spec = {**stage, "with": {**dict(stage.get("with") or {}), "output_prefix": prefix}}  # type: ignore[call-overload]
    with pytest.raises(RecipeError) as err:
        parse_recipe(
            {"name": "p", "input": {"path": "x.jsonl"}, "stages": [spec], "output": {"path": "o"}}
        ).build_stages()
    assert message in err.value.message


def test_other_parameters_still_reach_the_stage() -> None:
    recipe = parse_recipe(
        {
            "name": "p",
            "input": {"path": "x.jsonl"},
            "stages": [{"use": "score.quality", "with": {"groups": ["c4"], "output_prefix": "q_"}}],
            "output": {"path": "o"},
        }
    )
    (stage,) = recipe.build_stages()
    assert all(n.startswith("q_quality_") for n in stage.writes())
    assert len(stage.writes()) == len(get_stage("score.quality")(groups=["c4"]).writes())
    assert recipe.resolved()["stages"][0]["with"]["output_prefix"] == "q_"
