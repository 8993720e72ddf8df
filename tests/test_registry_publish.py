"""Publishing and loading: round trips, versioning rules, refs, names and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_card_fixture import make_run

import curate.registry as registry
from curate.card.check import check_card
from curate.cli import main
from curate.errors import DataError
from curate.registry import Ref, Registry, Version, check_name


def _invoke(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_publish_then_load_round_trips_the_rows(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", n=30, card=True)
    published = registry.publish(run, "web-sample")
    assert (published.ref, published.created) == ("web-sample@1.0.0", True)
    ds = registry.load("web-sample@1.0.0")
    kept = pq.read_table(sorted((run / "data").glob("*.parquet")))
    assert ds.num_rows == 30
    assert sorted(ds["id"]) == sorted(kept.column("id").to_pylist())
    streamed = registry.load("web-sample", streaming=True, columns=["id", "toxicity"])
    first = next(iter(streamed))
    assert set(first) == {"id", "toxicity"}


def test_version_folder_is_a_hub_layout_with_manifest_and_croissant(tmp_path: Path) -> None:
    from datasets import load_dataset

    published = registry.publish(make_run(tmp_path / "run", n=20), "web-sample")
    folder = registry.resolve(published.ref)
    assert folder == published.path.resolve()
    manifest = json.loads((folder / "manifest.json").read_text())
    paths = {f["path"]: f for f in manifest["files"]}
    assert {"README.md", "croissant.json", "curate/run.json"} <= set(paths)
    assert paths["data/train-00000-of-00002.parquet"]["rows"] == 10
    assert manifest["lineage"]["recipe"]["name"] == "web-sample"
    assert manifest["lineage"]["inputs"]["fingerprint"] == "xxh64:0000000000000000"
    assert manifest["audit"]["findings"]
    assert [f["name"] for f in manifest["schema"]][:2] == ["id", "text"]
    assert check_card(folder) == []
    assert 'curate.registry.load("web-sample@1.0.0"' in (folder / "README.md").read_text()
    ds = load_dataset(str(folder), split="train", cache_dir=str(tmp_path / "hf"))
    assert ds.num_rows == 20


def test_identical_content_returns_the_existing_version(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    first = registry.publish(run, "web")
    again = registry.publish(run, "web")
    assert (again.ref, again.created) == (first.ref, False)
    copy = make_run(tmp_path / "copy")  # same bytes, other folder
    assert registry.publish(copy, "web").ref == first.ref
    assert registry.publish(run, "web", version="1.0.0").created is False


def test_next_version_follows_what_changed(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", n=20)
    assert registry.publish(run, "web").ref == "web@1.0.0"
    (run / "curate" / "card.json").write_text(json.dumps({"license": "mit"}))
    assert registry.publish(run, "web").ref == "web@1.0.1"  # same data: patch
    make_run(run, n=24)
    assert registry.publish(run, "web").ref == "web@1.1.0"  # same schema, rows differ: minor
    for shard in (run / "data").glob("*.parquet"):
        table = pq.read_table(shard).append_column("extra", pa.array([1] * 12))
        pq.write_table(table, shard)
    assert registry.publish(run, "web").ref == "web@2.0.0"  # schema changed: major
    assert registry.load("web").num_rows == 24
    assert "extra" in registry.load("web").column_names
    assert "extra" not in registry.load("web@1.1.0").column_names


def test_explicit_versions_are_immutable(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", n=10)
    assert registry.publish(run, "web", version="0.3.0").ref == "web@0.3.0"
    make_run(run, n=12)
    with pytest.raises(DataError, match="already published with different content"):
        registry.publish(run, "web", version="0.3.0")
    assert registry.publish(run, "web").ref == "web@0.4.0"


def test_shared_files_are_stored_once(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    registry.publish(run, "web")
    (run / "curate" / "card.json").write_text(json.dumps({"license": "mit"}))
    registry.publish(run, "web")
    registry.publish(run, "web-copy")
    reg = Registry()
    blobs = [p for p in (reg.root / "blobs").rglob("*") if p.is_file()]
    published = [f for f in run.rglob("*") if f.is_file() and f.name not in {"README.md"}]
    assert len(blobs) == len({p.read_bytes() for p in published if p.suffix != ".md"})
    shard = "data/train-00000-of-00002.parquet"
    inodes = {(reg.path(r) / shard).stat().st_ino for r in ("web@1.0.0", "web@1.0.1", "web-copy")}
    assert len(inodes) == 1


def test_publish_files_that_are_not_a_run_folder(tmp_path: Path) -> None:
    pq.write_table(
        pa.table({"text": ["a b c", "d e f"], "src": ["x", "y"]}), tmp_path / "a.parquet"
    )
    published = registry.publish(str(tmp_path / "*.parquet"), "plain")
    ds = registry.load(published.ref)
    assert ds.num_rows == 2 and {"id", "text", "src"} <= set(ds.column_names)


def test_a_registry_version_can_be_published_under_a_new_name(tmp_path: Path) -> None:
    registry.publish(make_run(tmp_path / "run"), "web")
    promoted = registry.publish("web@1.0.0", "web-stable")
    assert promoted.ref == "web-stable@1.0.0"
    assert registry.load("web-stable").num_rows == 48


def test_unknown_refs_say_what_exists(tmp_path: Path) -> None:
    registry.publish(make_run(tmp_path / "run", n=8), "web-sample")
    with pytest.raises(DataError) as err:
        registry.resolve("web-sample@2.0.0")
    assert err.value.hint is not None and "1.0.0" in err.value.hint
    with pytest.raises(DataError) as err:
        registry.resolve("web-sampel")
    assert err.value.hint is not None and "web-sample" in err.value.hint
    with pytest.raises(DataError, match="no split 'test'"):
        registry.load("web-sample", split="test")
    with pytest.raises(DataError, match="no column 'nope'"):
        registry.load("web-sample", columns=["nope"])


@pytest.mark.parametrize(
    "name", ["", "../x", "a/b", ".hidden", "UPPER", "x" * 101, "trailing-", "sp ace", "a\x00b"]
)
def test_bad_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(DataError, match="not a valid dataset name"):
        registry.publish(make_run(tmp_path / "run", n=4), name)
    assert not (Registry().root / "datasets").exists() or not any(
        (Registry().root / "datasets").iterdir()
    )


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=120))
def test_valid_names_always_stay_one_folder_inside_the_registry(name: str) -> None:
    try:
        check_name(name)
    except DataError:
        return
    root = Path("/registry/datasets")
    assert (root / name).resolve().parent == root
    assert name not in {".", ".."} and "/" not in name and "\\" not in name


@given(st.integers(0, 999), st.integers(0, 999), st.integers(0, 999))
def test_version_refs_round_trip(major: int, minor: int, patch: int) -> None:
    text = f"web@{major}.{minor}.{patch}"
    assert str(Ref.parse(text)) == text
    v = Version(major, minor, patch)
    assert v < v.bump("patch") < v.bump("minor") < v.bump("major")


def test_cli_publish_list_show_path_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = make_run(tmp_path / "run", n=12, card=True)
    code, out, err = _invoke(["publish", str(run), "web-sample"], capsys)
    assert (code, out) == (0, "web-sample@1.0.0\n"), err
    code, out, _ = _invoke(["publish", str(run), "web-sample"], capsys)
    assert out == "web-sample@1.0.0\n"
    code, out, _ = _invoke(["registry", "list"], capsys)
    assert code == 0 and "web-sample  1.0.0" in out and "cc-by-4.0" in out
    code, out, _ = _invoke(["registry", "show", "web-sample"], capsys)
    assert "lineage:" in out and "Toxic documents" in out
    code, out, _ = _invoke(["registry", "path", "web-sample@1.0.0"], capsys)
    assert Path(out.strip()) == registry.resolve("web-sample@1.0.0")
    code, out, _ = _invoke(["registry", "verify", "web-sample"], capsys)
    assert code == 0 and "files verified" in out
    code, _, err = _invoke(["registry", "show", "nothing"], capsys)
    assert code == 2 and "no such dataset version" in err
    code, _, err = _invoke(["publish", str(run), "Bad/Name"], capsys)
    assert code == 2 and "not a valid dataset name" in err
