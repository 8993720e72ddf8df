"""One source for every count the dataset card and the audit both show, on an actual run of
recipes/quickstart.yaml with its audit. The quickstart audit once said "exact copies removed
upstream: 40" (the `dup_count` of kept rows) where the card and run report said 44; here each
shared count is read from the card, from audit.md and from audit.json, and all three are
checked against a direct count of the run's own files (the Parquet data, the removal ledger
and run.json)."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from curate.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def quickstart(
    tmp_path_factory: pytest.TempPathFactory, lid_model: Path
) -> tuple[Path, str, str, dict[str, Any]]:
    recipe_path = ROOT / "recipes" / "quickstart.yaml"
    if not recipe_path.exists():
        pytest.skip("recipes/quickstart.yaml is not there yet")
    tmp = tmp_path_factory.mktemp("quickstart")
    recipe = yaml.safe_load(recipe_path.read_text())
    assert "audit" in recipe, "the quickstart recipe audits its output"
    recipe["output"]["path"] = str(tmp / "out")
    recipe["input"]["path"] = str(ROOT / recipe["input"]["path"])
    (tmp / "quickstart.yaml").write_text(yaml.safe_dump(recipe))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CURATE_LID_MODEL", str(lid_model))
        try:
            main(["run", str(tmp / "quickstart.yaml")])
        except SystemExit as exc:
            assert exc.code in (0, None)
    out = tmp / "out"
    card = (out / "README.md").read_text()
    md = (out / "curate" / "audit" / "audit.md").read_text()
    report = json.loads((out / "curate" / "audit" / "audit.json").read_text())
    return out, card, md, report


def _section(text: str, heading: str) -> str:
    """The text under the first heading that contains ``heading``, up to the next ``##``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("#") and heading in line)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "\n".join(lines[start + 1 : end])


def _rows(text: str, first: str) -> dict[str, list[str]]:
    """Markdown table rows whose first cell matches ``first``, by that cell (backticks off)."""
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and re.fullmatch(first, cells[0]):
            out.setdefault(cells[0], cells[1:])
    return out


def _count(text: str) -> int:
    return int(text.replace(",", ""))


@pytest.mark.slow
def test_documents_and_languages_agree(quickstart: tuple[Path, str, str, dict[str, Any]]) -> None:
    out, card, md, report = quickstart
    data = pl.read_parquet(sorted((out / "data").glob("*.parquet")))
    held = re.search(r"It holds ([\d,]+) documents", card)
    assert held and _count(held.group(1)) == data.height
    assert report["documents"] == data.height
    assert md.splitlines()[2].startswith(f"{data.height:,} documents;")
    langs = Counter(data.get_column("lang").fill_null("und").to_list())
    assert report["sections"]["composition"]["languages"]["counts"] == dict(langs)
    # The card lists the languages of its `language:` list in one table (code, name, count).
    card_langs = {
        code: _count(r[1])
        for code, r in _rows(_section(card, "## Languages"), r"[a-z]{2,3}").items()
    }
    assert card_langs and all(card_langs[c] == langs[c] for c in card_langs)
    md_langs = {
        code: _count(r[0]) for code, r in _rows(_section(md, "Composition"), r"[a-z]{2,3}").items()
    }
    assert all(md_langs[c] == langs[c] for c in card_langs)


@pytest.mark.slow
def test_exact_copies_and_removals_agree(quickstart: tuple[Path, str, str, dict[str, Any]]) -> None:
    out, card, md, report = quickstart
    run = json.loads((out / "curate" / "run.json").read_text())
    removed: Counter[str] = Counter()
    for part in sorted((out / "curate" / "removed").glob("*.parquet")):
        removed.update(pl.read_parquet(part, columns=["stage"]).get_column("stage").to_list())
    exact = [s for s in run["stages"] if s["use"] == "dedup.exact"]
    copies = sum(int(s["removed"]) for s in exact)
    assert copies == sum(removed[s["label"]] for s in exact) > 0
    dup = report["sections"]["composition"]["duplicates"]["exact"]
    assert dup["copies_removed"] == copies
    assert _count(
        _rows(md, "exact copies removed upstream")["exact copies removed upstream"][0]
    ) == (copies)
    # The card's duplicates table and its ledger table, the audit's stage table: one number.
    card_dups = _rows(_section(card, "## Duplicates"), r"dedup\.\w+")
    assert _count(card_dups["dedup.exact"][1]) == copies
    stages = report["sections"]["filter_impact"]["stages"]
    md_stages = _rows(_section(md, "Filter impact"), "|".join(map(re.escape, stages)))
    for stage, row in stages.items():
        assert row["removed"] == removed[stage], stage
        assert _count(md_stages[stage][1]) == removed[stage], stage
    card_ledger = {
        stage: _count(r[1])
        for stage, r in _rows(
            _section(card, "### Source Data"), "|".join(map(re.escape, stages))
        ).items()
    }
    assert card_ledger == {s: removed[s] for s in stages}
    near = report["sections"]["composition"]["duplicates"]["near"]["documents_in_clusters"]
    data = pl.read_parquet(sorted((out / "data").glob("*.parquet")))
    assert near == int((data.get_column("dup_cluster_size") > 1).sum())
    assert f"{near} kept documents belong to a near-duplicate cluster" in card
    assert _rows(md, "documents in near-duplicate clusters")[
        "documents in near-duplicate clusters"
    ] == [str(near)]


