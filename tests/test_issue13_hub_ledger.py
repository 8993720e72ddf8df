"""``curate publish --hub`` keeps the removal ledger out of the upload and says so (issue 13)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_card_fixture import make_run
from test_registry_hub import RecordingApi, _invoke, api

from curate.registry import Registry

__all__ = ["api"]  # the fixture, imported so that pytest finds it here


def test_the_ledger_is_not_in_the_upload_and_the_command_says_where_it_is(
    tmp_path: Path, api: type[RecordingApi], capsys: Any
) -> None:
    run = make_run(tmp_path / "run", n=10, card=True)
    assert any((run / "curate" / "removed").glob("*.parquet"))
    code, out, err = _invoke(["publish", str(run), "web", "--hub", "org/web"], capsys)
    assert code == 0, err
    assert out == "web@1.0.0\n"
    # Not merely filtered by ignore_patterns: the folder handed to upload_folder has no ledger.
    assert [p for p in api.uploaded if p.startswith("curate/removed")] == []
    assert "data/train-00000-of-00002.parquet" in api.uploaded
    assert any(Path(Registry().path("web@1.0.0"), "curate", "removed").glob("*.parquet"))
    assert "the removal ledger (curate/removed/) was not uploaded: it stays in web@1.0.0" in err
    hub_card = api.uploaded["README.md"].decode()
    assert "The removal ledger (`curate/removed/`, which holds the **raw text**" in hub_card
    assert "was not uploaded to this repository" in hub_card
    assert "Leave it out when uploading" not in hub_card
    # The Hub copy does not claim the repository holds the ledger; the registry's copy does.
    assert "is kept in the removal ledger" not in hub_card
    assert "the ledger is not part of this repository" in hub_card
    local_card = (Registry().path("web@1.0.0") / "README.md").read_text()
    assert "Leave it out when uploading" in local_card
    assert "Every removed document is kept in the removal ledger" in local_card


def test_with_no_ledger_the_command_says_it_was_left_out(
    tmp_path: Path, api: type[RecordingApi], capsys: Any
) -> None:
    run = make_run(tmp_path / "run", n=10, card=True)
    args = ["publish", str(run), "web", "--hub", "org/web", "--no-ledger"]
    code, _, err = _invoke(args, capsys)
    assert code == 0, err
    assert "the removal ledger (curate/removed/) was not uploaded: it was left out" in err
    assert [p for p in api.uploaded if p.startswith("curate/removed")] == []
