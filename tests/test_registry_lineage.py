"""A real ``curate run`` whose input is a registry ref: the output's card and its lineage."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_card_fixture import make_run

import curate.registry as registry
from curate.card.check import check_card
from curate.cli import main


def _run(tmp_path: Path, source: str, out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recipe = tmp_path / f"{out.name}.yaml"
    recipe.write_text(
        f"name: {out.name}\n"
        "description: Long documents of a registry version.\n"
        f"input: {{path: '{source}'}}\n"
        "stages:\n"
        "  - use: normalize\n"
        "  - use: filter\n"
        "    with: {where: 'length(text) > 45'}\n"
        f"output: {{path: '{out}'}}\n"
        "card: {pretty_name: Long documents, license: odc-by}\n"
    )
    try:
        main(["run", str(recipe)])
    except SystemExit as exc:
        assert exc.code in (0, None), capsys.readouterr().err
    capsys.readouterr()


@pytest.mark.slow
def test_run_from_a_registry_ref_records_its_parent_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = make_run(tmp_path / "source", n=40)
    assert registry.publish(source, "web-sample").ref == "web-sample@1.0.0"
    make_run(source, n=44)
    assert registry.publish(source, "web-sample").ref == "web-sample@1.1.0"

    pinned = tmp_path / "long-pinned"
    _run(tmp_path, "web-sample@1.0.0", pinned, capsys)
    assert check_card(pinned) == []  # the card the run wrote is valid as it stands
    published = registry.publish(pinned, "long-docs")
    manifest = registry.Registry().manifest(published.ref)
    assert manifest["lineage"]["parents"] == ["web-sample@1.0.0"]
    assert manifest["lineage"]["recipe"]["input"]["path"] == "web-sample@1.0.0"
    assert manifest["rows"] < 40

    latest = tmp_path / "long-latest"
    _run(tmp_path, "web-sample", latest, capsys)  # "the latest" is pinned at run time
    published = registry.publish(latest, "long-docs")
    assert published.ref == "long-docs@1.1.0"
    parents = registry.Registry().manifest(published.ref)["lineage"]["parents"]
    assert parents == ["web-sample@1.1.0"]

    main(["registry", "show", "long-docs@1.0.0"])
    shown = capsys.readouterr().out
    assert "lineage:\n  long-docs@1.0.0" in shown
    assert "    web-sample@1.0.0  (40 rows)" in shown
    assert "raw/part-0.jsonl" in shown
