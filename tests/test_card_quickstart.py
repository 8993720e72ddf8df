"""The card and Croissant of an actual ``curate run`` of recipes/quickstart.yaml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from curate.card.check import check_card, split_front_matter
from curate.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_quickstart_run_writes_a_valid_card_and_croissant(
    tmp_path: Path,
    lid_model: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    recipe_path = ROOT / "recipes" / "quickstart.yaml"
    if not recipe_path.exists():
        pytest.skip("recipes/quickstart.yaml is not there yet")
    monkeypatch.setenv("CURATE_LID_MODEL", str(lid_model))
    monkeypatch.chdir(ROOT)  # the recipe's input path is relative to the project
    recipe = yaml.safe_load(recipe_path.read_text())
    recipe.pop("audit", None)  # the audit has its own tests; this one is about the card
    recipe["output"]["path"] = str(tmp_path / "quickstart")
    (tmp_path / "quickstart.yaml").write_text(yaml.safe_dump(recipe))
    try:
        main(["run", str(tmp_path / "quickstart.yaml")])
    except SystemExit as exc:
        assert exc.code in (0, None), capsys.readouterr().err
    out = tmp_path / "quickstart"
    assert check_card(out) == []
    front, body = split_front_matter((out / "README.md").read_text())
    meta = yaml.safe_load(front or "")
    run = json.loads((out / "curate" / "run.json").read_text())
    assert meta["dataset_info"]["splits"][0]["num_examples"] == run["rows_out"]
    assert meta["license"] == recipe["card"]["license"]
    assert "en" in meta["language"]
    assert "| `lang` | `string` | score.language |" in body
    assert "This dataset was not audited" in body

    mlc = pytest.importorskip("mlcroissant")
    records = list(mlc.Dataset(jsonld=out / "croissant.json").records("default"))
    assert len(records) == run["rows_out"]
