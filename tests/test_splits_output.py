"""Splits carried through ``curate run``: every row keeps its split, the output has one set of
``data/{split}-*.parquet`` shards per split, and ``datasets`` / ``registry.load`` see the same
splits and features as the input."""

from __future__ import annotations

import hashlib
import json
import signal
from pathlib import Path
from typing import Any

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from datasets import ClassLabel, Features, Value
from test_resume_kill import curate_cli, run_snapshot

import curate.registry as registry
from curate.cli import main
from curate.executor import run_recipe
from curate.io.splits import COLUMN
from curate.ledger import read_ledger
from curate.recipe import load_recipe

FEATURES = Features({"text": Value("string"), "label": ClassLabel(names=["neg", "pos"])})
LONG = "a sentence long enough to pass the filter of this recipe"
#: Rows per split: kept ones are long, "short" ones are filtered, ``shared`` is in train and
#: test (the test copy is the later one, so dedup.exact removes it).
SHARED = f"shared document, {LONG}"
SPLITS: dict[str, list[str]] = {
    "train": [f"train {i}, {LONG}" for i in range(9)] + ["short", SHARED],
    "validation": [f"validation {i}, {LONG}" for i in range(4)] + ["tiny"],
    "test": [SHARED] + [f"test {i}, {LONG}" for i in range(5)],
}


def _dataset_dict(folder: Path) -> Path:
    datasets.DatasetDict(
        {
            name: datasets.Dataset.from_dict(
                {"text": texts, "label": [i % 2 for i in range(len(texts))]}, features=FEATURES
            )
            for name, texts in SPLITS.items()
        }
    ).save_to_disk(str(folder))
    return folder


def _recipe(folder: Path, source: Path, out: Path, **output: Any) -> Path:
    recipe = folder / "r.yaml"
    recipe.write_text(
        yaml.safe_dump(
            {
                "name": "splits",
                "input": {"path": str(source)},
                "stages": [
                    {"use": "dedup.exact"},
                    {"use": "score.quality"},
                    {"use": "filter", "with": {"where": "length(text) > 20"}},
                ],
                "output": {"path": str(out), "shard_rows": 4, **output},
            },
            sort_keys=False,
        )
    )
    return recipe


def _run(recipe: Path, *args: str) -> None:
    try:
        main(["run", str(recipe), "--quiet", *args])
    except SystemExit as exc:
        assert not exc.code, exc.code


def _digests(out: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((out / "data").glob("*.parquet"))
    }


