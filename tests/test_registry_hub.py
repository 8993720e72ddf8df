"""``curate publish --hub``: everything up to the network boundary, and the calls made past it.

No test talks to the Hub: offline, tokenless and unreachable cases must fail before anything is
published or uploaded, and a recording stand-in for ``HfApi`` checks what would be sent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import huggingface_hub
import pytest
from huggingface_hub import constants
from test_card_fixture import make_run

from curate.cli import main
from curate.registry import Registry


class RecordingApi:
    """Stands in for ``HfApi``: records calls, keeps a copy of what upload_folder was given."""

    calls: ClassVar[list[tuple[str, dict[str, Any]]]] = []
    uploaded: ClassVar[dict[str, bytes]] = {}
    fail_whoami: ClassVar[Exception | None] = None

    def whoami(self, token: str | None = None) -> dict[str, str]:
        self.calls.append(("whoami", {"token": token}))
        if self.fail_whoami is not None:
            raise self.fail_whoami
        return {"name": "tester"}

    def create_repo(self, repo_id: str, **kwargs: Any) -> None:
        self.calls.append(("create_repo", {"repo_id": repo_id, **kwargs}))

    def upload_folder(self, **kwargs: Any) -> Any:
        self.calls.append(("upload_folder", kwargs))
        folder = Path(kwargs["folder_path"])
        type(self).uploaded = {
            p.relative_to(folder).as_posix(): p.read_bytes()
            for p in folder.rglob("*")
            if p.is_file()
        }
        return type("Info", (), {"commit_url": "https://hub.example/commit/1"})()

    def create_tag(self, repo_id: str, **kwargs: Any) -> None:
        self.calls.append(("create_tag", {"repo_id": repo_id, **kwargs}))


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> type[RecordingApi]:
    RecordingApi.calls = []
    RecordingApi.uploaded = {}
    RecordingApi.fail_whoami = None
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub, "HfApi", RecordingApi)
    monkeypatch.setattr(huggingface_hub, "get_token", lambda: "hf_test_token")
    return RecordingApi


def _invoke(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _nothing_published() -> bool:
    return Registry().latest_all() == []


def test_offline_fails_clearly_before_publishing_anything(
    tmp_path: Path, api: type[RecordingApi], monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    run = make_run(tmp_path / "run", n=6)
    code, out, err = _invoke(["publish", str(run), "web", "--hub", "org/web"], capsys)
    assert code == 2 and out == ""
    assert "offline mode is on" in err and "HF_HUB_OFFLINE" in err
    assert api.calls == [] and _nothing_published()


def test_missing_token_and_unreachable_hub_fail_before_upload(
    tmp_path: Path, api: type[RecordingApi], monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    run = make_run(tmp_path / "run", n=6)
    monkeypatch.setattr(huggingface_hub, "get_token", lambda: None)
    code, _, err = _invoke(["publish", str(run), "web", "--hub", "org/web"], capsys)
    assert code == 2 and "no access token" in err and "HF_TOKEN" in err
    monkeypatch.setattr(huggingface_hub, "get_token", lambda: "hf_test_token")
    api.fail_whoami = ConnectionError("Name or service not known")
    code, _, err = _invoke(["publish", str(run), "web", "--hub", "org/web"], capsys)
    assert code == 2 and "cannot reach the Hugging Face Hub" in err
    assert "nothing was uploaded" in err
    assert [c for c, _ in api.calls] == ["whoami"] and _nothing_published()


@pytest.mark.parametrize("repo", ["web", "org/", "../org/web", "org/web/extra", "org/we b"])
def test_bad_hub_repo_ids_are_refused(
    tmp_path: Path, api: type[RecordingApi], repo: str, capsys: Any
) -> None:
    code, _, err = _invoke(
        ["publish", str(make_run(tmp_path / "r", n=4)), "web", "--hub", repo], capsys
    )
    assert code == 2 and "not a Hub dataset id" in err
    assert api.calls == []


def test_revision_needs_hub(tmp_path: Path, capsys: Any) -> None:
    code, _, err = _invoke(["publish", str(tmp_path), "web", "--revision", "v1"], capsys)
    assert code == 2 and "--revision" in err


def test_push_sends_card_parquet_and_croissant_and_tags_the_version(
    tmp_path: Path, api: type[RecordingApi], capsys: Any
) -> None:
    run = make_run(tmp_path / "run", n=10, card=True)
    code, out, err = _invoke(
        ["publish", str(run), "web", "--hub", "org/web", "--revision", "release-1"], capsys
    )
    assert code == 0, err
    assert out == "web@1.0.0\n"
    assert [c for c, _ in api.calls] == ["whoami", "create_repo", "upload_folder", "create_tag"]
    calls = dict(api.calls)
    assert calls["create_repo"] == {"repo_id": "org/web", "repo_type": "dataset", "exist_ok": True}
    assert calls["upload_folder"]["repo_type"] == "dataset"
    assert calls["upload_folder"]["ignore_patterns"] == ["curate/removed/*"]
    assert calls["create_tag"]["tag"] == "release-1"
    files = api.uploaded
    assert {"README.md", "croissant.json", "manifest.json"} <= set(files)
    assert {"data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet"} <= set(files)
    readme = files["README.md"].decode()
    assert 'load_dataset("org/web", split="train")' in readme
    assert b"huggingface.co/datasets/org/web" in files["croissant.json"]
    assert Registry().verify("web") == []  # the local version was not touched by the push
    version = Registry().path("web")
    assert (version / "README.md").read_text() != readme
