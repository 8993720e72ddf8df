"""Dataset card and Croissant rendering: golden files for a fixed run, author fields, loading."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_card_fixture import make_run

from curate.card import CardOptions, parse_assignment, set_fields, write_card
from curate.card.check import check_card, split_front_matter
from curate.errors import RecipeError

GOLDEN = Path(__file__).parent / "golden" / "card"


def _mask_card(text: str) -> str:
    """Hide what depends on the Parquet writer's version (byte sizes), nothing else."""
    text = re.sub(r"\b(num_bytes|download_size|dataset_size): \d+", r"\1: N", text)
    return re.sub(r"\d+(\.\d)? (B|KiB|MiB)\b", "SIZE", text)


def _mask_croissant(doc: dict[str, object]) -> dict[str, object]:
    text = json.dumps(doc, indent=2, sort_keys=True)
    text = re.sub(r'"sha256": "[0-9a-f]{64}"', '"sha256": "SHA256"', text)
    text = re.sub(r'"contentSize": "\d+ B"', '"contentSize": "SIZE"', text)
    masked: dict[str, object] = json.loads(text)
    return masked


def _compare(path: Path, actual: str) -> None:
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(actual)
    assert path.exists(), f"{path} missing: run with UPDATE_GOLDEN=1 once and review it"
    assert actual == path.read_text(), f"differs from {path}; UPDATE_GOLDEN=1 if intended"


def test_card_matches_golden(tmp_path: Path) -> None:
    out = make_run(tmp_path / "out" / "web-sample", card=True)
    _compare(GOLDEN / "web-sample.README.md", _mask_card((out / "README.md").read_text()))


def test_croissant_matches_golden(tmp_path: Path) -> None:
    out = make_run(tmp_path / "run", card=True)
    doc = json.loads((out / "croissant.json").read_text())
    masked = json.dumps(_mask_croissant(doc), indent=2, sort_keys=True) + "\n"
    _compare(GOLDEN / "web-sample.croissant.json", masked)


def test_front_matter_is_data_the_hub_understands(tmp_path: Path) -> None:
    out = make_run(tmp_path / "run", card=True)
    front, body = split_front_matter((out / "README.md").read_text())
    meta = yaml.safe_load(front or "")
    assert meta["license"] == "cc-by-4.0"
    assert meta["language"] == ["de", "en", "fr"]
    assert meta["multilinguality"] == "multilingual"
    assert meta["size_categories"] == ["n<1K"]
    assert meta["configs"] == [
        {"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*"}]}
    ]
    assert meta["dataset_info"]["splits"][0]["num_examples"] == 48
    features = {f["name"]: f for f in meta["dataset_info"]["features"]}
    assert features["identities"] == {"name": "identities", "list": "string"}
    assert "## Bias, Risks, and Limitations" in body
    assert "religion/muslim" in body  # the audit's findings, as sentences
    assert check_card(out) == []


def test_croissant_is_valid_for_mlcroissant(tmp_path: Path) -> None:
    mlc = pytest.importorskip("mlcroissant")
    out = make_run(tmp_path / "run", n=20, card=True)
    dataset = mlc.Dataset(jsonld=out / "croissant.json")
    records = list(dataset.records("default"))
    assert len(records) == 20
    assert records[0]["default/id"] == b"doc-0-0000"
    doc = json.loads((out / "croissant.json").read_text())
    assert "Toxic documents are 1.8 times" in " ".join(doc["rai:dataBiases"])
    assert doc["rai:dataLimitations"]
    files = [d for d in doc["distribution"] if d["@type"] == "cr:FileObject"]
    assert len(files) == 2 and all(len(f["sha256"]) == 64 for f in files)


def test_author_text_written_in_the_card_survives_rerendering(tmp_path: Path) -> None:
    out = make_run(tmp_path / "run", card=True)
    readme = out / "README.md"
    text = readme.read_text()
    edited = re.sub(
        r"(<!-- curate:author motivation -->\n).*?(\n<!-- /curate:author -->)",
        r"\1Built to test curate's cards.\2",
        text,
        flags=re.S,
    )
    readme.write_text(edited)
    write_card(out)
    again = readme.read_text()
    assert "Built to test curate's cards." in again
    assert again.count("_[To be written by the dataset author:") == 5  # the other prompts


