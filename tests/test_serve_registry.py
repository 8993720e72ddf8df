"""The registry pages of ``curate serve`` and the data they show, over a registry made here.

The registry holds ``web-sample`` 1.0.0 (40 documents, aliased ``stable``, later yanked),
2.0.0 (two documents dropped, four added, a column added) and ``web-long@1.0.0``, made from
``web-sample@2.0.0``. Expected values are computed from the Parquet files directly.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient
from test_card_fixture import make_run

import curate.registry as registry
from curate.errors import DataError
from curate.registry import Registry
from curate.serve import registry_data
from curate.serve.app import create_app


def _rewrite(run: Path, keep: slice, *, extra: bool) -> None:
    """Keep ``keep`` of the run's rows (in one shard), optionally with an added column."""
    shards = sorted((run / "data").glob("*.parquet"))
    table = pq.read_table(shards).slice(keep.start, keep.stop - keep.start)
    if extra:
        table = table.append_column("source", pa.array(["web"] * table.num_rows))
    for shard in shards:
        shard.unlink()
    pq.write_table(table, run / "data" / "train-00000-of-00001.parquet")


@pytest.fixture
def reg_root(tmp_path: Path) -> Path:
    root = tmp_path / "registry"
    first = make_run(tmp_path / "v1", n=40)
    assert registry.publish(first, "web-sample", registry=root).ref == "web-sample@1.0.0"
    second = make_run(tmp_path / "v2", n=46)
    _rewrite(second, slice(2, 44), extra=True)
    assert registry.publish(second, "web-sample", registry=root).ref == "web-sample@2.0.0"
    child = make_run(tmp_path / "child", n=12, seed=7)
    run = json.loads((child / "curate" / "run.json").read_text())
    run["input"]["registry_refs"] = ["web-sample@2.0.0"]
    (child / "curate" / "run.json").write_text(json.dumps(run))
    assert registry.publish(child, "web-long", registry=root).ref == "web-long@1.0.0"
    reg = Registry(root)
    reg.tag("web-sample@1.0.0", "stable")
    reg.yank("web-sample@1.0.0", "labels were wrong")
    reg.close()
    return root


def _ids(reg: Registry, ref: str) -> set[str]:
    folder = reg.path(ref)
    table = pq.read_table(sorted((folder / "data").glob("*.parquet")), columns=["id"])
    return set(table.column("id").to_pylist())


def test_datasets_and_versions_carry_aliases_and_yanks(reg_root: Path) -> None:
    reg = Registry(reg_root)
    listed = {d["name"]: d for d in registry_data.datasets(reg)}
    assert sorted(listed) == ["web-long", "web-sample"]
    assert listed["web-sample"]["latest"] == "2.0.0"
    assert listed["web-sample"]["rows"] == 42
    assert listed["web-sample"]["aliases"] == {"stable": "1.0.0"}
    assert listed["web-sample"]["yanked"] == ["1.0.0"]
    rows = registry_data.versions(reg, "web-sample")
    assert [v["version"] for v in rows] == ["2.0.0", "1.0.0"]
    old = rows[1]
    assert old["aliases"] == ["stable"] and old["yanked"]["reason"] == "labels were wrong"
    assert rows[0]["aliases"] == [] and rows[0]["yanked"] is None
    with pytest.raises(DataError, match="no such dataset"):
        registry_data.versions(reg, "web-samples")
    reg.close()


def test_manifest_lists_every_file_with_its_real_checksum(reg_root: Path) -> None:
    import hashlib

    reg = Registry(reg_root)
    shown = registry_data.manifest(reg, "web-sample@2.0.0")
    folder = reg.path("web-sample@2.0.0")
    on_disk = sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.name != "manifest.json"
    )
    assert sorted(f["path"] for f in shown["files"]) == on_disk
    for item in shown["files"]:
        assert item["sha256"] == hashlib.sha256((folder / item["path"]).read_bytes()).hexdigest()
    assert [c["name"] for c in shown["schema"]][-1] == "source"
    assert registry_data.verify(reg, "web-sample@2.0.0")["problems"] == []
    reg.close()


def test_lineage_links_parents_and_children(reg_root: Path) -> None:
    reg = Registry(reg_root)
    graph = registry_data.lineage(reg, "web-sample@2.0.0")
    assert graph.edges == (("web-sample@2.0.0", "web-long@1.0.0"),)
    layers = [[n.ref for n in layer] for layer in graph.layers()]
    assert layers == [["web-sample@2.0.0"], ["web-long@1.0.0"]]
    root = next(n for n in graph.nodes if n.ref == "web-sample@2.0.0")
    assert root.inputs == ("raw/part-0.jsonl",)
    alone = registry_data.lineage(reg, "web-sample@1.0.0")
    assert [n.ref for n in alone.nodes] == ["web-sample@1.0.0"] and alone.edges == ()
    reg.close()


