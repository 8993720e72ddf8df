"""A labelled run folder where most documents are toxic: the audit must still flag the
over-toxic group and the over-removing filter, keep slurs apart, name the one ambiguous word a
group rests on, and compare the scorer with the labels. Its audit.md is a golden file.

The fixture is written here (no outside data). Kept documents, all English, toxicity 0.9
(toxic) or 0.1:

* 200 "my gay neighbour is here" (sexual_orientation/gay), 190 toxic; labels: 150 offensive
  and 40 neither among the toxic ones (scorer false positives), 10 neither;
* 40 "the black cat sleeps" (race_ethnicity/black through the ambiguous 'black'), 32 toxic;
* 60 "a woman reads" (gender/female), 48 toxic;
* 30 "the faggot left" (a slur naming sexual_orientation/gay), all toxic, labelled hate;
* 170 "a quiet day", 130 toxic.

Toxic: 190 + 32 + 48 + 30 + 130 = 430 of 500 (86%). Labels of the 300 others: toxic ones
offensive (210) or hate (the 30 slurs); the 60 non-toxic ones neither, except 10 unlabelled
(-1). A `filter` stage removed 200 more "my gay neighbour is here" and 100 "a quiet day".
"""

from __future__ import annotations

import html
import json
import math
import os
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from scipy.stats import binomtest

from curate.audit import audit_dataset
from curate.cli import cli, main
from curate.errors import DataError

GOLDEN = Path(__file__).parent / "golden" / "audit" / "labelled-high-base-rate.md"
SECTIONS = ["composition", "representation", "harm", "filter_impact"]
LABELS = {"0": "hate", "1": "offensive", "2": "neither"}


def _docs(text: str, n: int, toxic: int, labels: list[str]) -> list[dict[str, Any]]:
    assert len(labels) == n
    return [
        {"text": text, "lang": "en", "toxicity": 0.9 if i < toxic else 0.1, "class": labels[i]}
        for i in range(n)
    ]


def kept_rows() -> list[dict[str, Any]]:
    rows = _docs("my gay neighbour is here", 200, 190, ["1"] * 150 + ["2"] * 50)
    rows += _docs("the black cat sleeps", 40, 32, ["1"] * 32 + ["2"] * 8)
    rows += _docs("a woman reads", 60, 48, ["1"] * 48 + ["2"] * 12)
    rows += _docs("the faggot left", 30, 30, ["0"] * 30)
    rows += _docs("a quiet day", 170, 130, ["1"] * 130 + ["2"] * 30 + ["-1"] * 10)
    return [{"id": f"k{i}", **r} for i, r in enumerate(rows)]


def make_run(root: Path) -> Path:
    (root / "data").mkdir(parents=True)
    (root / "curate" / "removed").mkdir(parents=True)
    pq.write_table(
        pa.Table.from_pylist(kept_rows()), root / "data" / "train-00000-of-00001.parquet"
    )
    removed = [
        {
            "stage": "filter",
            "reason": "toxic",
            "detail": None,
            "id": f"r{i}",
            "text": t,
            "lang": "en",
        }
        for i, t in enumerate(["my gay neighbour is here"] * 200 + ["a quiet day"] * 100)
    ]
    table = pa.Table.from_pylist(removed).cast(
        pa.schema(
            [
                ("stage", pa.string()),
                ("reason", pa.string()),
                ("detail", pa.string()),
                ("id", pa.string()),
                ("text", pa.string()),
                ("lang", pa.string()),
            ]
        )
    )
    pq.write_table(table, root / "curate" / "removed" / "filter.parquet")
    run = {"stages": [{"use": "filter", "label": "filter", "params": {"where": "x"}}]}
    (root / "curate" / "run.json").write_text(json.dumps(run))
    return root


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = make_run(tmp_path_factory.mktemp("labelled") / "run")
    out = root / "curate" / "audit"
    report = audit_dataset(
        root,
        out_dir=out,
        lexicons=["en"],
        sections=SECTIONS,
        label_column="class",
        label_map=LABELS,
        label_ignore=["-1"],
    )
    return out, report


def test_over_toxic_group_is_flagged_at_an_86_percent_base_rate(
    audited: tuple[Path, dict[str, Any]],
) -> None:
    _, report = audited
    gay = report["sections"]["harm"]["groups"]["sexual_orientation/gay"]
    # Slurs are not mentions: the group holds the 200 neighbour documents only.
    assert gay["scored"] == 200 and gay["toxic"] == 190
    # 190/200 = 95% against 240/300 = 80%: 1.19x, inside [0.8, 1.25]; non-toxic 5% against 20%.
    assert gay["disparity_ratio"] == pytest.approx(0.95 / 0.8)
    assert gay["complement_ratio"] == pytest.approx(0.25)
    assert gay["flagged"] is True and gay["p_adjusted"] < 0.05
    assert report["groups"]["sexual_orientation/gay"]["flagged"] is True


