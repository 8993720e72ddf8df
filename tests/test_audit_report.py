"""The audit's files: golden Markdown, a self-contained HTML page, JSON keys, CLI and options."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError
from test_audit_sections import make_run_folder, write_corpus

from curate.audit import AuditOptions, audit_dataset
from curate.cli import cli

GOLDEN = Path(__file__).parent / "golden" / "audit" / "audit.md"
SECTIONS = ["composition", "representation", "association", "harm", "filter_impact"]


@pytest.fixture(scope="module")
def audit_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("audit")


@pytest.fixture(scope="module")
def run_audit(audit_root: Path) -> tuple[Path, dict[str, object]]:
    run = make_run_folder(audit_root / "run")
    out = audit_root / "run" / "curate" / "audit"
    report = audit_dataset(run, out_dir=out, sections=SECTIONS)  # type: ignore[arg-type]
    return out, report


def test_golden_markdown(run_audit: tuple[Path, dict[str, object]], audit_root: Path) -> None:
    out, _ = run_audit
    text = (out / "audit.md").read_text().replace(str(audit_root), "TMP")
    if os.environ.get("CURATE_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text(), "set CURATE_UPDATE_GOLDEN=1 to accept a deliberate change"


def test_json_has_the_contract_keys(run_audit: tuple[Path, dict[str, object]]) -> None:
    out, report = run_audit
    data = json.loads((out / "audit.json").read_text())
    assert data == report
    for key in (
        "documents",
        "languages",
        "toxicity_threshold",
        "groups",
        "filter_impact",
        "findings",
    ):
        assert key in data
    for row in data["groups"].values():
        assert {"documents", "share", "ci95", "toxic_rate", "disparity_ratio"} <= set(row)
    stage_rows = data["filter_impact"]["filter"]
    assert {"removal_rate", "ratio"} <= set(stage_rows["gender/female"])
    assert all(isinstance(f, str) and f.endswith(".") for f in data["findings"])


def test_html_is_self_contained(run_audit: tuple[Path, dict[str, object]]) -> None:
    out, _ = run_audit
    page = (out / "audit.html").read_text()
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", page, flags=re.IGNORECASE)
    assert refs, "the page should embed its charts"
    # Charts inlined; the only links are the table of contents' anchors within the page.
    assert all(r.startswith(("data:image/png;base64,", "#")) for r in refs)
    anchors = [r[1:] for r in refs if r.startswith("#")]
    assert anchors and all(f'id="{a}"' in page for a in anchors)
    assert page.count("<details open") == len(anchors)
    assert not re.search(r"https?://", page)
    assert "<script" not in page.lower() and "<link" not in page.lower()
    # Every chart the report lists: languages, lengths, shares, toxicity, forest, impact, pairs.
    for name in (
        "languages.png",
        "lengths.png",
        "groups.png",
        "toxicity.png",
        "disparity.png",
        "impact-filter.png",
        "impact-dedup-exact.png",
    ):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    assert page.count("<img") >= 7


def test_html_renders_offline_in_chromium(
    run_audit: tuple[Path, dict[str, object]], tmp_path: Path
) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed")
    out, _ = run_audit
    shot = tmp_path / "page.png"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--screenshot={shot}",
            "--window-size=1200,2000",
            (out / "audit.html").as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert shot.stat().st_size > 10_000


def test_cli_audit(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus.parquet")
    result = CliRunner().invoke(
        cli,
        [
            "audit",
            str(corpus),
            "-o",
            str(tmp_path / "o"),
            "--section",
            "representation",
            "--section",
            "harm",
            "--toxicity-threshold",
            "0.5",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "audited 100 documents" in result.output
    assert "mentioning gender/female are toxic at 30.0% vs 10.0% for others: 3.0x" in result.output
    assert (tmp_path / "o" / "audit.html").exists()


def test_cli_defaults_to_the_run_folder(tmp_path: Path) -> None:
    run = make_run_folder(tmp_path / "run")
    result = CliRunner().invoke(cli, ["audit", str(run), "--section", "filter_impact"])
    assert result.exit_code == 0, result.output
    data = json.loads((run / "curate" / "audit" / "audit.json").read_text())
    assert list(data["filter_impact"]) == ["dedup.exact", "filter"]


def test_options_validate_like_a_recipe_block(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        AuditOptions.model_validate({"toxicity_treshold": 0.4})
    with pytest.raises(ValidationError):
        AuditOptions.model_validate({"sections": ["harm", "vibes"]})
    options = AuditOptions.model_validate({"toxicity_threshold": 0.4, "sections": ["harm"]})
    corpus = write_corpus(tmp_path / "corpus.parquet")
    report = audit_dataset(corpus, out_dir=tmp_path / "o", **options.model_dump())
    assert report["toxicity_threshold"] == 0.4
    assert set(report["sections"]) == {"composition", "harm"}
    assert report["multiplicity"]["method"] == "holm"
