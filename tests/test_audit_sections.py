"""Audit sections on a small corpus whose every number is worked out by hand.

The corpus (:func:`corpus_rows`) has 100 documents:

* 40 mention gender/female, 12 of them toxic (score 0.9), text "she knits in the garden";
* 30 mention gender/male, 3 toxic, text "he plays football";
* 30 mention neither, 3 toxic: 25 say "a quiet day", 5 mention religion/muslim (1 toxic) and say
  "the mosque is open today".

70 are English and 30 French (28 + 21 + 21 and 12 + 9 + 9), and 10 carry ``dup_count = 3``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.audit import audit_dataset
from curate.audit.tally import ColumnTally

TEXT_ONLY_SECTIONS = ["composition", "representation", "harm"]


def corpus_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i in range(40):
        rows.append(
            {
                "id": f"f{i:02d}",
                "text": "she knits in the garden",
                "identities": ["gender/female"],
                "toxicity": 0.9 if i < 12 else 0.1,
                "lang": "en" if i < 28 else "fr",
            }
        )
    for i in range(30):
        rows.append(
            {
                "id": f"m{i:02d}",
                "text": "he plays football",
                "identities": ["gender/male"],
                "toxicity": 0.9 if i < 3 else 0.1,
                "lang": "en" if i < 21 else "fr",
            }
        )
    for i in range(30):
        muslim = i >= 25
        rows.append(
            {
                "id": f"o{i:02d}",
                "text": "the mosque is open today" if muslim else "a quiet day",
                "identities": ["religion/muslim"] if muslim else [],
                "toxicity": 0.9 if i in (0, 1, 25) else 0.1,
                "lang": "en" if i < 21 else "fr",
            }
        )
    for i, row in enumerate(rows):
        row["dup_count"] = 3 if i % 10 == 0 else 1
    return rows


def write_corpus(path: Path, rows: list[dict[str, Any]] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(rows or corpus_rows())
    table = table.set_column(
        table.schema.get_field_index("identities"),
        "identities",
        table.column("identities").cast(pa.list_(pa.string())),
    )
    pq.write_table(table, path)
    return path


def ledger_rows() -> list[dict[str, Any]]:
    """Removed documents: dedup.exact took 4 female, 6 male and 10 other documents; filter took
    20 female, 3 male and 7 other."""
    rows: list[dict[str, Any]] = []
    plan = [("dedup.exact", "duplicate", 4, 6, 10), ("filter", "filtered", 20, 3, 7)]
    for stage, reason, female, male, other in plan:
        for group, n in (("gender/female", female), ("gender/male", male), (None, other)):
            for i in range(n):
                rows.append(
                    {
                        "stage": stage,
                        "reason": reason,
                        "detail": None,
                        "id": f"{stage}-{group}-{i}",
                        "text": "removed text",
                        "identities": [group] if group else [],
                    }
                )
    return rows


def make_run_folder(root: Path) -> Path:
    """A `curate run` output folder: kept rows, a run report and a two-stage ledger."""
    write_corpus(root / "data" / "train-00000-of-00001.parquet")
    (root / "curate" / "removed").mkdir(parents=True)
    run = {
        "stages": [
            {"use": "dedup.exact", "label": "dedup.exact", "params": {}},
            {"use": "filter", "label": "filter", "params": {"where": "x"}},
        ]
    }
    (root / "curate" / "run.json").write_text(json.dumps(run))
    rows = ledger_rows()
    # One file per stage, written in the opposite order, so order comes from run.json.
    for stage in ("filter", "dedup.exact"):
        part = [r for r in rows if r["stage"] == stage]
        table = pa.Table.from_pylist(part)
        table = table.set_column(
            table.schema.get_field_index("identities"),
            "identities",
            table.column("identities").cast(pa.list_(pa.string())),
        )
        pq.write_table(table, root / "curate" / "removed" / f"{stage}.parquet")
    return root


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "corpus.parquet")


def test_groups_and_harm(corpus: Path, tmp_path: Path) -> None:
    report = audit_dataset(corpus, out_dir=tmp_path / "out", sections=TEXT_ONLY_SECTIONS)
    female = report["groups"]["gender/female"]
    assert female["documents"] == 40 and female["share"] == 0.4
    # Wilson, p = 0.4, n = 100: centre 0.419207, margin 0.097921, denominator 1.038415.
    assert female["ci95"] == pytest.approx([0.309401, 0.497997], abs=1e-6)
    # 12/40 against 6/60, MOVER-Wilson interval (checked in test_audit_effects.py).
    assert female["toxic_rate"] == pytest.approx(0.3)
    assert female["disparity_ratio"] == pytest.approx(3.0)
    assert female["disparity_ci95"] == pytest.approx([1.255078, 7.081302], abs=1e-5)
    assert female["flagged"] is True
    male = report["groups"]["gender/male"]
    # 3/30 against 15/70 = 0.466667.
    assert male["disparity_ratio"] == pytest.approx(0.466667, abs=1e-6)
    assert male["disparity_ci95"] == pytest.approx([0.151747, 1.353237], abs=1e-5)
    assert male["flagged"] is False
    muslim = report["groups"]["religion/muslim"]
    assert muslim["documents"] == 5 and muslim["insufficient"] is True
    assert muslim["toxic_rate"] is None and muslim["disparity_ratio"] is None
    assert report["documents"] == 100 and report["toxicity_threshold"] == 0.5
    assert report["languages"] == {"en": 0.7, "fr": 0.3}
    assert report["findings"][0] == (
        "Documents mentioning gender/female are toxic at 30.0% vs 10.0% for others: 3.0x "
        "(1.3 to 7.1) as likely to be toxic and 0.78x (0.60 to 0.95) as likely to be non-toxic "
        "(Holm-adjusted p 0.022)."
    )


def test_composition_and_representation(corpus: Path, tmp_path: Path) -> None:
    report = audit_dataset(corpus, out_dir=tmp_path / "out", sections=TEXT_ONLY_SECTIONS)
    comp = report["sections"]["composition"]
    # 40 x 5 + 30 x 3 + 25 x 3 + 5 x 5 words; 55 documents of 3 words, 45 of 5.
    assert comp["words"] == 390
    assert comp["words_per_document"]["p50"] == 3 and comp["words_per_document"]["p90"] == 5
    # -(0.7 log2 0.7 + 0.3 log2 0.3) = 0.881291; 2^0.881291 = 1.842.
    assert comp["languages"]["entropy_bits"] == pytest.approx(0.881291, abs=1e-6)
    assert comp["languages"]["effective_languages"] == pytest.approx(1.8420, abs=1e-4)
    assert comp["duplicates"]["exact"] == {"documents_with_copies": 10, "copies_removed": 20}
    rep = report["sections"]["representation"]
    gender = rep["axes"]["gender"]
    assert gender["max_min_ratio"] == pytest.approx(40 / 30)
    assert gender["entropy_bits"] == pytest.approx(0.985228, abs=1e-6)
    assert rep["axes"]["religion"]["max_min_ratio"] is None
    assert "religion/muslim" in rep["axes"]["religion"]["insufficient"]
    # English documents: 28 say "she", 21 say "he"; French pronouns are il/elle.
    en = rep["pronouns"]["en"]
    assert en["counts"] == {"male": 21, "female": 28, "neutral": 0}
    assert en["male_female_ratio"] == pytest.approx(0.75)
    assert "fr" not in rep["pronouns"]


def test_toxicity_labels_give_the_same_ratios(tmp_path: Path) -> None:
    rows = corpus_rows()
    for row in rows:
        row["label"] = "toxic" if row.pop("toxicity") > 0.5 else "nontoxic"
    path = write_corpus(tmp_path / "labels.parquet", rows)
    report = audit_dataset(
        path, out_dir=tmp_path / "out", toxicity_column="label", sections=["representation", "harm"]
    )
    assert report["groups"]["gender/female"]["disparity_ratio"] == pytest.approx(3.0)
    assert "`label` column" in report["sources"]["toxicity"]


def test_filter_impact_from_a_run_folder(tmp_path: Path) -> None:
    run = make_run_folder(tmp_path / "run")
    report = audit_dataset(
        run, out_dir=tmp_path / "out", sections=["representation", "filter_impact"]
    )
    impact = report["sections"]["filter_impact"]
    assert list(impact["stages"]) == ["dedup.exact", "filter"]
    # Entering filter: 100 kept + 30 removed there = 130; female 40 + 20 = 60.
    stage = impact["stages"]["filter"]
    assert stage["entering"] == 130 and stage["removal_rate"] == pytest.approx(30 / 130)
    female = report["filter_impact"]["filter"]["gender/female"]
    assert female["removal_rate"] == pytest.approx(20 / 60)
    assert female["ratio"] == pytest.approx((20 / 60) / (30 / 130))
    male = report["filter_impact"]["filter"]["gender/male"]
    assert male["ratio"] == pytest.approx((3 / 33) / (30 / 130))
    # Entering dedup.exact: 150 in all; female 64, male 39.
    assert impact["stages"]["dedup.exact"]["entering"] == 150
    dedup = report["filter_impact"]["dedup.exact"]
    assert dedup["gender/female"]["ratio"] == pytest.approx((4 / 64) / (20 / 150))
    assert dedup["gender/male"]["ratio"] == pytest.approx((6 / 39) / (20 / 150))
    share = impact["share_change"]["gender/female"]
    assert share["share_in"] == pytest.approx(64 / 150) and share["share_out"] == 0.4


def test_sample_is_seeded_and_sized(corpus: Path, tmp_path: Path) -> None:
    a = audit_dataset(corpus, out_dir=tmp_path / "a", sample=50, sections=["representation"])
    b = audit_dataset(corpus, out_dir=tmp_path / "b", sample=50, sections=["representation"])
    c = audit_dataset(
        corpus, out_dir=tmp_path / "c", sample=50, seed=7, sections=["representation"]
    )
    assert a["documents"] == 50 and a["sample"]["sampled"] and a["sample"]["rows_seen"] == 100
    assert a["groups"] == b["groups"]
    assert a["groups"] != c["groups"]


def test_compare_side_by_side(corpus: Path, tmp_path: Path) -> None:
    rows = [r for r in corpus_rows() if r["id"] >= "m"]
    other = write_corpus(tmp_path / "other.parquet", rows)
    report = audit_dataset(
        corpus,
        out_dir=tmp_path / "out",
        compare=str(other),
        sections=["composition", "representation", "harm", "compare"],
    )
    cmp = report["compare"]
    assert cmp["documents"] == {"this": 100, "other": 60, "difference": 40}
    female = cmp["groups"]["gender/female"]["share"]
    assert female["this"] == 0.4 and female["other"] == 0.0
    assert female["difference"] == pytest.approx(0.4)
    # Newcombe: 0.4 - hypot(0.4 - wilson_lo(40/100), wilson_hi(0/60) - 0), and the upper limit
    # 0.4 + hypot(wilson_hi(40/100) - 0.4, 0 - 0). Wilson(40, 100) = [0.309401, 0.497997] (see
    # test_groups_and_harm); Wilson(0, 60) = [0, z²/(60 + z²)] = [0, 0.060160].
    hi0 = 1.959963984540054**2 / (60 + 1.959963984540054**2)
    assert female["difference_ci95"] == pytest.approx(
        [0.4 - math.hypot(0.4 - 0.309401, hi0), 0.4 + (0.497997 - 0.4)], abs=1e-6
    )
    male = cmp["groups"]["gender/male"]["toxic_rate"]
    # 3/30 in both datasets: difference 0, interval symmetric around it.
    assert male["difference"] == pytest.approx(0.0)
    lo, hi = male["difference_ci95"]
    assert lo == pytest.approx(-hi) and lo < 0 < hi
    # Toxic shares 18/100 and 6/60 = 0.1.
    assert cmp["toxic_share"]["difference"] == pytest.approx(0.08)
    assert (
        cmp["toxic_share"]["difference_ci95"][0] < 0.08 < cmp["toxic_share"]["difference_ci95"][1]
    )
    # English: 70/100 against 42/60 (0.7 both): difference 0 inside its interval.
    en = cmp["languages"]["en"]
    assert en["difference"] == pytest.approx(0.0)
    assert en["difference_ci95"][0] < 0 < en["difference_ci95"][1]
    text = (tmp_path / "out" / "audit.md").read_text()
    # Proportions differ in percentage points, with the interval in the same unit.
    lo_pp, hi_pp = (100 * x for x in female["difference_ci95"])
    assert (
        f"| gender/female share | 40.0% | 0.0% | +40.0 pp ({lo_pp:+.1f} to {hi_pp:+.1f}) |" in text
    )


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=1, max_size=6))
def test_tally_does_not_depend_on_batching(cuts: list[int]) -> None:
    table = pa.Table.from_pylist(
        [
            {"identities": r["identities"], "__audit_toxicity": r["toxicity"], "lang": r["lang"]}
            for r in corpus_rows()
        ]
    )
    table = table.set_column(0, "identities", table.column(0).cast(pa.list_(pa.string())))
    whole = ColumnTally(threshold=0.5)
    batch = table.combine_chunks().to_batches()[0]
    whole.update(batch)
    parts = ColumnTally(threshold=0.5)
    start = 0
    for cut in [*cuts, 100]:
        piece = batch.slice(start, cut)
        start += piece.num_rows
        if piece.num_rows:
            parts.update(piece)
        if start >= 100:
            break
    if start < 100:
        rest = batch.slice(start)
        parts.update(rest)
    assert parts.documents == whole.documents == 100
    assert parts.groups == whole.groups
    assert parts.languages == whole.languages
    assert (parts.toxicity_hist == whole.toxicity_hist).all()


def test_removed_ledger_without_identities_runs_the_identity_stage(
    corpus: Path, tmp_path: Path
) -> None:
    lexicon = tmp_path / "lexicon.yaml"
    lexicon.write_text("language: en\naxes:\n  gender:\n    female: [she]\n    male: [he]\n")
    ledger = tmp_path / "removed" / "filter.parquet"
    ledger.parent.mkdir()
    texts = ["she was removed"] * 10 + ["he was removed"] * 5
    pq.write_table(
        pa.table(
            {
                "stage": ["filter"] * 15,
                "reason": ["filtered"] * 15,
                "detail": pa.nulls(15, pa.string()),
                "id": [f"r{i}" for i in range(15)],
                "text": texts,
                "lang": ["en"] * 15,
            }
        ),
        ledger,
    )
    report = audit_dataset(
        corpus,
        out_dir=tmp_path / "out",
        lexicons=[str(lexicon)],
        removed=[ledger.parent],
        sections=["representation", "filter_impact"],
    )
    # The lexicon is English: only the 28 English "she" and 21 English "he" documents match.
    assert report["groups"]["gender/female"]["documents"] == 28
    female = report["filter_impact"]["filter"]["gender/female"]
    assert female["entering"] == 38 and female["removed"] == 10
    assert female["ratio"] == pytest.approx((10 / 38) / (15 / 115))
    assert "stage run on their text" in report["sections"]["filter_impact"]["method"]