def test_over_removing_filter_is_flagged(audited: tuple[Path, dict[str, Any]]) -> None:
    _, report = audited
    row = report["filter_impact"]["filter"]["sexual_orientation/gay"]
    # Entering: 400 gay documents (200 removed) and 400 others (100 removed).
    assert (row["entering"], row["removed"]) == (400, 200)
    assert row["retention_ratio"] == pytest.approx(0.5 / 0.75)
    assert row["removal_rate_ratio"] == pytest.approx(2.0)
    assert row["flagged"] is True
    assert any(
        f.startswith("Stage `filter` removed 50.0% of documents mentioning sexual_orientation/gay")
        for f in report["findings"]
    )


def test_slurs_have_their_own_section(audited: tuple[Path, dict[str, Any]]) -> None:
    _, report = audited
    slurs = report["sections"]["slurs"]
    assert slurs["prevalence"]["sexual_orientation/gay"]["documents"] == 30
    assert slurs["harm"]["sexual_orientation/gay"]["toxic"] == 30
    terms = report["sections"]["representation"]["groups"]["sexual_orientation/gay"]["top_terms"]
    assert terms == [{"term": "gay", "kind": "identity", "documents": 200}]


def test_one_ambiguous_term_is_called_out(audited: tuple[Path, dict[str, Any]]) -> None:
    _, report = audited
    assert (
        "All 40 documents mentioning race_ethnicity/black match 'black' (an ambiguous term, "
        "whose usual sense is often not an identity)." in report["findings"]
    )


def test_labels_by_group_and_scorer_errors(audited: tuple[Path, dict[str, Any]]) -> None:
    _, report = audited
    labels = report["sections"]["labels"]
    assert labels["classes"] == ["hate", "offensive", "neither"]
    assert labels["positive"] == ["hate", "offensive"]
    assert labels["labelled"] == 490 and labels["unlabelled"] == 10
    gay = labels["groups"]["sexual_orientation/gay"]
    assert gay["classes"]["offensive"]["documents"] == 150
    # 150/200 offensive against 210/290 labelled others.
    assert gay["classes"]["offensive"]["rate_ratio"] == pytest.approx(0.75 / (210 / 290))
    errors = gay["errors"]
    # Negatives (neither): 50, of which 40 scored toxic; the rest: 50 negatives, none scored
    # toxic. Positives: 150, none missed.
    assert (errors["negatives"], errors["false_positives"]) == (50, 40)
    assert errors["fpr"] == pytest.approx(0.8) and errors["fpr_gap"] == pytest.approx(0.8)
    assert errors["fnr"] == 0.0
    # Calibration: mean score (150 * 0.9 + 40 * 0.9 + 10 * 0.1) / 200 = 0.86 against 75% positive;
    # bins: 0.9-bin 190 documents at 150/190 positive, 0.1-bin 10 at 0.
    assert errors["mean_score"] == pytest.approx(0.86)
    ece = 190 / 200 * abs(0.9 - 150 / 190) + 10 / 200 * abs(0.1 - 0.0)
    assert errors["ece"] == pytest.approx(ece)


def _wilson(k: int, n: int) -> tuple[float, float]:
    ci = binomtest(k, n).proportion_ci(method="wilson")
    return ci.low, ci.high


def _newcombe(a: int, n1: int, c: int, n2: int) -> tuple[float, float]:
    """Newcombe's hybrid score interval for a difference of proportions (method 10), from
    scipy's Wilson limits."""
    p1, p2 = a / n1, c / n2
    (l1, u1), (l2, u2) = _wilson(a, n1), _wilson(c, n2)
    d = p1 - p2
    return d - math.hypot(p1 - l1, u2 - p2), d + math.hypot(u1 - p1, p2 - l2)


def test_scorer_error_intervals_hand_values(audited: tuple[Path, dict[str, Any]]) -> None:
    _, report = audited
    errors = report["sections"]["labels"]["groups"]["sexual_orientation/gay"]["errors"]
    # FPR: 40 of the group's 50 negatives against 0 of the rest's 50; FNR: 0 of 150 against 0
    # of 240 (every positive document scores 0.9). Zero cells on the rest's side.
    assert errors["fpr_ci95"] == pytest.approx(_wilson(40, 50))
    assert errors["fpr_gap_ci95"] == pytest.approx(_newcombe(40, 50, 0, 50))
    assert errors["fnr_ci95"] == pytest.approx(_wilson(0, 150), abs=1e-12)
    assert errors["fnr_gap_ci95"] == pytest.approx(_newcombe(0, 150, 0, 240), abs=1e-12)
    # 0/50: the Wilson upper limit is z^2 / (n + z^2), by hand 3.8415 / 53.8415.
    assert errors["fpr_gap_ci95"][0] == pytest.approx(
        0.8 - math.hypot(0.8 - 0.66963, 0.071349), abs=1e-4
    )
    assert errors["equalized_odds_gap"] == pytest.approx(0.8)