@pytest.mark.slow
def test_toxicity_counts_and_findings_agree(
    quickstart: tuple[Path, str, str, dict[str, Any]],
) -> None:
    out, card, md, report = quickstart
    data = pl.read_parquet(sorted((out / "data").glob("*.parquet")))
    scores = data.get_column("toxicity")
    scored, unscored = scores.len() - scores.null_count(), scores.null_count()
    dist = report["sections"]["harm"]["distribution"]
    assert (dist["scored"], dist["unscored"]) == (scored, unscored)
    assert _rows(_section(card, "## Toxicity"), "toxicity")["toxicity"][:2] == [
        f"{scored:,}",
        f"{unscored:,}",
    ]
    assert f"{scored:,} documents scored ({unscored:,} unscored)" in md
    share = float((scores.drop_nulls() >= report["toxicity_threshold"]).mean() or 0.0)
    assert dist["toxic_share"] == pytest.approx(share)
    assert f"About {100 * share:.1f}% of scored documents are at or above" in card
    # The card repeats the audit's findings word for word.
    bias = card.split("The bias audit (`curate/audit/`) found:", 1)[1].split("###", 1)[0]
    bullets = [line[2:] for line in bias.splitlines() if line.startswith("- ")]
    assert bullets and all(b in report["findings"] for b in bullets)


@pytest.mark.slow
def test_limitations_name_the_scorer_lexicons_and_language_gap(
    quickstart: tuple[Path, str, str, dict[str, Any]],
) -> None:
    out, _, md, report = quickstart
    prov = report["provenance"]
    limits = _section(md, "Limitations and provenance")
    from curate.identity.lexicon import builtin_dir

    assert prov["lexicons"]
    for lexicon in prov["lexicons"]:
        # Built-in lexicons are named as the package ships them, not by this machine's path.
        assert lexicon["file"].startswith("builtin:")
        name = lexicon["file"].removeprefix("builtin:")
        digest = hashlib.sha256((builtin_dir() / name).read_bytes()).hexdigest()
        assert lexicon["sha256"] == digest
        assert f"Lexicon {lexicon['file']} (sha256 {digest})" in limits
    assert str(builtin_dir()) not in limits
    # The recipe's score.toxicity runs the default model: its name, version and file sums.
    scorer = prov["scorer"]
    version = importlib.metadata.version("alt-profanity-check")
    assert (scorer["model"], scorer["version"]) == ("default", f"alt-profanity-check {version}")
    from curate.toxicity import linear

    for name, digest in scorer["sha256"].items():
        assert digest == hashlib.sha256((linear.data_dir() / name).read_bytes()).hexdigest()
        assert f"{name} {digest}" in limits
    data = pl.read_parquet(sorted((out / "data").glob("*.parquet")))
    outside = int((~data.get_column("lang").is_in(prov["lexicon_languages"])).sum())
    assert prov["documents_without_lexicon"] == outside > 0
    assert f"{outside} documents are in a language no lexicon covers" in limits
    assert "Holm's method" in limits


@pytest.mark.slow
def test_thin_groups_and_rare_languages_fold_into_one_line(
    quickstart: tuple[Path, str, str, dict[str, Any]],
) -> None:
    out, _, md, report = quickstart
    page = (out / "curate" / "audit" / "audit.html").read_text()
    folds = re.findall(r'<details class="fold"><summary>([^<]+)</summary>', page)
    groups = report["sections"]["representation"]["groups"]
    thin = [g for g, r in groups.items() if r.get("insufficient") and r["documents"]]
    shares = report["sections"]["composition"]["languages"]["shares"]
    rare = [code for code, share in shares.items() if share < 0.01]
    assert thin and rare
    assert f"{len(thin)} groups with too few documents" in folds
    language_line = f"{len(rare)} language{'s' if len(rare) > 1 else ''} under 1.0% each"
    assert language_line in folds
    # One line each in Markdown too, and none of those groups gets a table row.
    assert md.count("groups with too few documents:") == 1
    table = _section(md, "Representation")
    assert not any(line.startswith(f"| {g} |") for g in thin for line in table.splitlines())
