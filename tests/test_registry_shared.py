"""A registry a team can share (issue 19): the same behaviour on a local folder, on
``memory://`` and on S3 (moto's server on 127.0.0.1, started here).

Covered on every backend: publish and load, idempotent republish, tamper detection, yank,
delete with blob garbage collection and tombstones, aliases with history, who published.
Concurrent publishes from several processes run against the folder and against S3.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from test_card_fixture import make_run

import curate.registry as registry
from curate.cli import main
from curate.errors import CheckFailed, DataError
from curate.registry import Registry

BUCKET = "curate-test"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 app served on loopback by a single-threaded server: requests are handled one
    at a time, so its If-None-Match check is atomic as it is on S3."""
    pytest.importorskip("s3fs")
    moto_server = pytest.importorskip("moto.server")
    import boto3
    from werkzeug.serving import make_server

    app = moto_server.DomainDispatcherApplication(moto_server.create_backend_app)
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    client = boto3.client("s3", endpoint_url=url, region_name="us-east-1", **_boto_keys())
    client.create_bucket(Bucket=BUCKET)
    yield url
    server.shutdown()


def _boto_keys() -> dict[str, str]:
    return {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def _use_s3(endpoint: str, monkeypatch: pytest.MonkeyPatch | None = None) -> None:
    """Point s3fs at the test server, in this process and in processes it spawns."""
    import fsspec.config

    env = {**CREDENTIALS, "FSSPEC_S3_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": "us-east-1"}
    for key, value in env.items():
        if monkeypatch is not None:
            monkeypatch.setenv(key, value)
        else:
            os.environ[key] = value
    fsspec.config.conf["s3"] = {"endpoint_url": endpoint, "key": "testing", "secret": "testing"}


@pytest.fixture(params=["local", "memory", "s3"])
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """Sets CURATE_REGISTRY to a fresh registry of each kind and yields its location."""
    if request.param == "local":
        location = str(tmp_path / "registry")
    elif request.param == "memory":
        location = f"memory://reg-{os.urandom(4).hex()}"
    else:
        endpoint = request.getfixturevalue("s3_endpoint")
        _use_s3(endpoint, monkeypatch)
        location = f"s3://{BUCKET}/reg-{os.urandom(4).hex()}"
    monkeypatch.setenv("CURATE_REGISTRY", location)
    yield location
    import fsspec.config

    fsspec.config.conf.pop("s3", None)


def _invoke(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _corrupt(reg: Registry, ref: str, path: str) -> None:
    """Change one published file's bytes, wherever the registry keeps them."""
    item = next(f for f in reg.manifest(ref)["files"] if f["path"] == path)
    digest = item["sha256"]
    if reg.location.startswith(("memory://", "s3://")):
        from curate.registry.remote import RemoteRegistry

        assert isinstance(reg, RemoteRegistry)
        key = reg.objects.key(f"blobs/sha256/{digest[:2]}/{digest[2:]}")
        data = bytearray(reg.objects.fs.cat_file(key))
        data[len(data) // 2] ^= 0xFF
        reg.objects.fs.pipe_file(key, bytes(data))
        cached = reg.blob_cache / digest[:2] / digest[2:]
        cached.unlink(missing_ok=True)
        return
    target = reg.path(ref) / path
    target.chmod(0o644)
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))


def test_publish_load_and_idempotent_republish(backend: str, tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", n=20)
    first = registry.publish(run, "web")
    assert (first.ref, first.created) == ("web@1.0.0", True)
    again = registry.publish(make_run(tmp_path / "copy", n=20), "web")
    assert (again.ref, again.created) == ("web@1.0.0", False)
    ds = registry.load("web@1.0.0", columns=["id", "toxicity"])
    kept = pq.read_table(sorted((run / "data").glob("*.parquet")))
    assert sorted(ds["id"]) == sorted(kept.column("id").to_pylist())
    assert registry.publish(make_run(tmp_path / "more", n=24), "web").ref == "web@1.1.0"
    reg = Registry()
    assert [str(e.version) for e in reg.versions("web")] == ["1.0.0", "1.1.0"]
    assert reg.verify("web@1.1.0") == []
    by = reg.manifest("web@1.0.0")["published_by"]
    assert set(by) == {"user", "host", "curate_version"} and all(by.values())
    assert reg.manifest("web@1.0.0")["created"].endswith("+00:00")


def test_tampered_data_is_refused(backend: str, tmp_path: Path) -> None:
    registry.publish(make_run(tmp_path / "run", n=20), "web")
    reg = Registry()
    _corrupt(reg, "web@1.0.0", "data/train-00001-of-00002.parquet")
    problems = Registry().verify("web@1.0.0")
    assert len(problems) == 1 and "sha256 differs" in problems[0]
    with pytest.raises(CheckFailed, match=r"train-00001-of-00002|sha256 differs"):
        registry.load("web@1.0.0")
    with pytest.raises(CheckFailed):
        registry.publish("web@1.0.0", "promoted")


def test_aliases_move_and_keep_their_history(
    backend: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry.publish(make_run(tmp_path / "a", n=10), "web")
    registry.publish(make_run(tmp_path / "b", n=12), "web")
    assert _invoke(["registry", "tag", "web@1.0.0", "stable"], capsys)[0] == 0
    assert registry.load("web@stable").num_rows == 10
    assert _invoke(["registry", "tag", "web@1.1.0", "stable"], capsys)[0] == 0
    assert registry.load("web@stable").num_rows == 12
    reg = Registry()
    history = reg.records.history("web", "stable")
    assert [m.target for m in history] == ["1.0.0", "1.1.0"]
    assert all(m.by["user"] for m in history)
    code, out, _ = _invoke(["registry", "list"], capsys)
    assert "@stable=1.1.0" in out
    assert _invoke(["registry", "untag", "web@stable"], capsys)[0] == 0
    with pytest.raises(DataError, match="web@stable: no such alias"):
        registry.load("web@stable")
    assert [m.target for m in reg.records.history("web", "stable")] == ["1.0.0", "1.1.0", None]
    code, _, err = _invoke(["registry", "tag", "web@1.0.0", "1bad"], capsys)
    assert code == 2 and "not a valid alias" in err


def test_yank_refuses_loads_and_is_listed(
    backend: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry.publish(make_run(tmp_path / "a", n=10), "web")
    registry.publish(make_run(tmp_path / "b", n=12), "web")
    code, out, _ = _invoke(["registry", "yank", "web@1.1.0", "--reason", "PII leak"], capsys)
    assert (code, out.strip()) == (0, "web@1.1.0 yanked: PII leak")
    with pytest.raises(DataError, match=r"web@1\.1\.0 was yanked on .*: PII leak"):
        registry.load("web@1.1.0")
    assert registry.load("web@1.1.0", allow_yanked=True).num_rows == 12
    assert Registry().entry("web").ref == "web@1.0.0"  # NAME alone skips yanked versions
    code, out, _ = _invoke(["registry", "list"], capsys)
    assert "yanked: 1.1.0" in out
    code, out, _ = _invoke(["registry", "show", "web@1.1.0"], capsys)
    assert "YANKED" in out and "PII leak" in out


def test_delete_collects_blobs_and_never_reuses_the_number(
    backend: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry.publish(make_run(tmp_path / "a", n=10), "web")
    registry.publish(make_run(tmp_path / "b", n=12), "web")
    reg = Registry()
    before = reg.stored_blobs()
    only_b = before - {f["sha256"] for f in reg.manifest("web@1.0.0")["files"]}
    assert only_b
    code, out, err = _invoke(["registry", "delete", "web@1.1.0", "--yes"], capsys)
    assert code == 0, err
    assert out.strip() == f"web@1.1.0 deleted; {len(only_b)} unused blob(s) removed"
    reg = Registry()
    assert reg.stored_blobs() == before - only_b
    assert reg.verify("web@1.0.0") == []
    with pytest.raises(DataError, match=r"web@1\.1\.0 was deleted on .*never reused"):
        registry.load("web@1.1.0")
    republished = registry.publish(make_run(tmp_path / "b2", n=12), "web")
    assert republished.ref == "web@1.2.0"
    with pytest.raises(DataError, match="never reused"):
        registry.publish(make_run(tmp_path / "c", n=14), "web", version="1.1.0")
    code, _, err = _invoke(["registry", "delete", "web", "--yes"], capsys)
    assert code == 2 and "name the exact version" in err


def test_diff_reports_documents_schema_and_statistics(
    backend: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from curate.registry.diff import diff

    registry.publish(make_run(tmp_path / "a", n=10), "web")
    registry.publish(make_run(tmp_path / "b", n=14), "web")
    result = diff(Registry(), "web@1.0.0", "web@1.1.0")
    ids_a = {f"doc-0-{i:04d}" for i in range(10)}
    ids_b = {f"doc-0-{i:04d}" for i in range(14)}
    assert result["documents"]["added"] == len(ids_b - ids_a) == 4
    assert result["documents"]["removed"] == 0
    assert result["documents"]["added_ids"] == sorted(ids_b - ids_a)
    assert result["schema"] == {"added": [], "removed": [], "retyped": {}}
    langs = ["en", "en", "en", "fr", "de", "en", "fr", "en"]
    expect_en = sum(langs[i % 8] == "en" for i in range(14)) / 14
    assert result["stats"]["b"]["languages"]["en"] == pytest.approx(expect_en)
    tox = [((i * 37) % 100) / 100 for i in range(14)]
    assert result["stats"]["b"]["toxicity_mean"] == pytest.approx(sum(tox) / 14)
    code, out, _ = _invoke(["registry", "diff", "web@1.0.0", "web@1.1.0"], capsys)
    assert code == 0
    assert out.splitlines()[:2] == ["web@1.0.0 -> web@1.1.0", "  documents  +4 -0 (10 kept)"]


def _publish_in_process(location: str, endpoint: str | None, source: str, version: str) -> str:
    if endpoint:
        _use_s3(endpoint)
    os.environ["CURATE_REGISTRY"] = location
    try:
        return registry.publish(source, "race", version=version or None).ref
    except DataError as exc:
        return f"refused: {exc.message}"


def _race(location: str, endpoint: str | None, sources: list[Path], version: str) -> list[str]:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(len(sources)) as pool:
        args = [(location, endpoint, str(s), version) for s in sources]
        return list(pool.starmap(_publish_in_process, args, chunksize=1))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["local", "s3"])
def test_concurrent_publishers_one_winner_per_version(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = None
    location = str(tmp_path / "registry")
    if kind == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        _use_s3(endpoint, monkeypatch)
        location = f"s3://{BUCKET}/race-{os.urandom(4).hex()}"
    sources = [make_run(tmp_path / f"run{i}", n=10 + i, seed=i) for i in range(4)]
    pinned = _race(location, endpoint, sources, "3.0.0")
    assert sorted(r for r in pinned if not r.startswith("refused")) == ["race@3.0.0"]
    assert sum("already published with different content" in r for r in pinned) == 3
    auto = _race(location, endpoint, sources, "")
    reg = Registry(location)
    versions = reg.versions("race")
    assert len(versions) == 4  # one per distinct content, none lost
    assert len({e.content_id for e in versions}) == 4
    assert sorted(set(auto) - {"race@3.0.0"}) == sorted(
        e.ref for e in versions if str(e.version) != "3.0.0"
    )
    for entry in versions:
        assert reg.verify(entry.ref) == []


def test_remote_load_downloads_only_the_split(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    run = make_run(tmp_path / "run", n=20)
    data = run / "data"
    shutil.move(data / "train-00001-of-00002.parquet", data / "test-00000-of-00001.parquet")
    shutil.move(data / "train-00000-of-00002.parquet", data / "train-00000-of-00001.parquet")
    location = f"memory://split-{os.urandom(4).hex()}"
    monkeypatch.setenv("CURATE_REGISTRY", location)
    published = registry.publish(run, "web")
    reg = Registry()
    files: dict[str, Any] = {f["path"]: f for f in reg.manifest(published.ref)["files"]}
    assert registry.load(published.ref, split="test").num_rows == 10
    cache = Path(os.environ["CURATE_CACHE"]) / "registry" / "blobs" / "sha256"
    cached = {p.parent.name + p.name for p in cache.glob("*/*")}
    assert cached == {files["data/test-00000-of-00001.parquet"]["sha256"]}


def test_create_if_absent_on_every_backend(backend: str) -> None:
    from curate.registry.objects import ObjectStore

    store = ObjectStore.at(backend)
    assert store.conditional == backend.startswith("s3://")
    assert store.create("records/x/first.json", b"one") is True
    assert store.create("records/x/first.json", b"two") is False
    assert store.read("records/x/first.json") == b"one"
    assert store.names("records/x") == ["first.json"]


def test_a_missing_bucket_is_a_clear_error(
    s3_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _use_s3(s3_endpoint, monkeypatch)
    run = make_run(tmp_path / "run", n=6)
    code, _, err = _invoke(
        ["publish", str(run), "web", "--registry", "s3://no-such-bucket/r"], capsys
    )
    assert code == 2
    assert "no-such-bucket" in err and "cannot write to the registry store" in err
    import fsspec.config

    fsspec.config.conf.pop("s3", None)


def test_diff_names_removal_reasons_when_lineage_links_the_versions(tmp_path: Path) -> None:
    import json

    import pyarrow as pa

    from curate.registry.diff import diff

    registry.publish(make_run(tmp_path / "a", n=10), "web")
    child = make_run(tmp_path / "b", n=10)
    for shard in sorted((child / "data").glob("*.parquet")):
        table = pq.read_table(shard)
        keep = pa.compute.invert(
            pa.compute.is_in(table["id"], pa.array(["doc-0-0000", "doc-0-0001", "doc-0-0007"]))
        )
        pq.write_table(table.filter(keep), shard)
    ledger = pa.table(
        {
            "stage": ["dedup.exact", "filter", "filter"],
            "reason": ["duplicate", "toxicity", "toxicity"],
            "detail": ["", "", ""],
            "id": ["doc-0-0000", "doc-0-0001", "doc-0-0007"],
            "text": ["", "", ""],
        }
    )
    pq.write_table(ledger, child / "curate" / "removed" / "part-00000.parquet")
    report = child / "curate" / "run.json"
    run = json.loads(report.read_text())
    run["input"] = {**(run.get("input") or {}), "registry_refs": ["web@1.0.0"]}
    report.write_text(json.dumps(run))
    published = registry.publish(child, "web-clean")
    result = diff(Registry(), "web@1.0.0", published.ref)
    docs = result["documents"]
    assert (docs["added"], docs["removed"], docs["kept"]) == (0, 3, 7)
    assert docs["removed_ids"] == ["doc-0-0000", "doc-0-0001", "doc-0-0007"]
    assert docs["removal_reasons"] == {"dedup.exact: duplicate": 1, "filter: toxicity": 2}


def test_an_alias_works_as_recipe_input(backend: str, tmp_path: Path) -> None:
    from curate.io.sources import resolve as resolve_sources

    registry.publish(make_run(tmp_path / "a", n=10), "web")
    Registry().tag("web@1.0.0", "stable")
    resolved = resolve_sources("web@stable")
    assert resolved.registry_refs == ("web@stable",)
    rows = sum(pq.read_metadata(s.path).num_rows for s in resolved.sources)
    assert rows == 10