def test_class_rate_intervals_hand_values(audited: tuple[Path, dict[str, Any]]) -> None:
    _, report = audited
    row = report["sections"]["labels"]["groups"]["sexual_orientation/gay"]["classes"]["offensive"]
    # 150 of the group's 200 labelled documents against 210 of the rest's 290.
    (l1, u1), (l2, u2) = _wilson(150, 200), _wilson(210, 290)
    p1, p2 = 150 / 200, 210 / 290
    assert row["rate_ci95"] == pytest.approx((l1, u1))
    # MOVER-R (Donner and Zou 2012) from the two Wilson intervals.
    lo = (p1 * p2 - math.sqrt((p1 * p2) ** 2 - l1 * u2 * (2 * p1 - l1) * (2 * p2 - u2))) / (
        u2 * (2 * p2 - u2)
    )
    hi = (p1 * p2 + math.sqrt((p1 * p2) ** 2 - u1 * l2 * (2 * p1 - u1) * (2 * p2 - l2))) / (
        l2 * (2 * p2 - l2)
    )
    assert row["rate_ratio_ci95"] == pytest.approx((lo, hi))


def test_slurs_fold_into_mentions_on_request(tmp_path: Path) -> None:
    root = make_run(tmp_path / "run")
    report = audit_dataset(
        root, out_dir=tmp_path / "o", lexicons=["en"], sections=SECTIONS, slurs="include"
    )
    assert "slurs" not in report["sections"] and report["provenance"]["slurs"] == "include"
    gay = report["sections"]["harm"]["groups"]["sexual_orientation/gay"]
    # 200 neighbour documents (190 toxic) and the 30 slur documents (all toxic).
    assert (gay["scored"], gay["toxic"]) == (230, 220)
    terms = report["sections"]["representation"]["groups"]["sexual_orientation/gay"]["top_terms"]
    assert {t["term"]: (t["kind"], t["documents"]) for t in terms} == {
        "gay": ("identity", 200),
        "faggot": ("slur", 30),
    }
    md = (tmp_path / "o" / "audit.md").read_text()
    assert "Slurs were counted as mentions of the group they name (`slurs: include`)." in md
    result = CliRunner().invoke(
        cli,
        ["audit", str(root), "-o", str(tmp_path / "c"), "--lexicon", "en", "--include-slurs"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "c" / "audit.json").read_text())
    assert data["groups"]["sexual_orientation/gay"]["documents"] == 230


def test_golden_markdown(audited: tuple[Path, dict[str, Any]]) -> None:
    out, _ = audited
    text = (out / "audit.md").read_text()
    text = text.replace(str(out.parent.parent), "RUN")
    # The lexicon's place and checksum change with every lexicon edit; the line stays.
    text = re.sub(r"Lexicon \S+ \(sha256 [0-9a-f]{64}\)", "Lexicon LEXICON (sha256 SHA)", text)
    if os.environ.get("CURATE_UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text(), "set CURATE_UPDATE_GOLDEN=1 to accept a deliberate change"


def test_sections_are_numbered_in_order_and_listed_once(
    audited: tuple[Path, dict[str, Any]],
) -> None:
    out, _ = audited
    md = (out / "audit.md").read_text()
    headings = re.findall(r"^## (.+)$", md, flags=re.MULTILINE)
    assert headings[0] == "Findings"
    # Section 3 (association) is not computed here: numbering must not jump from 2 to 4.
    numbers = [int(h.split(".", 1)[0]) for h in headings[1:]]
    assert numbers == list(range(1, len(headings)))
    assert headings[-1].endswith(". Limitations and provenance")
    page = (out / "audit.html").read_text()
    nav = re.search(r"<nav>(.*?)</nav>", page, flags=re.DOTALL)
    assert nav and "<ol" not in nav.group(1), "an ordered list would number the numbers again"
    listed = [html.unescape(t) for t in re.findall(r'<a href="#[^"]+">([^<]+)</a>', nav.group(1))]
    assert listed == headings


def test_an_ignored_label_value_reads_as_unlabelled(audited: tuple[Path, dict[str, Any]]) -> None:
    out, report = audited
    labels = report["sections"]["labels"]
    assert "-1" not in labels["classes"] and labels["ignored"] == ["-1"]
    assert sum(labels["overall"].values()) + labels["unlabelled"] == report["documents"]
    section = (out / "audit.md").read_text().split(". Labels\n", 1)[1].split("\n## ", 1)[0]
    assert "10 unlabelled or ignored (null or -1), in no class." in section
    assert "null or -1 are unlabelled (ignored)" in section
    header = next(line for line in section.splitlines() if line.startswith("| group |"))
    assert "-1" not in header


def test_values_from_the_data_are_escaped(tmp_path: Path) -> None:
    rows = [
        {"id": str(i), "text": "a woman reads", "lang": "<script>x</script>", "toxicity": 0.1}
        for i in range(40)
    ]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "d.parquet")
    audit_dataset(
        tmp_path / "d.parquet",
        out_dir=tmp_path / "o",
        lexicons=["en"],
        sections=["composition", "representation", "harm"],
    )
    md = (tmp_path / "o" / "audit.md").read_text()
    assert "<script>" not in md and "&lt;script&gt;" in md
    assert "<script" not in (tmp_path / "o" / "audit.html").read_text().lower()


