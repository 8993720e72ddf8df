"""Intersections on a small corpus whose numbers are worked out by hand.

The corpus has 200 documents (toxic = score 0.9, others 0.1):

* 60 mention gender/female and race_ethnicity/black, 30 of them toxic;
* 40 mention gender/female only, 4 toxic; 50 race_ethnicity/black only, 5 toxic;
* 20 mention gender/male and age/old, 2 toxic (a pair below the 30-document threshold);
* 30 mention gender/female and gender/male, 3 toxic (same axis: never a pair).

44 documents are toxic in all.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chi2_contingency

from curate.audit import audit_dataset
from curate.audit.intersections import intersections_section
from curate.audit.tally import ColumnTally

PAIR = "gender/female × race_ethnicity/black"
PLAN = [
    (["gender/female", "race_ethnicity/black"], 60, 30),
    (["gender/female"], 40, 4),
    (["race_ethnicity/black"], 50, 5),
    (["age/old", "gender/male"], 20, 2),
    (["gender/female", "gender/male"], 30, 3),
]


def write_corpus(path: Path) -> Path:
    rows: list[dict[str, Any]] = []
    for groups, n, toxic in PLAN:
        for i in range(n):
            rows.append(
                {
                    "id": f"{'-'.join(groups)}-{i}",
                    "text": "some words here",
                    "identities": groups,
                    "toxicity": 0.9 if i < toxic else 0.1,
                    "lang": "en",
                }
            )
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def wilson(k: int, n: int, z: float = 1.959963984540054) -> list[float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    margin = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return [centre - margin, centre + margin]


@pytest.fixture
def report(tmp_path: Path) -> dict[str, Any]:
    corpus = write_corpus(tmp_path / "corpus.parquet")
    return audit_dataset(
        corpus, out_dir=tmp_path / "out", sections=["composition", "representation", "harm"]
    )


def test_pair_statistics(report: dict[str, Any]) -> None:
    section = report["sections"]["intersections"]
    # female & male share an axis; male & old has 20 < 30 documents.
    assert section["pairs_counted"] == 2 and section["eligible"] == 1
    assert list(section["pairs"]) == [PAIR]
    row = section["pairs"][PAIR]
    assert row["groups"] == ["gender/female", "race_ethnicity/black"]
    assert row["documents"] == 60 and row["share"] == 0.3
    assert row["ci95"] == pytest.approx(wilson(60, 200), abs=1e-12)
    harm = row["harm"]
    # 30/60 against the other 140 scored documents, 14 of them toxic.
    assert harm["scored"] == 60 and harm["toxic"] == 30
    assert harm["toxic_rate"] == 0.5 and harm["rest_toxic_rate"] == pytest.approx(0.1)
    assert harm["toxic_rate_ci95"] == pytest.approx(wilson(30, 60), abs=1e-12)
    assert harm["disparity_ratio"] == pytest.approx(5.0)
    lo, hi = harm["disparity_ci95"]
    assert 1.25 < lo < 5.0 < hi
    assert harm["complement_ratio"] == pytest.approx(0.5 / 0.9)
    assert harm["odds_ratio"] == pytest.approx(30 * 126 / (30 * 14))
    assert harm["risk_difference"] == pytest.approx(0.4)
    p = chi2_contingency([[30, 30], [14, 126]], correction=False)[1]
    assert harm["p_value"] == pytest.approx(p, rel=1e-9)
    assert harm["flagged"] is True


def test_pairs_join_holm_and_findings(report: dict[str, Any]) -> None:
    single = [r for r in report["sections"]["harm"]["groups"].values() if "p_value" in r]
    # Every single-group test plus the pair's.
    assert report["multiplicity"]["tests"] == len(single) + 1
    harm = report["sections"]["intersections"]["pairs"][PAIR]["harm"]
    assert harm["p_value"] <= harm["p_adjusted"] <= min(1.0, harm["p_value"] * (len(single) + 1))
    assert any(
        f.startswith(f"Documents mentioning both {PAIR} are toxic at 50.0%")
        for f in report["findings"]
    )


def test_markdown_table(report: dict[str, Any], tmp_path: Path) -> None:
    text = (tmp_path / "out" / "audit.md").read_text()
    section = text.split(". Intersections\n", 1)[1].split("\n## ", 1)[0]
    assert f"| {PAIR} | 60 | 30.0% (" in section
    assert "flagged" in section


def test_threshold_and_cap() -> None:
    t = ColumnTally(threshold=0.5)
    groups = pa.array([g for g, n, _ in PLAN for _ in range(n)], pa.list_(pa.string()))
    scores = [0.9 if i < k else 0.1 for _, n, k in PLAN for i in range(n)]
    t.update(pa.record_batch({"identities": groups, "__audit_toxicity": scores}))
    both = intersections_section(t, min_documents=20, min_events=1, scored=True)
    assert both["eligible"] == 2
    assert list(both["pairs"]) == [PAIR, "age/old × gender/male"]
    capped = intersections_section(t, min_documents=20, min_events=1, scored=True, max_pairs=1)
    assert list(capped["pairs"]) == [PAIR] and capped["eligible"] == 2
    unscored = intersections_section(t, min_documents=20, min_events=1, scored=False)
    assert "harm" not in unscored["pairs"][PAIR]


NAMES = ["age/old", "age/young", "gender/female", "gender/male", "race_ethnicity/black"]


@settings(max_examples=60, deadline=None)
@given(
    docs=st.lists(st.lists(st.sampled_from(NAMES), max_size=4), max_size=40),
    split=st.integers(min_value=0, max_value=40),
)
def test_pairs_match_a_direct_count(docs: list[list[str]], split: int) -> None:
    """Pair counts equal a count over each document's distinct groups, however batches split."""
    expected: dict[tuple[str, str], int] = {}
    for groups in docs:
        distinct = sorted(set(groups))
        for i, a in enumerate(distinct):
            for b in distinct[i + 1 :]:
                if a.split("/")[0] != b.split("/")[0]:
                    expected[(a, b)] = expected.get((a, b), 0) + 1
    t = ColumnTally(threshold=0.5)
    for part in (docs[:split], docs[split:]):
        t.update(pa.record_batch({"identities": pa.array(part, pa.list_(pa.string()))}))
    assert {k: v.docs for k, v in t.pairs.items()} == expected


def test_many_groups_count_sparsely() -> None:
    """A lexicon with hundreds of groups takes the sparse path; counts are the same."""
    docs = [
        [f"a/g{i:03d}", f"b/g{(7 * i) % 300:03d}", f"a/g{(i + 1) % 300:03d}"] for i in range(300)
    ]
    t = ColumnTally(threshold=0.5)
    t.update(pa.record_batch({"identities": pa.array(docs, pa.list_(pa.string()))}))
    expected: dict[tuple[str, str], int] = {}
    for groups in docs:
        for a in groups[:1] + groups[2:]:
            key = (a, groups[1])
            expected[key] = expected.get(key, 0) + 1
    assert {k: v.docs for k, v in t.pairs.items()} == expected
