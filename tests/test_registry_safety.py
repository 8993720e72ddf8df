"""Registry safety (issue 12): nothing published is ever lost, replaced or laundered.

Each test is one hostile or careless action from the adversarial review: a deleted or corrupt
catalog, tampered versions promoted or republished, corrupt blobs, recipes reading tampered
refs, symlinks out of a published folder, version numbers at their limit, file modes, and
partial (``--limit``) runs.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_card_fixture import make_run

import curate.registry as registry
from curate.cli import main
from curate.errors import CheckFailed, DataError
from curate.registry import Registry
from curate.registry.store import BlobStore, sha256_file


def _invoke(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _tamper(path: Path) -> None:
    path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _root() -> Path:
    return Registry().root


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): sha256_file(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_deleted_catalog_is_rebuilt_and_no_version_is_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry.publish(make_run(tmp_path / "a", n=10), "ds1")
    registry.publish(make_run(tmp_path / "b", n=12), "ds1")  # 1.1.0
    folder = _root() / "datasets" / "ds1" / "1.1.0"
    before = _snapshot(folder)
    (_root() / "catalog.sqlite").unlink()
    code, out, _ = _invoke(["registry", "list"], capsys)
    assert code == 0
    assert "empty" not in out
    assert out.splitlines()[1].split()[:3] == ["ds1", "1.1.0", "12"]
    (_root() / "catalog.sqlite").unlink()
    published = registry.publish(make_run(tmp_path / "c", n=14), "ds1")
    assert published.ref == "ds1@1.2.0"
    assert _snapshot(folder) == before
    assert Registry().verify("ds1@1.1.0") == []
    (_root() / "catalog.sqlite").unlink()
    with pytest.raises(DataError, match="already published with different content"):
        registry.publish(make_run(tmp_path / "d", n=16), "ds1", version="1.1.0")
    assert _snapshot(folder) == before


def test_an_unreadable_version_folder_blocks_its_number(tmp_path: Path) -> None:
    registry.publish(make_run(tmp_path / "a", n=10), "ds1")
    folder = _root() / "datasets" / "ds1" / "1.0.0"
    folder.chmod(0o755)
    (folder / "manifest.json").unlink()
    (_root() / "catalog.sqlite").unlink()
    before = _snapshot(folder)
    with pytest.raises(DataError, match=r"ds1@1\.0\.0: .*1\.0\.0 exists but is not a readable"):
        registry.publish(make_run(tmp_path / "b", n=12), "ds1")
    assert _snapshot(folder) == before


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_corrupt_catalog_is_moved_aside_and_rebuilt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    registry.publish(make_run(tmp_path / "a", n=10), "ds1")
    catalog = _root() / "catalog.sqlite"
    if damage == "garbage":
        catalog.write_bytes(b"this is not a database\n" * 100)
    else:
        catalog.write_bytes(catalog.read_bytes()[:100])
    code, out, err = _invoke(["registry", "list", "--json"], capsys)
    assert code == 0, err
    assert [(r["name"], r["latest"], r["rows"]) for r in json.loads(out)] == [("ds1", "1.0.0", 10)]
    assert len(list(_root().glob("catalog.sqlite.corrupt-*"))) == 1
    assert Registry().verify("ds1") == []


def test_promoting_or_republishing_a_tampered_version_fails_verification(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry.publish(make_run(tmp_path / "a", n=10), "ds1")
    folder = registry.resolve("ds1@1.0.0")
    _tamper(folder / "data" / "train-00000-of-00002.parquet")
    code, _, err = _invoke(["publish", "ds1@1.0.0", "promoted"], capsys)
    assert code == 1
    assert "train-00000-of-00002.parquet: sha256 differs" in err
    with pytest.raises(CheckFailed, match="fail verification"):
        registry.publish(folder, "ds1")
    with pytest.raises(DataError, match="no such dataset version"):
        Registry().entry("promoted")


def test_blob_store_replaces_a_corrupt_blob(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "reg")
    source = tmp_path / "file.bin"
    source.write_bytes(os.urandom(5000))
    digest, size = store.add(source)
    blob = store.path(digest)
    assert (digest, size) == (sha256_file(source), 5000)
    _tamper(blob)
    assert store.add(source) == (digest, size)
    assert sha256_file(blob) == digest
    blob.chmod(0o644)
    blob.write_bytes(b"short")  # a different size is caught the same way
    assert store.add(source) == (digest, size)
    assert sha256_file(blob) == digest


def test_a_clean_publish_after_tampering_through_a_hard_link_is_clean(tmp_path: Path) -> None:
    """Version files are hard links to blobs, so tampering one corrupts the blob; the next
    publish of the same bytes must store them again instead of linking the corrupt blob."""
    run = make_run(tmp_path / "a", n=10)
    registry.publish(run, "ds1")
    _tamper(registry.resolve("ds1") / "data" / "train-00000-of-00002.parquet")
    published = registry.publish(run, "ds2")
    assert Registry().verify(published.ref) == []
    assert registry.load(published.ref).num_rows == 10


def test_a_recipe_input_ref_is_verified(tmp_path: Path) -> None:
    from curate.io.sources import resolve as resolve_sources

    registry.publish(make_run(tmp_path / "a", n=10), "ds1")
    assert len(resolve_sources("ds1@1.0.0").sources) == 2
    _tamper(registry.resolve("ds1") / "data" / "train-00001-of-00002.parquet")
    with pytest.raises(CheckFailed, match=r"ds1@1\.0\.0: 1 file\(s\) fail verification"):
        resolve_sources("ds1@1.0.0")
    with pytest.raises(CheckFailed):
        registry.resolve_verified("ds1")


@pytest.fixture
def outside(tmp_path: Path) -> Iterator[Path]:
    secret = tmp_path / "outside" / "secret.parquet"
    secret.parent.mkdir()
    pq.write_table(pa.table({"id": ["x"], "text": ["the secret"]}), secret)
    yield secret


@pytest.mark.parametrize("where", ["data/train-00009-of-00009.parquet", "curate/card.json", "data"])
def test_symlinks_leaving_the_folder_are_refused(
    tmp_path: Path, outside: Path, where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = make_run(tmp_path / "run", n=10)
    link = run / where
    if where == "data":
        shutil.move(str(run / "data"), str(outside.parent / "data"))
        target = outside.parent / "data"
    else:
        link.unlink(missing_ok=True)
        target = outside
    link.symlink_to(target)
    code, _, err = _invoke(["publish", str(run), "ds1"], capsys)
    assert code == 2
    assert "a symbolic link to" in err and "outside the folder being published" in err
    blobs = _root() / "blobs"
    stored = {sha256_file(p) for p in blobs.rglob("*") if p.is_file()} if blobs.exists() else set()
    assert sha256_file(outside) not in stored
    assert not (_root() / "datasets").exists() or not any((_root() / "datasets").iterdir())


def test_a_symlink_inside_the_folder_is_published(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", n=10)
    (run / "curate" / "card.json").unlink(missing_ok=True)
    (run / "card-fields.json").write_text(json.dumps({"license": "mit"}))
    (run / "curate" / "card.json").symlink_to(run / "card-fields.json")
    published = registry.publish(run, "ds1")
    manifest = Registry().manifest(published.ref)
    assert "curate/card.json" in {f["path"] for f in manifest["files"]}


def test_auto_bump_past_the_largest_version_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry.publish(make_run(tmp_path / "a", n=10), "ds1", version="999999999.1.0")
    (tmp_path / "b").mkdir()
    pq.write_table(pa.table({"id": ["1"], "text": ["other schema"]}), tmp_path / "b" / "x.parquet")
    code, _, err = _invoke(["publish", str(tmp_path / "b" / "x.parquet"), "ds1"], capsys)
    assert code == 2
    assert "cannot bump the major part of 999999999.1.0" in err
    assert "--version" in err
    make_run(tmp_path / "c", n=12)  # same schema: a minor bump still fits
    assert registry.publish(tmp_path / "c", "ds1").ref == "ds1@999999999.2.0"
    assert Registry().entry("ds1").version.minor == 2


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_registry_files_follow_the_umask(tmp_path: Path, umask: int) -> None:
    previous = os.umask(umask)
    try:
        published = registry.publish(make_run(tmp_path / "a", n=10), "ds1")
    finally:
        os.umask(previous)
    files = [p for p in published.path.rglob("*") if p.is_file()]
    files += [p for p in (_root() / "blobs").rglob("*") if p.is_file()]
    modes = {p.relative_to(_root()).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in files}
    expected = 0o444 & ~umask
    assert {m for m in modes.values()} == {expected}, modes


def test_a_partial_run_needs_allow_partial(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = make_run(tmp_path / "a", n=10)
    report = run / "curate" / "run.json"
    report.write_text(json.dumps({**json.loads(report.read_text()), "partial": True}))
    code, _, err = _invoke(["publish", str(run), "ds1"], capsys)
    assert code == 2
    assert "the run is partial (it ran with --limit)" in err and "--allow-partial" in err
    assert not (_root() / "datasets").exists() or not any((_root() / "datasets").iterdir())
    code, out, err = _invoke(["publish", str(run), "ds1", "--allow-partial"], capsys)
    assert (code, out.strip()) == (0, "ds1@1.0.0"), err