def test_diff_matches_a_direct_comparison_of_ids_schema_and_stats(reg_root: Path) -> None:
    reg = Registry(reg_root)
    a, b = _ids(reg, "web-sample@1.0.0"), _ids(reg, "web-sample@2.0.0")
    result = registry_data.diff(reg, "web-sample@1.0.0", "web-sample@2.0.0")
    docs = result["documents"]
    assert (docs["added"], docs["removed"], docs["kept"]) == (len(b - a), len(a - b), len(a & b))
    assert (len(b - a), len(a - b)) == (4, 2)
    assert docs["removed_ids"] == sorted(a - b)
    assert result["schema"] == {"added": ["source"], "removed": [], "retyped": {}}
    folder = reg.path("web-sample@2.0.0")
    tox = pq.read_table(sorted((folder / "data").glob("*.parquet")), columns=["toxicity"])
    assert result["stats"]["b"]["toxicity_mean"] == pytest.approx(
        pc.mean(tox.column("toxicity")).as_py()
    )
    reg.close()


def _client(root: Path | str | None) -> TestClient:
    return TestClient(create_app(roots=[], registry=None if root is None else str(root)))


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_pages_show_datasets_versions_manifest_lineage_and_diff(reg_root: Path) -> None:
    client = _client(reg_root)
    home = client.get("/registry")
    assert home.status_code == 200
    assert "@stable = 1.0.0" in _text(home.text) and "yanked: 1.0.0" in _text(home.text)
    versions = _text(client.get("/registry/web-sample").text)
    assert "yanked: labels were wrong" in versions and "@stable" in versions
    page = client.get("/registry/web-sample/2.0.0").text
    reg = Registry(reg_root)
    for item in reg.manifest("web-sample@2.0.0")["files"]:
        assert item["sha256"] in page and item["path"] in page
    reg.close()
    lineage = client.get("/registry/web-sample/2.0.0/lineage").text
    assert "<svg" in lineage and 'href="/registry/web-long/1.0.0"' in lineage
    assert lineage.count('class="edge"') == 1
    pair = {"a": "web-sample@1.0.0", "b": "web-sample@2.0.0"}
    diff = _text(client.get("/registry/-/diff", params=pair).text)
    assert "+4" in diff and "−2" in diff and "+ source" in diff
    assert "42" in diff and "40" in diff
    assert "All " in _text(client.get("/registry/web-sample/2.0.0/verify").text)


def test_alias_in_the_url_resolves_to_its_version(reg_root: Path) -> None:
    page = _client(reg_root).get("/registry/web-sample/stable")
    assert page.status_code == 200 and "web-sample@1.0.0" in page.text


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/registry/web-samples", "did you mean"),
        ("/registry/web-sample/9.9.9", "no such dataset version"),
        ("/registry/..etc/1.0.0", "not a valid dataset name"),
        ("/registry/..%2F..%2Fetc%2Fpasswd", "Not Found"),
        ("/registry/web-sample/1.0", "not a version"),
        ("/registry/-/diff?a=web-sample@1.0.0&b=nope@1.0.0", "no such dataset"),
    ],
)
def test_bad_refs_are_404_pages_with_the_registry_hint(
    reg_root: Path, path: str, says: str
) -> None:
    page = _client(reg_root).get(path)
    assert page.status_code == 404
    assert says in page.text


def test_a_tampered_version_fails_verification_on_its_page(reg_root: Path) -> None:
    reg = Registry(reg_root)
    shard = sorted((reg.path("web-sample@2.0.0") / "data").glob("*.parquet"))[0]
    reg.close()
    shard.chmod(0o644)
    shard.write_bytes(shard.read_bytes() + b"x")
    client = _client(reg_root)
    page = _text(client.get("/registry/web-sample/2.0.0/verify").text)
    assert "1 problem(s)" in page and "size" in page
    diff = client.get("/registry/-/diff", params={"a": "web-sample@1.0.0", "b": "web-sample@2.0.0"})
    assert diff.status_code == 409 and "fail verification" in diff.text


def test_without_a_registry_the_page_says_how_to_serve_one() -> None:
    page = _client(None).get("/registry")
    assert page.status_code == 404 and "curate serve REGISTRY_DIR" in page.text


