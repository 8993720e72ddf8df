"""The Python in docs/training.md and docs/registry.md runs, in order, against a real registry."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_card_fixture import make_run

import curate.registry as registry

DOCS = Path(__file__).resolve().parent.parent / "docs"


def python_blocks(page: str) -> list[str]:
    text = (DOCS / page).read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.fixture
def published(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    ref = registry.publish(make_run(tmp_path / "out" / "web-sample", n=40), "web-sample").ref
    assert ref == "web-sample@1.0.0"
    return ref


@pytest.mark.slow
def test_training_page_runs(published: str, capsys: pytest.CaptureFixture[str]) -> None:
    blocks = python_blocks("training.md")
    assert len(blocks) >= 5
    scope: dict[str, object] = {"__name__": "docs_training"}
    for block in blocks:
        exec(compile(block, "docs/training.md", "exec"), scope)
    out = capsys.readouterr().out
    assert "'rows': 40" in out
    assert re.search(r"\d+ steps, loss [\d.]+ -> [\d.]+", out)
    assert "torch.Size([8," in out


def test_registry_page_runs(published: str, tmp_path: Path) -> None:
    blocks = python_blocks("registry.md")
    assert blocks
    scope: dict[str, object] = {"__name__": "docs_registry"}
    for block in blocks:
        exec(compile(block, "docs/registry.md", "exec"), scope)
