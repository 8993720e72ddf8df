"""What-if: the numbers equal a direct Polars computation and what curate's own ``filter``
stage does with the YAML the page proposes."""

from __future__ import annotations

import html
import re
from pathlib import Path

import polars as pl
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("starlette")
from starlette.testclient import TestClient
from test_serve_app import make_serve_run

from curate import schema
from curate.serve.app import create_app
from curate.stages.filter import Filter


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_serve_run(tmp_path_factory.mktemp("whatif") / "r1")


@pytest.fixture(scope="module")
def client(run: Path) -> TestClient:
    return TestClient(create_app(roots=[run.parent]))


def _kept(run: Path) -> pl.DataFrame:
    return pl.read_parquet(run / "data" / "*.parquet")


def _ask(client: TestClient, **params: str) -> str:
    response = client.get("/run/0/r1/whatif", params=params)
    assert response.status_code == 200, response.text
    return response.text


def _stage(page: str) -> dict[str, object]:
    found = re.search(r'<pre class="yaml" id="stage-yaml">(.*?)</pre>', page, flags=re.S)
    assert found is not None
    (stage,) = yaml.safe_load(html.unescape(found.group(1)))
    assert isinstance(stage, dict)
    return stage


def _removed_by_filter(frame: pl.DataFrame, where: str) -> set[str]:
    """The ids curate's filter stage removes from ``frame`` with ``where``."""
    out = pl.concat([pl.from_arrow(b) for b in Filter(where=where)(frame.to_arrow().to_batches())])
    assert isinstance(out, pl.DataFrame)
    return set(out.filter(pl.col(schema.REASON).is_not_null())["id"].to_list())


def _number(page: str, name: str) -> str:
    found = re.search(rf'<span class="big" id="{name}">([^<]*)</span>', page)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize(
    ("column", "threshold", "direction", "nulls", "keep"),
    [
        (
            "toxicity",
            "0.5",
            "at_or_above",
            "keep",
            pl.col("toxicity").is_null() | (pl.col("toxicity") < 0.5),
        ),
        ("toxicity", "0.5", "at_or_above", "remove", pl.col("toxicity") < 0.5),
        ("quality_word_count", "120", "below", "keep", pl.col("quality_word_count") >= 120),
        (
            "toxicity",
            "0.2",
            "below",
            "keep",
            pl.col("toxicity").is_null() | (pl.col("toxicity") >= 0.2),
        ),
    ],
)
def test_counts_equal_polars_and_the_filter_stage(
    client: TestClient,
    run: Path,
    column: str,
    threshold: str,
    direction: str,
    nulls: str,
    keep: pl.Expr,
) -> None:
    frame = _kept(run)
    removed = frame.filter(~keep.fill_null(False))
    page = _ask(client, column=column, threshold=threshold, direction=direction, nulls=nulls)
    assert _number(page, "removed") == f"{removed.height:,}"
    retention = (frame.height - removed.height) / frame.height
    assert _number(page, "retention") == f"{100 * retention:.2f}%"
    stage = _stage(page)
    assert stage["use"] == "filter"
    where = stage["with"]["where"]  # type: ignore[index]
    assert ("IS NULL OR" in where) == (nulls == "keep")
    assert _removed_by_filter(frame, where) == set(removed["id"].to_list())
    sample = [html.unescape(i) for i in re.findall(r'<tr data-id="([^"]*)">', page)]
    assert sample == removed["id"].to_list()[:20]


def test_group_retention_against_the_overall(client: TestClient, run: Path) -> None:
    frame = _kept(run).with_columns(removed=pl.col("toxicity") >= 0.3)
    overall = 1 - frame["removed"].sum() / frame.height
    groups = (
        frame.explode("identities")
        .drop_nulls("identities")
        .group_by("identities")
        .agg(n=pl.len(), gone=pl.col("removed").sum())
    )
    page = _ask(client, column="toxicity", threshold="0.3", direction="at_or_above")
    assert groups.height == 4
    for group, n, gone in groups.iter_rows():
        row = re.search(rf'<tr data-group="{re.escape(group)}"[^>]*>(.*?)</tr>', page, flags=re.S)
        assert row is not None, group
        cells = re.findall(r"<td[^>]*>([^<]*)</td>", row.group(1))
        retention = (n - gone) / n
        assert cells == [
            group,
            f"{n:,}",
            f"{gone:,}",
            f"{100 * retention:.2f}%",
            f"{retention / overall:.3f}",
        ]
    assert 'class="reference"' in page


@settings(max_examples=25)
@given(
    threshold=st.floats(min_value=-0.5, max_value=1.5, allow_nan=False).map(lambda x: round(x, 3)),
    direction=st.sampled_from(["below", "at_or_above"]),
    nulls=st.sampled_from(["keep", "remove"]),
)
def test_the_yaml_removes_exactly_what_the_page_counts(
    client: TestClient, run: Path, threshold: float, direction: str, nulls: str
) -> None:
    page = _ask(
        client, column="toxicity", threshold=str(threshold), direction=direction, nulls=nulls
    )
    where = _stage(page)["with"]["where"]  # type: ignore[index]
    removed = _removed_by_filter(_kept(run), where)
    assert _number(page, "removed") == f"{len(removed):,}"


def test_the_proposed_stage_is_valid_for_the_filter(client: TestClient) -> None:
    stage = _stage(_ask(client, column="quality_word_count", threshold="50", direction="below"))
    params = stage["with"]
    assert isinstance(params, dict)
    assert Filter(**params).reason == "quality_word_count-below-threshold"
    assert stage["id"] == "quality-word-count-below-50"


def test_no_rule_shows_only_the_form(client: TestClient) -> None:
    page = _ask(client)
    assert "<option>toxicity</option>" in page and "<option>quality_word_count</option>" in page
    assert 'id="removed"' not in page


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"column": "text", "threshold": "1"}, "column: &#39;text&#39; is not a numeric column"),
        ({"column": "toxicity", "threshold": "high"}, "threshold: &#39;high&#39; is not a number"),
        ({"column": "toxicity", "threshold": "inf"}, "threshold: must be a finite number"),
        ({"column": "toxicity", "threshold": "1", "direction": "up"}, "direction: must be"),
        ({"column": "toxicity", "threshold": "1", "nulls": "maybe"}, "nulls: must be"),
    ],
)
def test_bad_parameters_are_400(client: TestClient, params: dict[str, str], message: str) -> None:
    response = client.get("/run/0/r1/whatif", params=params)
    assert response.status_code == 400
    assert message in response.text


def test_without_identities_says_which_stage_adds_them(tmp_path: Path) -> None:
    run = make_serve_run(tmp_path / "r1")
    for shard in (run / "data").glob("*.parquet"):
        pl.read_parquet(shard).drop("identities").write_parquet(shard)
    page = TestClient(create_app(roots=[tmp_path])).get(
        "/run/0/r1/whatif", params={"column": "toxicity", "threshold": "0.5"}
    )
    assert page.status_code == 200
    assert "add <code>score.identity</code>" in page.text