@pytest.fixture(scope="module")
def carried(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("splits")
    recipe = _recipe(folder, _dataset_dict(folder / "dd"), folder / "out")
    _run(recipe)
    return recipe, folder / "out"


def _expected_kept(split: str) -> list[str]:
    texts = [t for t in SPLITS[split] if len(t) > 20]
    return [t for t in texts if not (split == "test" and t == SHARED)]


def test_each_split_gets_its_own_shards_named_as_the_hub_does(
    carried: tuple[Path, Path],
) -> None:
    _, out = carried
    names = sorted(p.name for p in (out / "data").glob("*.parquet"))
    for split in SPLITS:
        mine = [n for n in names if n.startswith(f"{split}-")]
        assert mine and all(n.endswith(f"-of-{len(mine):05d}.parquet") for n in mine)
        texts = [
            t for n in mine for t in pq.read_table(out / "data" / n).column("text").to_pylist()
        ]
        assert texts == _expected_kept(split)
    assert all(COLUMN not in pq.read_schema(out / "data" / n).names for n in names)


def test_load_dataset_sees_the_same_splits_and_features(carried: tuple[Path, Path]) -> None:
    _, out = carried
    for loaded in (
        datasets.load_dataset(str(out)),
        datasets.load_dataset("parquet", data_dir=str(out / "data")),
    ):
        assert sorted(loaded) == sorted(SPLITS)
        for split in SPLITS:
            assert loaded[split].features["label"] == FEATURES["label"]
            assert loaded[split]["text"] == _expected_kept(split)


def test_run_report_card_and_ledger_count_by_split(carried: tuple[Path, Path]) -> None:
    _, out = carried
    report = json.loads((out / "curate" / "run.json").read_text())
    ledger = read_ledger(str(out))
    for split, texts in SPLITS.items():
        kept = len(_expected_kept(split))
        assert report["splits"][split] == {
            "rows_in": len(texts),
            "rows_out": kept,
            "rows_removed": len(texts) - kept,
        }
        assert ledger.filter(ledger["split"] == split).height == len(texts) - kept
    dup = ledger.filter(ledger["reason"] == "exact-duplicate")
    assert dup["split"].to_list() == ["test"] and dup["text"].to_list() == [SHARED]
    card = (out / "README.md").read_text()
    front = yaml.safe_load(card.split("---")[1])
    files = {c["split"]: c["path"] for c in front["configs"][0]["data_files"]}
    assert files == {s: f"data/{s}-*" for s in SPLITS}
    sizes = {s["name"]: s["num_examples"] for s in front["dataset_info"]["splits"]}
    assert sizes == {s: len(_expected_kept(s)) for s in SPLITS}


def test_registry_load_reads_one_split_and_its_parts(carried: tuple[Path, Path]) -> None:
    _, out = carried
    ref = registry.publish(out, "split-data").ref
    test = registry.load(ref, split="test")
    assert test["text"] == _expected_kept("test")
    assert test.features["label"] == FEATURES["label"]
    parts = [
        [
            r["text"]
            for r in registry.load(ref, split="validation", streaming=True, rank=r, world_size=2)
        ]
        for r in range(2)
    ]
    assert sorted(parts[0] + parts[1]) == sorted(_expected_kept("validation"))
    with pytest.raises(Exception, match="no split 'dev'"):
        registry.load(ref, split="dev")


def test_one_and_two_workers_write_identical_shards(
    carried: tuple[Path, Path], tmp_path: Path
) -> None:
    recipe, out = carried
    _run(recipe, "-o", str(tmp_path / "two"), "--workers", "2")
    assert _digests(tmp_path / "two") == _digests(out)


def test_a_file_layout_with_split_names_is_carried_by_read_tasks_and_stream(
    tmp_path: Path,
) -> None:
    """``data/train-*`` + ``data/test-*`` Parquet (read by workers) and ``train.jsonl`` +
    ``test.jsonl`` (read by the driver) give the same shards."""
    parquet = tmp_path / "pq" / "data"
    parquet.mkdir(parents=True)
    jsonl = tmp_path / "js"
    jsonl.mkdir()
    for split in ("train", "test"):
        table = pa.table({"text": SPLITS[split]})
        pq.write_table(table, parquet / f"{split}-00000-of-00001.parquet", row_group_size=3)
        (jsonl / f"{split}.jsonl").write_text(
            "".join(json.dumps({"text": t}) + "\n" for t in SPLITS[split])
        )
    outs = []
    for name, source in (("pq", parquet.parent), ("js", jsonl)):
        out = tmp_path / f"out-{name}"
        _run(_recipe(tmp_path, source, out), "--workers", "2")
        outs.append(out)
        loaded = datasets.load_dataset(str(out))
        assert sorted(loaded) == ["test", "train"]
        # Sorted file names put test first: the train copy of the shared document goes.
        assert loaded["test"]["text"] == [t for t in SPLITS["test"] if len(t) > 20]
        assert SHARED not in loaded["train"]["text"]
    tables = [pq.read_table(o / "data").drop_columns(["id"]) for o in outs]
    assert tables[0].equals(tables[1])


def test_a_single_split_input_keeps_the_plain_layout(tmp_path: Path) -> None:
    """Choosing one split gives what that split alone, saved as a Dataset, gives: the same
    ``train-*`` shard bytes, no split column, no per-split counts."""
    folder = _dataset_dict(tmp_path / "dd")
    chosen = tmp_path / "chosen"
    recipe = _recipe(tmp_path, folder, chosen)
    spec = yaml.safe_load(recipe.read_text())
    spec["input"]["split"] = "test"
    recipe.write_text(yaml.safe_dump(spec))
    _run(recipe)
    datasets.load_from_disk(str(folder / "test")).save_to_disk(str(tmp_path / "alone"))
    alone = tmp_path / "alone-out"
    _run(_recipe(tmp_path, tmp_path / "alone", alone))
    assert list(_digests(chosen)) == [
        "train-00000-of-00002.parquet",
        "train-00001-of-00002.parquet",
    ]
    assert _digests(chosen) == _digests(alone)
    assert "splits" not in json.loads((chosen / "curate" / "run.json").read_text())
    assert "split" not in read_ledger(str(chosen)).columns


def test_a_split_left_empty_has_no_file_but_is_counted(tmp_path: Path) -> None:
    """``datasets`` refuses a split without rows (and then the whole folder): such a split is
    left out of data/ and counted in run.json."""
    folder = _dataset_dict(tmp_path / "dd")
    recipe = tmp_path / "r.yaml"
    out = tmp_path / "out"
    recipe.write_text(
        f"name: s\ninput: {{path: {folder}}}\nstages:\n"
        "  - use: filter\n"
        "    with: {where: \"length(text) > 20 AND text NOT LIKE 'validation%'\"}\n"
        f"output: {{path: {out}}}\n"
    )
    _run(recipe)
    assert sorted(datasets.load_dataset(str(out))) == ["test", "train"]
    report = json.loads((out / "curate" / "run.json").read_text())
    assert report["splits"]["validation"] == {"rows_in": 5, "rows_out": 0, "rows_removed": 5}
    card = (out / "README.md").read_text()
    assert "| split | rows read | removed | rows | files |" in card
    assert "| validation | 5 | 5 | 0 | 0 |" in card
    assert "| train | 11 | 1 | 10 | 1 |" in card


@pytest.mark.slow
@pytest.mark.parametrize("point", ["after-shard:2", "global-batch:1", "finalize-move:2"])
def test_a_killed_run_with_splits_resumes_to_identical_output(
    carried: tuple[Path, Path], tmp_path: Path, point: str
) -> None:
    recipe, reference = carried
    out = tmp_path / "out"
    proc = curate_cli("run", str(recipe), "-o", str(out), "--quiet", kill_at=point)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL, err.decode()
    run_recipe(load_recipe(recipe), output=out, resume=True, workers=2)
    assert run_snapshot(out)["files"] == run_snapshot(reference)["files"]
    assert _digests(out) == _digests(reference)
