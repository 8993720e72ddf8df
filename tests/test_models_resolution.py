"""Model assets: resolution order, checksums, the package-index fetch and offline errors.

No test here touches the network: sources are local files, a local simple index, and (for the
JSON index API and credentials) an HTTP server on 127.0.0.1 that stops with the test.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import os
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from curate import models
from curate.cli import cli
from curate.errors import MissingDependencyError
from curate.models import fetch

PAYLOAD = b"not really a model, but bytes with a known checksum\n" * 20
MEMBER = "fake_pkg/resources/model.bin"
WHEEL = "fake_pkg-1.0-py3-none-any.whl"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_wheel(payload: bytes = PAYLOAD) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("fake_pkg/__init__.py", "")
        zf.writestr(MEMBER, payload)
    return buf.getvalue()


WHEEL_BYTES = make_wheel()


def asset(*, urls: tuple[str, ...] = (), wheel_sha: str | None = None) -> models.ModelAsset:
    return models.ModelAsset(
        name="fake",
        filename="fake.bin",
        urls=urls,
        sha256=sha(PAYLOAD),
        size=len(PAYLOAD),
        license="CC0-1.0",
        description="a test asset",
        env_var="CURATE_FAKE_MODEL",
        wheel=models.WheelSource("fake-pkg", WHEEL, wheel_sha or sha(WHEEL_BYTES), MEMBER),
    )


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No pip configuration, and a 'public index' that is a missing local folder."""
    monkeypatch.setattr(fetch, "_pip_config", dict)
    monkeypatch.setattr(fetch, "PUBLIC_INDEX", (tmp_path / "no-public-index").as_uri())
    for var in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "CURATE_OFFLINE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("CURATE_LID_MODEL", raising=False)


def register(monkeypatch: pytest.MonkeyPatch, a: models.ModelAsset) -> None:
    monkeypatch.setitem(models.ASSETS, a.name, a)


def test_lid176_asset_facts() -> None:
    lid = models.ASSETS["lid.176"]
    assert (lid.filename, lid.size, lid.license, lid.env_var) == (
        "lid.176.ftz",
        938_013,
        "CC BY-SA 3.0",
        "CURATE_LID_MODEL",
    )
    assert lid.wheel is not None and lid.wheel.member.endswith("lid.176.ftz")


def test_lid176_checksum_matches_the_reference_copy(lid_model: Path) -> None:
    assert models.sha256_file(lid_model) == models.ASSETS["lid.176"].sha256


def test_resolution_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    register(monkeypatch, asset())
    explicit, env = tmp_path / "explicit.bin", tmp_path / "env.bin"
    explicit.write_bytes(PAYLOAD)
    env.write_bytes(PAYLOAD)
    cached = models.cache_path(models.ASSETS["fake"])
    cached.parent.mkdir(parents=True)
    cached.write_bytes(PAYLOAD)
    monkeypatch.setenv("CURATE_FAKE_MODEL", str(env))
    assert models.resolve("fake", explicit=explicit) == explicit
    assert models.locate("fake", explicit=explicit).origin == "parameter"
    assert models.resolve("fake") == env
    monkeypatch.delenv("CURATE_FAKE_MODEL")
    assert models.resolve("fake") == cached
    assert models.locate("fake").origin == "cache"
    cached.write_bytes(PAYLOAD[:-1])  # a truncated cache file is not used
    assert models.locate("fake").origin == "corrupt"


def test_cache_follows_curate_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CURATE_CACHE", str(tmp_path / "c"))
    assert models.cache_path(models.ASSETS["lid.176"]) == tmp_path / "c" / "models" / "lid.176.ftz"
    monkeypatch.delenv("CURATE_CACHE")
    assert models.cache_dir() == Path.home() / ".cache" / "curate"


def test_missing_explicit_or_env_file_is_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    register(monkeypatch, asset())
    with pytest.raises(MissingDependencyError, match="recipe parameter") as err:
        models.resolve("fake", explicit=tmp_path / "nope.bin")
    assert str(tmp_path / "nope.bin") in err.value.message
    monkeypatch.setenv("CURATE_FAKE_MODEL", str(tmp_path / "gone.bin"))
    with pytest.raises(MissingDependencyError, match=r"\$CURATE_FAKE_MODEL"):
        models.resolve("fake")