def test_set_fields_persist_and_override_the_recipe(tmp_path: Path) -> None:
    out = make_run(tmp_path / "run", card=True)
    set_fields(out, dict([parse_assignment("license=mit"), parse_assignment("authors=Ada, Bo")]))
    write_card(out)
    front, body = split_front_matter((out / "README.md").read_text())
    assert yaml.safe_load(front or "")["license"] == "mit"
    assert "Ada, Bo" in body
    set_fields(out, {"license": None})  # removing the override brings the recipe's back
    write_card(out)
    front, _ = split_front_matter((out / "README.md").read_text())
    assert yaml.safe_load(front or "")["license"] == "cc-by-4.0"


def test_invalid_set_field_is_refused_and_not_stored(tmp_path: Path) -> None:
    out = make_run(tmp_path / "run")
    with pytest.raises(RecipeError, match="colour"):
        set_fields(out, {"colour": "blue"})
    assert not (out / "curate" / "card.json").exists()


def test_other_license_needs_name_and_link(tmp_path: Path) -> None:
    out = make_run(tmp_path / "run")
    fields = {"license": "other", "license_name": "acme-1.0", "license_link": "LICENSE.md"}
    write_card(out, fields=fields)
    front, _ = split_front_matter((out / "README.md").read_text())
    meta = yaml.safe_load(front or "")
    assert (meta["license_name"], meta["license_link"]) == ("acme-1.0", "LICENSE.md")
    assert check_card(out) == []
    write_card(out, fields={"license": "other"})
    problems = check_card(out)
    assert "license_name: required when license is 'other'" in problems


def test_card_without_run_report_or_audit_still_renders(tmp_path: Path) -> None:
    out = make_run(tmp_path / "run", audit=False)
    (out / "curate" / "run.json").unlink()
    write_card(out, fields={"license": "odc-by"})
    text = (out / "README.md").read_text()
    assert "This dataset was not audited" in text
    assert "No run report" in text
    assert check_card(out) == []


def test_card_options_reject_unknown_fields() -> None:
    with pytest.raises(ValueError, match="extra"):
        CardOptions.model_validate({"licence": "mit"})


def test_load_snippet_in_the_card_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = make_run(tmp_path / "out" / "web-sample", n=12, card=True)
    text = (out / "README.md").read_text()
    snippet = re.search(r"## How to Load.*?```python\n(.*?)```", text, flags=re.S)
    assert snippet is not None
    monkeypatch.chdir(out)  # the snippet's path is relative to the card
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf"))
    scope: dict[str, object] = {}
    exec(snippet.group(1).replace("print(ds)", ""), scope)
    dataset: Any = scope["ds"]
    assert dataset.num_rows == 12


def test_python_in_the_cards_page_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("mlcroissant")
    make_run(tmp_path / "out" / "web-sample", n=6, card=True)
    monkeypatch.chdir(tmp_path)
    page = Path(__file__).resolve().parent.parent / "docs" / "cards.md"
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)
    assert len(blocks) == 2
    for block in blocks:
        exec(compile(block, str(page), "exec"), {})


def test_audit_without_findings_still_reports_flagged_filter_impact(tmp_path: Path) -> None:
    out = make_run(tmp_path / "run")
    audit_path = out / "curate" / "audit" / "audit.json"
    audit = json.loads(audit_path.read_text())
    del audit["findings"]
    audit_path.write_text(json.dumps(audit))
    write_card(out)
    text = (out / "README.md").read_text()
    assert "Stage `filter` removed documents mentioning `religion/muslim` at 2.0 times" in text
    doc = json.loads((out / "croissant.json").read_text())
    assert doc["rai:dataBiases"][0].startswith("Stage `filter` removed")
