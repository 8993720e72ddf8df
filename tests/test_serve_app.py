"""curate serve: the app core over HTTP (Starlette's TestClient)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("starlette")
from starlette.testclient import TestClient

from curate.serve.app import create_app, find_runs


def _fake_run(folder: Path) -> Path:
    (folder / "curate").mkdir(parents=True)
    (folder / "curate" / "run.json").write_text(json.dumps({"rows_in": 0, "stages": []}))
    return folder


def test_index_lists_runs_under_roots(tmp_path: Path) -> None:
    a = _fake_run(tmp_path / "a")
    b = _fake_run(tmp_path / "nested" / "b")
    (tmp_path / "not-a-run").mkdir()
    assert find_runs([tmp_path]) == [a, b]
    client = TestClient(create_app(roots=[tmp_path]))
    page = client.get("/")
    assert page.status_code == 200
    assert "Registry" in page.text
    assert str(a) in page.text and str(b) in page.text


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_only_get_and_head(tmp_path: Path, method: str) -> None:
    client = TestClient(create_app(roots=[tmp_path]))
    response = client.request(method, "/")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert client.head("/").status_code == 200
