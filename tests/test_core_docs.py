"""Every stage and command is documented, and the generated references are current."""

from __future__ import annotations

from pathlib import Path

import pytest

from curate.cli import cli
from curate.docgen import _commands, cli_page, stages_page
from curate.stages import get_stage, stage_names

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.mark.parametrize(("page", "build"), [("stages.md", stages_page), ("cli.md", cli_page)])
def test_generated_reference_is_current(page: str, build: object) -> None:
    assert callable(build)
    assert (DOCS / page).read_text(encoding="utf-8") == build(), (
        f"docs/{page} is stale: run `python -m curate.docgen docs`"
    )


def test_every_stage_has_a_summary_and_described_parameters() -> None:
    for name in stage_names():
        cls = get_stage(name)
        assert cls.summary.strip(), name
        for pname, field in cls.model_fields.items():
            assert field.description, f"{name}.{pname} has no description"
        assert f"## {name}" in (DOCS / "stages.md").read_text()


def test_every_command_has_help_and_is_in_the_docs() -> None:
    text = (DOCS / "cli.md").read_text()
    for full, cmd in _commands(cli, "curate"):
        assert (cmd.help or "").strip(), f"{full} has no help"
        assert f"## `{full}`" in text
    narrative = " ".join(p.read_text() for p in DOCS.glob("*.md") if p.name != "cli.md")
    for full, _ in _commands(cli, "curate"):
        assert full in narrative, f"{full} is not mentioned in any narrative docs page"