def test_dataset_metadata_is_escaped(tmp_path: Path) -> None:
    root = tmp_path / "registry"
    run = make_run(tmp_path / "run", n=6)
    run_json: dict[str, Any] = json.loads((run / "curate" / "run.json").read_text())
    run_json["recipe"]["description"] = "<script>alert(1)</script>"
    run_json["recipe"]["card"]["pretty_name"] = '<img src=x onerror="alert(2)">'
    (run / "curate" / "run.json").write_text(json.dumps(run_json))
    registry.publish(run, "hostile", registry=root)
    client = _client(root)
    for path in ("/registry", "/registry/hostile", "/registry/hostile/1.0.0"):
        html = client.get(path).text
        assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;img src=x onerror=" in client.get("/registry/hostile/1.0.0").text


def test_a_folder_that_is_not_a_registry_is_refused_and_left_untouched(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    page = _client(missing).get("/registry")
    assert page.status_code == 404 and "no registry with a published dataset here" in page.text
    assert not missing.exists()


def test_lineage_of_a_version_with_two_parents_and_one_unknown(tmp_path: Path) -> None:
    root = tmp_path / "registry"
    registry.publish(make_run(tmp_path / "a", n=6, seed=1), "part-a", registry=root)
    registry.publish(make_run(tmp_path / "b", n=6, seed=2), "part-b", registry=root)
    mixed = make_run(tmp_path / "mix", n=8, seed=3)
    run = json.loads((mixed / "curate" / "run.json").read_text())
    run["input"]["registry_refs"] = ["part-a@1.0.0", "part-b@1.0.0", "elsewhere@2.0.0"]
    (mixed / "curate" / "run.json").write_text(json.dumps(run))
    registry.publish(mixed, "mixed", registry=root)
    reg = Registry(root)
    graph = registry_data.lineage(reg, "part-a@1.0.0")
    reg.close()
    # From part-a: its child, and the child's other parents are not part-a's lineage.
    assert graph.edges == (("part-a@1.0.0", "mixed@1.0.0"),)
    reg = Registry(root)
    graph = registry_data.lineage(reg, "mixed@1.0.0")
    reg.close()
    assert sorted(graph.edges) == [
        ("elsewhere@2.0.0", "mixed@1.0.0"),
        ("part-a@1.0.0", "mixed@1.0.0"),
        ("part-b@1.0.0", "mixed@1.0.0"),
    ]
    layers = [[n.ref for n in layer] for layer in graph.layers()]
    assert layers == [["elsewhere@2.0.0", "part-a@1.0.0", "part-b@1.0.0"], ["mixed@1.0.0"]]
    assert [n.known for n in graph.nodes if n.ref == "elsewhere@2.0.0"] == [False]
    html = _client(root).get("/registry/mixed/1.0.0/lineage").text
    assert html.count('class="edge"') == 3
    assert 'class="node missing"' in html and "not in this registry" in html


def test_a_registry_url_is_served_through_the_same_pages(tmp_path: Path) -> None:
    location = f"memory://serve-{tmp_path.name}"
    registry.publish(make_run(tmp_path / "a", n=10), "web-sample", registry=location)
    registry.publish(make_run(tmp_path / "b", n=12), "web-sample", registry=location)
    client = _client(location)
    assert "1.1.0" in client.get("/registry").text
    pair = {"a": "web-sample@1.0.0", "b": "web-sample@1.1.0"}
    assert "+2" in _text(client.get("/registry/-/diff", params=pair).text)
    assert "All " in _text(client.get("/registry/web-sample/1.1.0/verify").text)


@given(
    st.lists(
        st.tuples(st.integers(0, 7), st.integers(0, 7)).filter(lambda e: e[0] < e[1]),
        max_size=20,
    )
)
def test_every_lineage_edge_goes_to_a_higher_layer(edges: list[tuple[int, int]]) -> None:
    parents: dict[str, list[str]] = {}
    for up, down in edges:
        parents.setdefault(f"v{down}", []).append(f"v{up}")
    members = {f"v{i}" for i in range(8)}
    layer = registry_data.layers_of(parents, members)
    for up, down in edges:
        assert layer[f"v{up}"] < layer[f"v{down}"]
    for node, ups in parents.items():  # a node sits right below its highest parent
        assert layer[node] == 1 + max(layer[u] for u in ups)
    assert all(layer[n] == 0 for n in members if n not in parents)


def test_a_cycle_in_hand_edited_manifests_still_gets_layers() -> None:
    layer = registry_data.layers_of({"a": ["b"], "b": ["a"], "c": ["b"]}, {"a", "b", "c"})
    assert set(layer) == {"a", "b", "c"} and layer["c"] > layer["b"]
