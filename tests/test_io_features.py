"""Hugging Face features (ClassLabel names, Sequence, Value dtypes) survive ``curate run``."""

from __future__ import annotations

import hashlib
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from datasets import ClassLabel, Features, Sequence, Value

from curate.cli import main
from curate.io.features import input_features, output_metadata
from curate.ledger import read_ledger

NAMES = ["negative", "neutral", "positive"]
FEATURES = Features(
    {
        "text": Value("string"),
        "label": ClassLabel(names=NAMES),
        "tags": Sequence(Value("string")),
        "weight": Value("float32"),
    }
)
ROWS = 36


def _dataset() -> datasets.Dataset:
    words = ["short", "a much longer sentence with many more words in it than the others"]
    return datasets.Dataset.from_dict(
        {
            "text": [f"Review {i}: {words[i % 2]}" for i in range(ROWS)],
            "label": [i % 3 for i in range(ROWS)],
            "tags": [[f"t{i % 4}"] * (i % 3) for i in range(ROWS)],
            "weight": [i / 4 for i in range(ROWS)],
        },
        features=FEATURES,
    )


@pytest.fixture(params=["save_to_disk", "parquet"])
def source(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    ds = _dataset()
    if request.param == "save_to_disk":
        ds.save_to_disk(str(tmp_path / "disk"))
        return tmp_path / "disk"
    ds.to_parquet(str(tmp_path / "in.parquet"))
    return tmp_path / "in.parquet"


def _run(tmp_path: Path, source: Path, out: Path, *args: str) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        f"name: features\ninput: {{path: {source}}}\nstages:\n"
        "  - use: score.quality\n"
        '  - use: filter\n    with: {where: "length(text) > 30"}\n'
        f"output: {{path: {out}, shard_rows: 5}}\n"
    )
    try:
        main(["run", str(recipe), *args])
    except SystemExit as exc:
        assert not exc.code, exc.code


def test_classlabel_and_other_features_survive_a_run(tmp_path: Path, source: Path) -> None:
    out = tmp_path / "out"
    _run(tmp_path, source, out)
    loaded = datasets.load_dataset(str(out), split="train")
    for name, feature in FEATURES.items():
        assert loaded.features[name] == feature, name
    assert loaded.features["label"] == ClassLabel(names=NAMES)
    added = [c for c in loaded.column_names if c.startswith("quality_")]
    assert added and all(isinstance(loaded.features[c], Value) for c in added)
    kept = [r for r in range(ROWS) if r % 2 == 1]
    assert loaded.num_rows == len(kept)
    assert sorted(loaded["label"]) == sorted(r % 3 for r in kept)
    ledger = read_ledger(out)
    assert ledger.height == ROWS - len(kept)
    assert set(ledger["reason"]) == {"filtered"}
    assert set(ledger["id"]) | set(loaded["id"]) == {f"{_name(source)}:{r}" for r in range(ROWS)}
    front = yaml.safe_load((out / "README.md").read_text().split("---")[1])
    label = next(f for f in front["dataset_info"]["features"] if f["name"] == "label")
    names = label["dtype"]["class_label"]["names"]
    assert [names[k] for k in sorted(names, key=int)] == NAMES
    assert _check(out) == 0


def _name(source: Path) -> str:
    shards = [p for p in source.iterdir() if p.suffix == ".arrow"] if source.is_dir() else []
    return shards[0].name if shards else source.name


def _check(out: Path) -> int:
    try:
        main(["card", str(out), "--check"])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_features_are_byte_identical_for_one_and_two_workers(tmp_path: Path) -> None:
    _dataset().to_parquet(str(tmp_path / "in.parquet"))
    digests = []
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}"
        _run(tmp_path, tmp_path / "in.parquet", out, "--workers", workers)
        files = sorted((out / "data").glob("*.parquet"))
        digests.append([hashlib.sha256(f.read_bytes()).hexdigest() for f in files])
    assert digests[0] == digests[1]


def test_plain_inputs_get_no_features_metadata() -> None:
    schema = pa.schema([("text", pa.string())])
    assert input_features(schema) is None
    assert output_metadata(None, schema) == {}


def test_a_column_whose_type_changed_falls_back_to_its_arrow_type() -> None:
    given = input_features(FEATURES.arrow_schema)
    out = pa.schema([("label", pa.string()), ("weight", pa.float32()), ("new", pa.int32())])
    back = Features.from_arrow_schema(out.with_metadata(output_metadata(given, out)))
    assert back == Features(
        {"label": Value("string"), "weight": Value("float32"), "new": Value("int32")}
    )


def test_empty_output_keeps_the_features(tmp_path: Path) -> None:
    _dataset().to_parquet(str(tmp_path / "in.parquet"))
    recipe = tmp_path / "r.yaml"
    out = tmp_path / "out"
    recipe.write_text(
        f"name: features\ninput: {{path: {tmp_path / 'in.parquet'}}}\nstages:\n"
        '  - use: filter\n    with: {where: "length(text) > 1000"}\n'
        f"output: {{path: {out}}}\n"
    )
    main(["run", str(recipe)])
    schema = pq.read_schema(next((out / "data").glob("*.parquet")))
    assert Features.from_arrow_schema(schema)["label"] == ClassLabel(names=NAMES)
