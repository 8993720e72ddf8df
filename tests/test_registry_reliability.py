"""Registry reliability: concurrent publishers, crashes mid-publish, tampering, catalog version."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import stat
from pathlib import Path

import pytest
from test_card_fixture import make_run

import curate.registry as registry
from curate.cli import main
from curate.errors import CheckFailed, DataError
from curate.registry import Registry
from curate.registry.catalog import SCHEMA_VERSION, Catalog


def _publish(root: str, source: str, name: str) -> str:
    os.environ["CURATE_REGISTRY"] = root
    return registry.publish(source, name).ref


def _publish_and_die(root: str, source: str, name: str, where: str) -> None:
    """Publish, but end the process abruptly at ``where`` (as a kill -9 would)."""
    os.environ["CURATE_REGISTRY"] = root
    from curate.registry import catalog, store

    if where == "commit":
        catalog.Catalog.insert = lambda self, entry: os._exit(3)  # type: ignore[method-assign]
    else:
        original = store.BlobStore.add
        calls = []

        def add(self: store.BlobStore, source: Path) -> tuple[str, int]:
            calls.append(source)
            if len(calls) == 2:
                os._exit(3)
            return original(self, source)

        store.BlobStore.add = add  # type: ignore[method-assign]
    registry.publish(source, name)


def _spawn(target: object, *args: str) -> multiprocessing.process.BaseProcess:
    proc = multiprocessing.get_context("spawn").Process(target=target, args=args)
    proc.start()
    return proc


@pytest.mark.slow
def test_concurrent_publishers_leave_a_consistent_catalog(tmp_path: Path) -> None:
    root = str(Registry().root)
    same = make_run(tmp_path / "same", n=20, seed=1)
    small = make_run(tmp_path / "small", n=10, seed=2)
    large = make_run(tmp_path / "large", n=14, seed=2)
    jobs = [
        (same, "alpha"),
        (same, "alpha"),  # identical content, same name: one version
        (small, "beta"),
        (large, "beta"),  # different content, same name: two versions
    ]
    procs = [_spawn(_publish, root, str(src), name) for src, name in jobs]
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0
    reg = Registry()
    assert [str(e.version) for e in reg.versions("alpha")] == ["1.0.0"]
    assert sorted(str(e.version) for e in reg.versions("beta")) == ["1.0.0", "1.1.0"]
    assert sorted(e.rows for e in reg.versions("beta")) == [10, 14]
    assert [e.name for e in reg.latest_all()] == ["alpha", "beta"]
    for name in ("alpha", "beta@1.0.0", "beta@1.1.0"):
        assert reg.verify(name) == []
    assert not any((reg.root / "tmp").glob("version-*"))
    reg.close()


@pytest.mark.slow
def test_a_crash_while_staging_leaves_no_visible_version(tmp_path: Path) -> None:
    root = str(Registry().root)
    run = make_run(tmp_path / "run", n=10)
    proc = _spawn(_publish_and_die, root, str(run), "web", "staging")
    proc.join(120)
    assert proc.exitcode == 3
    with pytest.raises(DataError, match="no such dataset version"):
        registry.resolve("web")
    assert Registry().latest_all() == []
    published = registry.publish(run, "web")  # the registry is still usable, and clean
    assert (published.ref, published.created) == ("web@1.0.0", True)
    assert Registry().verify("web") == []


@pytest.mark.slow
def test_a_crash_after_the_folder_moved_in_leaves_a_complete_version(tmp_path: Path) -> None:
    """Killed between moving the folder into place and recording it: the folder is the truth,
    so the next open records it, and republishing finds it instead of overwriting it."""
    root = str(Registry().root)
    run = make_run(tmp_path / "run", n=10)
    proc = _spawn(_publish_and_die, root, str(run), "web", "commit")
    proc.join(120)
    assert proc.exitcode == 3
    assert [e.ref for e in Registry().latest_all()] == ["web@1.0.0"]
    assert Registry().verify("web@1.0.0") == []
    published = registry.publish(run, "web")
    assert (published.ref, published.created) == ("web@1.0.0", False)


def test_failed_commit_removes_the_moved_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: Catalog, entry: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(Catalog, "insert", refuse)
    with pytest.raises(sqlite3.OperationalError):
        registry.publish(make_run(tmp_path / "run", n=6), "web")
    root = Registry().root
    assert not (root / "datasets" / "web" / "1.0.0").exists()
    assert not any((root / "tmp").glob("version-*"))


def _tamper(path: Path) -> None:
    path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_tampered_file_is_caught_by_verify_and_by_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry.publish(make_run(tmp_path / "run", n=20), "web")
    shard = registry.resolve("web") / "data" / "train-00001-of-00002.parquet"
    _tamper(shard)
    with pytest.raises(SystemExit) as exit_:
        main(["registry", "verify", "web@1.0.0"])
    assert exit_.value.code == 1
    assert "train-00001-of-00002.parquet: sha256 differs" in capsys.readouterr().err
    with pytest.raises(CheckFailed, match=r"train-00001-of-00002\.parquet"):
        registry.load("web")
    registry.load("web", verify=False)  # an explicit opt-out still reads


def test_tampered_manifest_and_extra_files_are_caught(tmp_path: Path) -> None:
    registry.publish(make_run(tmp_path / "run", n=8), "web")
    folder = registry.resolve("web")
    (folder / "data").chmod(0o755)
    (folder / "data" / "train-00009-of-00009.parquet").write_bytes(b"sneaky")
    problems = Registry().verify("web")
    extra = folder / "data" / "train-00009-of-00009.parquet"
    assert problems == [f"{extra}: not part of the published version"]
    manifest = folder / "manifest.json"
    _tamper(manifest)
    assert "manifest was changed" in Registry().verify("web")[0]


def test_catalog_records_its_schema_version_and_refuses_newer(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite"
    catalog = Catalog(path)
    assert catalog.schema_version() == SCHEMA_VERSION
    catalog.conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    catalog.close()
    with pytest.raises(DataError, match="schema version 99 is newer"):
        Catalog(path)
