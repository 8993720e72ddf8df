"""Scorer probe: error rates and Jigsaw bias AUCs on a template file worked out by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from test_audit_sections import write_corpus

from curate.audit import audit_dataset
from curate.audit.probe import match_terms, power_mean, probe_section

#: phrase, label, the fake scorer's score.
PHRASES = [
    ("I hate gay people", "toxic", 0.9),
    ("I hate straight people", "toxic", 0.6),
    ("I am gay", "nontoxic", 0.7),
    ("I am straight", "nontoxic", 0.1),
    ("I hate muslim people", "toxic", 0.4),
    ("I am muslim", "nontoxic", 0.2),
]
TERMS = {
    "gay": "sexual_orientation/gay",
    "straight": "sexual_orientation/heterosexual",
    "muslim": "religion/muslim",
}


def _fake_scorer(texts: list[str]) -> np.ndarray:
    table = {phrase: score for phrase, _, score in PHRASES}
    return np.array([table[t] for t in texts])


@pytest.fixture()
def templates(tmp_path: Path) -> Path:
    path = tmp_path / "templates.csv"
    lines = ["template,toxicity,phrase"] + [f"t,{label},{p}" for p, label, _ in PHRASES]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_probe_hand_values(templates: Path) -> None:
    out = probe_section(
        templates,
        scorer=_fake_scorer,
        terms=TERMS,
        threshold=0.5,
        scorer_name="fake",
        min_phrases=1,
    )
    gay, straight, muslim = (out["terms"][t] for t in ("gay", "straight", "muslim"))
    # gay: toxic 0.9, non-toxic 0.7 (a false positive at 0.5). BPSN: toxic without the term
    # (0.6, 0.4) against 0.7 -> 0 of 2 pairs; BNSP: 0.9 against non-toxic without (0.1, 0.2).
    assert (gay["fpr"], gay["fnr"]) == (1.0, 0.0)
    assert (gay["subgroup_auc"], gay["bpsn_auc"], gay["bnsp_auc"]) == (1.0, 0.0, 1.0)
    # straight: BNSP = 0.6 against (0.7, 0.2) -> 1 of 2.
    assert (straight["fpr"], straight["fnr"], straight["bnsp_auc"]) == (0.0, 0.0, 0.5)
    assert straight["bpsn_auc"] == 1.0
    # muslim: toxic 0.4 is a false negative; BNSP = 0.4 against (0.7, 0.1) -> 1 of 2.
    assert (muslim["fpr"], muslim["fnr"], muslim["bnsp_auc"]) == (0.0, 1.0, 0.5)
    assert gay["group"] == "sexual_orientation/gay"
    # Overall: toxic (0.9, 0.6, 0.4) against (0.7, 0.1, 0.2): 3 + 2 + 2 of 9 pairs.
    assert out["overall"]["auc"] == pytest.approx(7 / 9)
    # Power mean (p = -5) of BNSP (1, 0.5, 0.5): (65/3)^(-1/5) = 0.540557; a zero AUC gives 0.
    assert out["power_mean"]["bnsp_auc"] == pytest.approx(0.540557, abs=1e-6)
    assert out["power_mean"]["bpsn_auc"] == 0.0
    assert out["labelled"] and out["phrases"] == 6


def test_match_terms_prefers_longer_terms() -> None:
    found = match_terms(
        pl.Series(["an African American man", "american food", "gayety"]),
        ["american", "african american", "gay"],
    )
    assert found.to_list() == [["african american"], ["american"], []]


def test_power_mean() -> None:
    assert power_mean([]) is None
    assert power_mean([0.8, 0.8]) == pytest.approx(0.8)


def test_probe_in_a_full_audit(templates: Path, tmp_path: Path) -> None:
    lexicon = tmp_path / "lexicon.yaml"
    lexicon.write_text(
        "language: en\naxes:\n  sexual_orientation:\n    gay: [gay]\n    heterosexual: "
        "[straight]\n  religion:\n    muslim: [muslim]\n"
    )
    corpus = write_corpus(tmp_path / "corpus.parquet")
    report = audit_dataset(
        corpus,
        out_dir=tmp_path / "out",
        lexicons=[str(lexicon)],
        probe=templates,
        scorer=_fake_scorer,
        sections=["probe"],
    )
    probe = report["sections"]["probe"]
    assert set(probe["terms"]) == {"gay", "straight", "muslim"}
    assert probe["terms"]["straight"]["group"] == "sexual_orientation/heterosexual"
    # Only composition comes before it: numbers follow the sections present, with no gap.
    assert "\n## 2. Scorer probe\n" in (tmp_path / "out" / "audit.md").read_text()
