"""The ledger and data browser and the document view, checked against direct Polars queries
over the same Parquet files."""

from __future__ import annotations

import html
import re
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("starlette")
from starlette.testclient import TestClient
from test_serve_app import make_serve_run

from curate.serve.app import create_app

ROW_ID = re.compile(r'<tr data-id="([^"]*)">')
TOTAL = re.compile(r'<strong id="total">([\d,]+)</strong>')


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_serve_run(tmp_path_factory.mktemp("serve") / "r1")


@pytest.fixture(scope="module")
def client(run: Path) -> TestClient:
    return TestClient(create_app(roots=[run.parent]))


def _frame(run: Path, source: str) -> pl.DataFrame:
    folder = run / ("data" if source == "kept" else "curate/removed")
    files = sorted(folder.glob("*.parquet"))
    return pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed")


def _page(client: TestClient, params: dict[str, str]) -> tuple[int, list[str]]:
    response = client.get("/run/0/r1/browse", params=params)
    assert response.status_code == 200, response.text
    found = TOTAL.search(response.text)
    assert found is not None
    return int(found.group(1).replace(",", "")), [
        html.unescape(i) for i in ROW_ID.findall(response.text)
    ]


def _all_pages(client: TestClient, params: dict[str, str]) -> list[str]:
    ids: list[str] = []
    page = 1
    while True:
        total, rows = _page(client, {**params, "page": str(page), "size": "50"})
        if not rows:
            break
        ids += rows
        page += 1
    assert len(ids) == total
    return ids


CASES: list[tuple[dict[str, str], pl.Expr]] = [
    ({"source": "removed"}, pl.lit(True)),
    ({"source": "removed", "stage": "dedup.minhash"}, pl.col("stage") == "dedup.minhash"),
    ({"source": "removed", "reason": "toxic"}, pl.col("reason") == "toxic"),
    ({"source": "removed", "q": "CAT"}, pl.col("text").str.to_lowercase().str.contains("cat")),
    ({"source": "kept", "lang": "fr"}, pl.col("lang") == "fr"),
    (
        {"source": "kept", "group": "religion/muslim"},
        pl.col("identities").list.contains("religion/muslim"),
    ),
    (
        {"source": "kept", "min:toxicity": "0.25", "max:toxicity": "0.6"},
        pl.col("toxicity").is_between(0.25, 0.6),
    ),
    (
        {"source": "kept", "col": "quality_word_count", "lo": "100"},
        pl.col("quality_word_count") >= 100,
    ),
    (
        {"source": "kept", "q": "Rain", "lang": "en", "max:quality_word_count": "200"},
        pl.col("text").str.to_lowercase().str.contains("rain", literal=True)
        & (pl.col("lang") == "en")
        & (pl.col("quality_word_count") <= 200),
    ),
    ({"source": "kept", "q": "<script>"}, pl.col("text").str.contains("<script>", literal=True)),
]


@pytest.mark.parametrize(("params", "expected"), CASES)
def test_filters_return_the_rows_polars_returns(
    client: TestClient, run: Path, params: dict[str, str], expected: pl.Expr
) -> None:
    frame = _frame(run, params["source"])
    want = frame.filter(expected.fill_null(False))["id"].to_list()
    assert _all_pages(client, params) == want
    assert want, "each case selects something"


def test_pages_are_bounded_and_cover_the_rows_once(client: TestClient, run: Path) -> None:
    kept = _frame(run, "kept")["id"].to_list()
    total, first = _page(client, {"source": "kept", "size": "50"})
    assert total == len(kept) and first == kept[:50]
    _, third = _page(client, {"source": "kept", "size": "50", "page": "3"})
    assert third == kept[100:150]
    _, big = _page(client, {"source": "kept", "size": "100000"})
    assert len(big) == 180 and big == kept[:200]
    _, past = _page(client, {"source": "kept", "page": "99"})
    assert past == []


def test_next_and_previous_links_keep_the_filters(client: TestClient) -> None:
    text = client.get(
        "/run/0/r1/browse", params={"source": "kept", "lang": "en", "size": "10"}
    ).text
    assert (
        'rel="next" href="/run/0/r1/browse?source=kept&amp;lang=en&amp;size=10&amp;page=2"' in text
    )
    assert 'rel="prev"' not in text


@settings(max_examples=40)
@given(st.text(alphabet="cat.*()[]?+\\^$| <>", min_size=1, max_size=4))
def test_search_is_literal_and_case_insensitive(client: TestClient, run: Path, q: str) -> None:
    frame = _frame(run, "kept")
    want = frame.filter(pl.col("text").str.to_lowercase().str.contains(q.lower(), literal=True))
    total, _ = _page(client, {"source": "kept", "q": q})
    assert total == want.height


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"source": "nope"}, "source: must be one of kept, removed"),
        ({"min:text": "1"}, "min:text: &#39;text&#39; is not a numeric column"),
        ({"min:missing": "1"}, "min:missing: these rows have no &#39;missing&#39; column"),
        ({"min:toxicity": "high"}, "min:toxicity: &#39;high&#39; is not a number"),
        ({"page": "two"}, "page: &#39;two&#39; is not a whole number"),
        ({"source": "kept", "stage": "toxic"}, "stage: these rows have no &#39;stage&#39; column"),
    ],
)
def test_bad_parameters_are_400_naming_the_field(
    client: TestClient, params: dict[str, str], message: str
) -> None:
    response = client.get("/run/0/r1/browse", params=params)
    assert response.status_code == 400
    assert message in response.text


def test_stage_and_reason_menus_come_from_the_report(client: TestClient) -> None:
    text = client.get("/run/0/r1/browse").text
    for value in ("dedup.exact", "dedup.minhash", "toxic", "near-duplicate-of-other"):
        assert f"<option>{value}</option>" in text
    assert "The ledger's text is as read." in text


