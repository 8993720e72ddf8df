"""``curate card --check``: offline validation of good and broken cards."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from test_card_fixture import make_run

from curate.card import write_card
from curate.card.check import check_card, split_front_matter
from curate.card.prompts import QUESTIONS
from curate.cli import main


def _invoke(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _edit_front_matter(out: Path, change: Callable[[dict[str, object]], None]) -> None:
    readme = out / "README.md"
    front, body = split_front_matter(readme.read_text())
    meta = yaml.safe_load(front or "")
    change(meta)
    readme.write_text("---\n" + yaml.safe_dump(meta, sort_keys=False) + "---\n" + body)


@pytest.fixture
def run(tmp_path: Path) -> Path:
    return make_run(tmp_path / "run", n=16, card=True)


def test_good_card_passes_from_the_cli(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("mlcroissant")
    code, out, err = _invoke(["card", str(run), "--check"], capsys)
    assert code == 0, err
    assert out.strip().endswith(
        "README.md: valid (croissant.json validated with mlcroissant), 6 warning(s)"
    )
    warnings = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 6  # the six author sections nobody answered yet
    assert warnings == err.splitlines()  # and no other line
    assert "'Curation Rationale' still holds the `_[To be written by the dataset author:" in err
    assert "--set motivation=..." in err


def test_strict_fails_on_placeholders_until_they_are_answered(
    run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _invoke(["card", str(run), "--check", "--strict"], capsys)
    assert code == 1
    assert "6 problem(s)" in err and "'Maintenance' still holds" in err
    assert "answer the prompts with `curate card" in err
    answers = [f"--set={key}=Written by the author." for key in QUESTIONS]
    assert _invoke(["card", str(run), *answers], capsys)[0] == 0
    code, out, err = _invoke(["card", str(run), "--check", "--strict"], capsys)
    assert (code, "warning" in err) == (0, False), err
    assert "valid" in out and "warning(s)" not in out


def test_strict_needs_check(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _invoke(["card", str(run), "--strict"], capsys)
    assert code == 2 and "--strict only applies to --check" in err


def test_check_says_when_mlcroissant_is_not_there(
    run: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "mlcroissant" else real(name)
    )
    code, out, err = _invoke(["card", str(run), "--check"], capsys)
    assert code == 0, err
    assert "note: croissant.json: not validated with mlcroissant, which is not installed" in err
    assert "validated with mlcroissant" not in out


def test_croissant_that_mlcroissant_rejects_fails_the_check(run: Path) -> None:
    pytest.importorskip("mlcroissant")
    path = run / "croissant.json"
    doc = json.loads(path.read_text())
    doc["recordSet"][0]["field"][0]["source"]["extract"] = {"column": ""}
    path.write_text(json.dumps(doc))
    problems = check_card(run)
    assert len(problems) == 1
    assert problems[0].startswith("croissant.json: mlcroissant ")
    assert "rejects it" in problems[0] and "Extract should have" in problems[0]


def test_unnamed_index_column_keeps_croissant_valid(run: Path) -> None:
    """A CSV's index column has the header "": Croissant cannot name it, so it is left out."""
    pytest.importorskip("mlcroissant")
    for shard in (run / "data").glob("*.parquet"):
        table = pq.read_table(shard)
        pq.write_table(table.add_column(0, "", pa.array(range(table.num_rows))), shard)
    write_card(run)
    doc = json.loads((run / "croissant.json").read_text())
    fields = [f["name"] for f in doc["recordSet"][0]["field"]]
    assert "" not in fields and fields[0] == "id"
    assert "1 unnamed column(s)" in doc["recordSet"][0]["description"]
    assert check_card(run) == []


BROKEN: dict[str, tuple[Callable[[dict[str, object]], None], str]] = {
    "license": (lambda m: m.update(license="cc-by-9.9"), "license: 'cc-by-9.9' is not a Hub"),
    "language": (lambda m: m.update(language=["en", "klingon"]), "language: 'klingon'"),
    "size": (lambda m: m.update(size_categories=["huge"]), "size_categories: 'huge'"),
    "task": (lambda m: m.update(task_categories=["cooking"]), "task_categories: 'cooking'"),
    "multi": (lambda m: m.update(multilinguality="many"), "multilinguality: 'many'"),
    "creators": (lambda m: m.update(annotations_creators=["robots"]), "annotations_creators"),
    "pretty_name": (lambda m: m.pop("pretty_name"), "pretty_name: missing"),
    "configs": (
        lambda m: m.update(configs=[{"config_name": "default", "data_files": "nowhere/*"}]),
        "configs[0].data_files[0]: 'nowhere/*' matches no file",
    ),
    "rows": (
        lambda m: m["dataset_info"]["splits"][0].update(num_examples=99),  # type: ignore[index]
        "num_examples add up to 99, the data has 16 rows",
    ),
    "features": (
        lambda m: m["dataset_info"]["features"].pop(),  # type: ignore[index]
        "dataset_info.features: differ from the Parquet schema",
    ),
    "dataset_info": (
        lambda m: m.update(dataset_info={"features": "not a list"}),
        "dataset_info:",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_card_is_reported(run: Path, case: str) -> None:
    change, expected = BROKEN[case]
    _edit_front_matter(run, change)
    problems = check_card(run)
    assert any(expected in p for p in problems), problems


def test_broken_card_exits_1_listing_problems(
    run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _edit_front_matter(run, lambda m: m.update(license="nope", language=["zz-top"]))
    code, _, err = _invoke(["card", str(run), "--check"], capsys)
    assert code == 1
    assert "2 problem(s)" in err and "'nope'" in err and "'zz-top'" in err


def test_unparseable_yaml_and_missing_front_matter(run: Path) -> None:
    readme = run / "README.md"
    readme.write_text("---\nlicense: [unclosed\n---\n# Card\n")
    assert check_card(run)[0].startswith("README.md: front matter is not valid YAML")
    readme.write_text("# Card without metadata\n")
    assert check_card(run) == ["README.md: no YAML front matter between '---' lines"]
    readme.unlink()
    assert "no dataset card" in check_card(run)[0]


def test_deleted_data_file_is_reported(run: Path) -> None:
    for shard in (run / "data").glob("*.parquet"):
        shard.unlink()
    problems = check_card(run)
    assert any("matches no file" in p for p in problems)
    assert any("croissant.json: file 'data/train-00000-of-00002.parquet'" in p for p in problems)


def test_card_command_rewrites_with_set(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _invoke(["card", str(run), "--set", "pretty_name=Renamed"], capsys)
    assert code == 0, err
    assert "pretty_name: Renamed" in (run / "README.md").read_text()
    code, _, err = _invoke(["card", str(run), "--set", "nonsense"], capsys)
    assert code == 2 and "expected KEY=VALUE" in err


def test_card_command_refuses_what_is_not_a_dataset_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _invoke(["card", str(tmp_path)], capsys)
    assert code == 2 and "not a dataset folder" in err


def test_registry_versions_can_be_checked_but_not_rewritten(
    run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import curate.registry as registry

    registry.publish(run, "web")
    code, out, err = _invoke(["card", "web@1.0.0", "--check"], capsys)
    assert code == 0 and "valid" in out, err
    code, _, err = _invoke(["card", "web@1.0.0", "--set", "license=mit"], capsys)
    assert code == 2 and "immutable" in err
    code, _, err = _invoke(["card", "web@2.0.0", "--check"], capsys)
    assert code == 2 and "no such dataset version" in err