def test_fetch_from_url_with_progress(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(PAYLOAD)
    register(monkeypatch, asset(urls=(src.as_uri(),)))
    seen: list[int] = []
    path = models.resolve("fake", progress=lambda done, total, what: seen.append(done))
    assert path == models.cache_path(models.ASSETS["fake"])
    assert path.read_bytes() == PAYLOAD
    assert seen and seen[-1] == len(PAYLOAD)


def test_downloaded_model_is_readable_by_the_team(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(PAYLOAD)
    register(monkeypatch, asset(urls=(src.as_uri(),)))
    old = os.umask(0o022)
    try:
        path = models.resolve("fake")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def test_checksum_mismatch_keeps_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(PAYLOAD.replace(b"known", b"KNOWN"))
    register(monkeypatch, asset(urls=(src.as_uri(),)))
    with pytest.raises(MissingDependencyError, match="checksum mismatch"):
        models.pull("fake")
    folder = models.cache_path(models.ASSETS["fake"]).parent
    assert list(folder.iterdir()) == []  # no model, no partial download


def simple_index(root: Path, wheel: bytes = WHEEL_BYTES) -> Path:
    """A PEP 503 index on disk: root/simple/fake-pkg/index.html linking to root/files/WHEEL."""
    (root / "files").mkdir(parents=True)
    (root / "files" / WHEEL).write_bytes(wheel)
    page = root / "simple" / "fake-pkg"
    page.mkdir(parents=True)
    link = f'<a href="../../files/{WHEEL}#sha256={sha(wheel)}">{WHEEL}</a>'
    (page / "index.html").write_text(f"<html><body>{link}</body></html>")
    return root / "simple"


def test_fetch_from_configured_index(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    register(monkeypatch, asset(urls=((tmp_path / "missing.bin").as_uri(),)))
    index = simple_index(tmp_path / "mirror")
    monkeypatch.setenv("PIP_INDEX_URL", index.as_uri())
    path = models.pull("fake")
    assert path.read_bytes() == PAYLOAD


def test_fetch_from_find_links_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    register(monkeypatch, asset())
    (tmp_path / "wheels").mkdir()
    (tmp_path / "wheels" / WHEEL).write_bytes(WHEEL_BYTES)
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "wheels"))
    assert models.pull("fake").read_bytes() == PAYLOAD


def test_tampered_wheel_is_rejected(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    register(monkeypatch, asset())
    index = simple_index(tmp_path / "mirror", wheel=make_wheel(b"evil"))
    monkeypatch.setenv("PIP_INDEX_URL", index.as_uri())
    with pytest.raises(MissingDependencyError, match="checksum mismatch"):
        models.pull("fake")


def test_package_indexes_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        fetch, "_pip_config", lambda: {"index-url": "https://cfg/simple", "find-links": "/w"}
    )
    assert models.package_indexes() == [
        "https://cfg/simple", "links:/w", fetch.PUBLIC_INDEX
    ]  # fmt: skip
    monkeypatch.setenv("PIP_INDEX_URL", "https://env/simple")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "https://a/simple https://b/simple")
    assert models.package_indexes()[:3] == [
        "https://env/simple", "https://a/simple", "https://b/simple"
    ]  # fmt: skip


class _Index(http.server.BaseHTTPRequestHandler):
    """A PEP 691 JSON index for fake-pkg that insists on basic-auth credentials."""

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != "Basic dXNlcjpzM2NyM3Q=":  # user:s3cr3t
            self.send_response(401)
            self.end_headers()
            return
        if self.path == "/simple/fake-pkg/":
            body = json.dumps(
                {"files": [{"filename": WHEEL, "url": f"/files/{WHEEL}", "hashes": {}}]}
            ).encode()
            ctype = "application/vnd.pypi.simple.v1+json"
        elif self.path == f"/files/{WHEEL}":
            body, ctype = WHEEL_BYTES, "application/octet-stream"
        else:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def json_index() -> Iterator[str]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Index)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://user:s3cr3t@127.0.0.1:{server.server_address[1]}/simple"
    finally:
        server.shutdown()
        server.server_close()


def test_fetch_from_json_index_with_credentials(
    monkeypatch: pytest.MonkeyPatch, json_index: str
) -> None:
    register(monkeypatch, asset())
    monkeypatch.setenv("PIP_INDEX_URL", json_index)
    assert models.pull("fake").read_bytes() == PAYLOAD


def test_offline_error_says_what_to_put_where(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CURATE_OFFLINE", "1")
    with pytest.raises(MissingDependencyError) as err:
        models.resolve("lid.176")
    hint = err.value.hint or ""
    target = models.cache_path(models.ASSETS["lid.176"])
    assert str(target) in hint and "$CURATE_LID_MODEL" in hint
    assert "938013 bytes" in hint and models.ASSETS["lid.176"].sha256 in hint


def test_unreachable_sources_are_listed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    register(monkeypatch, asset(urls=("http://127.0.0.1:9/fake.bin",)))
    with pytest.raises(MissingDependencyError) as err:
        models.pull("fake")
    assert "http://127.0.0.1:9/fake.bin" in err.value.message
    assert f"{WHEEL} via" in err.value.message
    assert "put fake.bin" in (err.value.hint or "")


def test_cli_list_and_pull(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(PAYLOAD)
    register(monkeypatch, asset(urls=(src.as_uri(),)))
    runner = CliRunner()
    rows = json.loads(runner.invoke(cli, ["models", "list", "--json"]).output)
    fake = next(r for r in rows if r["name"] == "fake")
    assert fake["status"] == "missing" and fake["license"] == "CC0-1.0"
    result = runner.invoke(cli, ["models", "pull", "fake"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("fake.bin")
    listing = runner.invoke(cli, ["models", "list"]).output
    assert "lid.176" in listing and "CC BY-SA 3.0" in listing
    assert any(line.startswith("fake ") and " cache " in line for line in listing.splitlines())


def test_cli_offline_exit_code(monkeypatch: pytest.MonkeyPatch) -> None:
    from curate.cli import main

    monkeypatch.setenv("CURATE_OFFLINE", "1")
    with pytest.raises(SystemExit) as exit_info:
        main(["models", "pull", "lid.176"])
    assert exit_info.value.code == 2


def test_asset_without_checksum_is_never_downloaded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(PAYLOAD)
    a = models.ModelAsset("loose", "loose.bin", (src.as_uri(),), "", 0, "MIT", "no checksum")
    register(monkeypatch, a)
    with pytest.raises(MissingDependencyError, match="no checksum"):
        models.resolve("loose")
    cached = models.cache_path(a)
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"whatever the user put there")
    assert models.resolve("loose") == cached