def test_removed_document_shows_why_and_every_column(client: TestClient, run: Path) -> None:
    row = _frame(run, "removed").filter(pl.col("id") == "t1").row(0, named=True)
    text = client.get("/run/0/r1/doc", params={"id": "t1"}).text
    assert "Removed by <strong>toxic</strong>, reason <strong>toxic</strong>" in text
    for column in row:
        if column != "text":
            assert f"<tr><th>{column}</th>" in text
    assert '<td class="num">0.91</td>' in text and "<td>gender/female</td>" in text


def test_kept_document_is_found_in_the_data(client: TestClient) -> None:
    text = client.get("/run/0/r1/doc", params={"id": "k010"}).text
    assert "Kept in the output." in text


def test_near_duplicate_beside_its_kept_document(client: TestClient, run: Path) -> None:
    kept = _frame(run, "kept").filter(pl.col("id") == "k002")["text"].item()
    removed = _frame(run, "removed").filter(pl.col("id") == "n002")["text"].item()
    text = client.get("/run/0/r1/doc", params={"id": "n002"}).text
    assert "Beside the kept document" in text
    assert 'href="/run/0/r1/doc?id=k002">k002</a>' in text
    # The fixture replaced the first word by "dog" and appended three words.
    first = kept.split()[0]
    assert "<del>dog</del>" in text and f"<ins>{first}</ins>" in text
    assert "extra words here</del>" in text
    sides = re.findall(r'<pre class="text">(.*?)</pre>', text, flags=re.S)
    strip = re.compile(r"</?(del|ins)>")
    assert html.unescape(strip.sub("", sides[0])) == removed
    assert html.unescape(strip.sub("", sides[1])) == kept


def test_exact_duplicate_of_hostile_text_is_escaped_in_the_diff(client: TestClient) -> None:
    text = client.get("/run/0/r1/doc", params={"id": "x005"}).text
    assert "kept: <a" in text
    assert "&lt;script&gt;" in text and "<del>" not in text.split("<h2>Text</h2>")[0]


def test_duplicate_of_another_dataset_names_it(client: TestClient) -> None:
    text = client.get("/run/0/r1/doc", params={"id": "n900"}).text
    assert "is in the dataset <code>wiki</code>" in text


def test_unknown_document_is_404_and_missing_id_400(client: TestClient) -> None:
    assert client.get("/run/0/r1/doc", params={"id": "nope"}).status_code == 404
    assert client.get("/run/0/r1/doc").status_code == 400


@pytest.mark.slow
def test_pages_of_a_real_quickstart_run(
    tmp_path: Path,
    lid_model: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every page of an actual ``curate run`` of recipes/quickstart.yaml, its numbers checked
    against the run's own files."""
    import yaml

    from curate.cli import main

    root = Path(__file__).resolve().parent.parent
    monkeypatch.setenv("CURATE_LID_MODEL", str(lid_model))
    monkeypatch.chdir(root)  # the recipe's input path is relative to the project
    recipe = yaml.safe_load((root / "recipes" / "quickstart.yaml").read_text())
    recipe["output"]["path"] = str(tmp_path / "runs" / "quickstart")
    (tmp_path / "quickstart.yaml").write_text(yaml.safe_dump(recipe))
    try:
        main(["-q", "run", str(tmp_path / "quickstart.yaml")])
    except SystemExit as exc:
        assert exc.code in (0, None), capsys.readouterr().err
    out = tmp_path / "runs" / "quickstart"
    client = TestClient(create_app(roots=[tmp_path / "runs"]))
    for page in ("report", "card", "audit", "browse", "browse?source=kept", "whatif"):
        assert client.get(f"/run/0/quickstart/{page}").status_code == 200, page

    ledger = pl.concat(
        [pl.read_parquet(f) for f in sorted((out / "curate" / "removed").glob("*.parquet"))],
        how="diagonal_relaxed",
    )
    for (stage, reason), group in ledger.group_by("stage", "reason"):
        total, _ = _page_of(client, {"source": "removed", "stage": stage, "reason": reason})
        assert total == group.height

    near = ledger.filter(pl.col("reason") == "near-duplicate").row(0, named=True)
    kept_id = near["detail"].removeprefix("kept=").rsplit(" similarity=", 1)[0]
    doc = client.get("/run/0/quickstart/doc", params={"id": near["id"]}).text
    assert "Beside the kept document" in doc and html.escape(kept_id, quote=True) in doc

    kept = pl.read_parquet(out / "data" / "*.parquet")
    threshold = 0.1
    removed = kept.filter(pl.col("toxicity") >= threshold).height
    page = client.get(
        "/run/0/quickstart/whatif",
        params={"column": "toxicity", "threshold": str(threshold), "direction": "at_or_above"},
    ).text
    assert f'<span class="big" id="removed">{removed:,}</span>' in page


def _page_of(client: TestClient, params: dict[str, str]) -> tuple[int, list[str]]:
    response = client.get("/run/0/quickstart/browse", params=params)
    assert response.status_code == 200, response.text
    found = TOTAL.search(response.text)
    assert found is not None
    return int(found.group(1).replace(",", "")), ROW_ID.findall(response.text)


@settings(max_examples=200)
@given(st.text(alphabet="ab <>&\"'\n", max_size=30), st.text(alphabet="ab <>&\"'\n", max_size=30))
def test_word_diff_escapes_and_loses_nothing(left: str, right: str) -> None:
    from curate.serve.security import diff_words

    marks = re.compile(r"</?(del|ins)>")
    for shown, original in zip(diff_words(left, right), (left, right)):
        bare = marks.sub("", str(shown))
        assert "<" not in bare and ">" not in bare
        assert html.unescape(bare) == original