def test_cli_label_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_run(tmp_path / "run")
    args = ["audit", str(root), "-o", str(tmp_path / "o"), "--lexicon", "en", "--section", "harm"]
    args += ["--label-column", "class", "--label-ignore", "-1", "--label-map"]
    # The map lacks "2": a data error naming the value and how to fix it, at the CLI boundary.
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "0=hate,1=offensive"])
    assert exit_info.value.code == DataError.exit_code
    err = capsys.readouterr().err
    assert "label column 'class': value '2' is neither in --label-map (0, 1)" in err
    assert "hint: add it, e.g. --label-map '2=CLASS'" in err
    result = CliRunner().invoke(cli, [*args, "0=hate,1=offensive,2=neither"])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "o" / "audit.json").read_text())
    assert data["sections"]["labels"]["labelled"] == 490


def test_a_run_without_identity_terms_is_matched_again(tmp_path: Path) -> None:
    # The run wrote `identities` only (slurs folded in); its run report names score.identity,
    # so the audit, reading the text anyway, matches again with `terms: true`.
    root = tmp_path / "run"
    (root / "data").mkdir(parents=True)
    (root / "curate").mkdir()
    rows = [
        {"id": str(i), "text": t, "lang": "en", "identities": g, "toxicity": 0.9}
        for i, (t, g) in enumerate(
            [("the faggot left", ["sexual_orientation/gay"])] * 30
            + [("my gay neighbour", ["sexual_orientation/gay"])] * 30
            + [("a quiet day", [])] * 40
        )
    ]
    pq.write_table(pa.Table.from_pylist(rows), root / "data" / "train-00000-of-00001.parquet")
    run = {"stages": [{"use": "score.identity", "label": "score.identity", "params": {}}]}
    (root / "curate" / "run.json").write_text(json.dumps(run))
    report = audit_dataset(root, out_dir=tmp_path / "o", sections=["composition", "representation"])
    assert "terms: true" in report["sources"]["identities"]
    assert report["groups"]["sexual_orientation/gay"]["documents"] == 30
    assert report["sections"]["slurs"]["prevalence"]["sexual_orientation/gay"]["documents"] == 30
    assert report["provenance"]["kinds_known"] is True


def test_an_empty_association_section_says_why(tmp_path: Path) -> None:
    rows = [{"id": str(i), "text": "a woman reads", "lang": "en"} for i in range(5)]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "d.parquet")
    audit_dataset(tmp_path / "d.parquet", out_dir=tmp_path / "o", sections=["association"])
    md = (tmp_path / "o" / "audit.md").read_text()
    assert "No group is mentioned in enough documents for word statistics" in md


def test_empty_dataset_and_unscored_toxicity_do_not_crash(tmp_path: Path) -> None:
    # Issue 15: `KeyError: 'groups'` in the harm findings when no document had a score.
    rows = [{"id": str(i), "text": "a woman reads", "toxicity": None} for i in range(40)]
    table = pa.Table.from_pylist(
        rows,
        schema=pa.schema([("id", pa.string()), ("text", pa.string()), ("toxicity", pa.float64())]),
    )
    pq.write_table(table, tmp_path / "null.parquet")
    report = audit_dataset(tmp_path / "null.parquet", out_dir=tmp_path / "a", lexicons=["en"])
    assert report["sections"]["harm"]["available"] is False
    pq.write_table(table.slice(0, 0), tmp_path / "empty.parquet")
    report = audit_dataset(tmp_path / "empty.parquet", out_dir=tmp_path / "b", lexicons=["en"])
    assert report["documents"] == 0 and (tmp_path / "b" / "audit.md").is_file()
