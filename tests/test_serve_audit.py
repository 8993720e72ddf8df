"""The audit page over HTTP: list and map fields as tables, groups folded, an HTML-only audit
framed; and the browser's count taken from the scan that reads the page.

Expected numbers are computed here from the audit.json the test writes and from the Parquet
files with Polars, not through the app's code.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from starlette.testclient import TestClient

from curate.serve import matches
from curate.serve.app import create_app

AXES = ("age", "religion", "nationality")
HISTOGRAM = [
    {"min_words": 0, "max_words": 0, "documents": 0},
    {"min_words": 1, "max_words": 1, "documents": 15},
    {"min_words": 2, "max_words": 3, "documents": 41},
]


def _groups() -> dict[str, dict[str, Any]]:
    """150 groups: 3 with enough documents, 7 with a few, the rest never mentioned."""
    out: dict[str, dict[str, Any]] = {}
    for i in range(150):
        docs = 40 + i if i < 3 else (i if i < 10 else 0)
        out[f"{AXES[i % 3]}/g{i:03d}"] = {
            "documents": docs,
            "share": docs / 500,
            "ci95": [0.01, 0.2],
            "insufficient": docs < 30,
        }
    return out


def _audit() -> dict[str, Any]:
    groups = _groups()
    names = sorted(groups)
    return {
        "version": 1,
        "documents": 500,
        "groups": groups,
        "findings": ["one finding"],
        "sections": {
            "composition": {"method": "m", "documents": 500, "length_histogram": HISTOGRAM},
            "representation": {
                "method": "m",
                "groups": groups,
                "axes": {
                    "nationality": {"groups": 92, "mentions": 13, "insufficient": names[:92]},
                    "age": {"groups": 2, "mentions": 5, "insufficient": names[:2]},
                },
            },
        },
    }


def _run(folder: Path, *, audit_json: bool = True, audit_html: str | None = None) -> Path:
    (folder / "curate" / "audit").mkdir(parents=True)
    (folder / "curate" / "run.json").write_text(json.dumps({"rows_in": 1, "stages": []}))
    if audit_json:
        (folder / "curate" / "audit" / "audit.json").write_text(json.dumps(_audit()))
    if audit_html is not None:
        (folder / "curate" / "audit" / "audit.html").write_text(audit_html)
    return folder


class Tables(HTMLParser):
    """Every <table>: its rows, each a list of cell texts (th and td)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None and self.tables:
            self.tables[-1][-1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def _tables(html: str) -> list[list[list[str]]]:
    parser = Tables()
    parser.feed(html)
    return parser.tables


def _section(html: str, key: str) -> str:
    start = html.index(f'id="{key}"')
    end = html.find('<section class="audit-section">', start)
    return html[start : end if end > 0 else len(html)]


def test_a_list_of_records_is_a_table_not_a_line_of_text(tmp_path: Path) -> None:
    _run(tmp_path / "r")
    html = TestClient(create_app(roots=[tmp_path])).get("/run/0/r/audit").text
    composition = _section(html, "composition")
    assert "min_words: 0" not in composition  # the flattened form this replaces
    table = next(t for t in _tables(composition) if t and "min words" in t[0])
    assert table[0] == ["", "min words", "max words", "documents"]
    body = [[int(c.replace(",", "")) for c in row[1:]] for row in table[1:]]
    assert body == [[h["min_words"], h["max_words"], h["documents"]] for h in HISTOGRAM]


def test_groups_without_documents_fold_into_one_line_with_a_count(tmp_path: Path) -> None:
    _run(tmp_path / "r")
    html = TestClient(create_app(roots=[tmp_path])).get("/run/0/r/audit").text
    rep = _section(html, "representation")
    groups = _groups()
    enough = sorted(
        (g for g, r in groups.items() if not r["insufficient"]),
        key=lambda g: -groups[g]["documents"],
    )
    thin = [g for g, r in groups.items() if r["insufficient"] and r["documents"]]
    never = [g for g, r in groups.items() if not r["documents"]]
    table = next(t for t in _tables(rep) if t and "documents" in t[0])
    assert [row[0] for row in table[1:]] == enough
    assert f"<summary>{len(thin)} groups with too few documents</summary>" in rep
    assert f"<summary>{len(never)} groups not mentioned at all</summary>" in rep
    assert len(never) == 140 and sum(f"<th>{g}</th>" in rep for g in never) == 0
    # The long list of a table cell folds too, counted; short lists stay in the cell.
    axes = next(t for t in _tables(rep) if t and "mentions" in t[0])
    assert axes[1][0] == "nationality" and axes[1][-1].startswith("92 items")
    assert axes[2][-1] == ", ".join(sorted(groups)[:2])


def test_an_audit_with_only_its_html_is_framed_sandboxed(tmp_path: Path) -> None:
    page = "<!doctype html><title>a</title><p>the audit's own words</p><script>x()</script>"
    _run(tmp_path / "r", audit_json=False, audit_html=page)
    (tmp_path / "loose").mkdir()
    (tmp_path / "loose" / "audit.html").write_text(page)
    client = TestClient(create_app(roots=[tmp_path]))
    html = client.get("/run/0/r/audit").text
    frame = re.search(r"<iframe[^>]*>", html)
    assert frame is not None and 'src="/run/0/r/audit.html"' in frame.group(0)
    assert re.search(r"\bsandbox\b(?!=)", frame.group(0))  # no allow-scripts, no allow-same-origin
    served = client.get("/run/0/r/audit.html")
    assert served.status_code == 200 and served.text == page
    policies = served.headers.get_list("content-security-policy")
    assert len(policies) == 1 and "sandbox" in policies[0]
    assert "frame-ancestors 'self'" in policies[0] and "script-src" not in policies[0]
    assert served.headers["x-content-type-options"] == "nosniff"
    # The pages around it keep the policy that forbids framing them.
    assert (
        "frame-ancestors 'none'" in client.get("/run/0/r/audit").headers["content-security-policy"]
    )
    assert 'href="/audit/0/loose"' in client.get("/").text
    assert 'src="/audit-html/0/loose"' in client.get("/audit/0/loose").text
    assert client.get("/audit-html/0/loose").text == page
    assert client.get("/audit-html/0/..%2f..").status_code in (403, 404)
    assert client.get("/run/0/nothing/audit.html").status_code == 404


def _ledger_run(folder: Path, n: int) -> Path:
    (folder / "curate" / "removed").mkdir(parents=True)
    (folder / "data").mkdir()
    (folder / "curate" / "run.json").write_text(json.dumps({"rows_in": n, "stages": []}))
    _write_ledger(folder, n)
    return folder


def _write_ledger(folder: Path, n: int) -> None:
    table = pa.table(
        {
            "stage": ["toxic" if i % 3 else "dedup.exact" for i in range(n)],
            "reason": ["r"] * n,
            "detail": [None] * n,
            "id": [f"x{i}" for i in range(n)],
            "text": [f"word {'river' if i % 2 else 'lake'} {i}" for i in range(n)],
        }
    )
    pq.write_table(table, folder / "curate" / "removed" / "part-00000.parquet")


class Spy:
    """Counts the collects of the browser's queries."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.single = 0
        self.together = 0
        collect, collect_all = pl.LazyFrame.collect, pl.collect_all

        def one(frame: pl.LazyFrame, *args: Any, **kwargs: Any) -> Any:
            self.single += 1
            return collect(frame, *args, **kwargs)

        def many(frames: Any, *args: Any, **kwargs: Any) -> Any:
            self.together += 1
            return collect_all(frames, *args, **kwargs)

        monkeypatch.setattr(pl.LazyFrame, "collect", one)
        monkeypatch.setattr(matches.pl, "collect_all", many)

    def take(self) -> tuple[int, int]:
        seen = (self.single, self.together)
        self.single = self.together = 0
        return seen


def _total(html: str) -> int:
    found = re.search(r'id="total">([\d,]+)<', html)
    assert found is not None
    return int(found.group(1).replace(",", ""))


def test_a_filtered_page_scans_once_and_later_pages_reuse_the_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _ledger_run(tmp_path / "r", 300)
    client = TestClient(create_app(roots=[tmp_path]))
    spy = Spy(monkeypatch)
    url = "/run/0/r/browse?source=removed&stage=toxic&q=RIVER&size=20"
    expected = pl.read_parquet(run / "curate" / "removed").filter(
        (pl.col("stage") == "toxic") & pl.col("text").str.contains("river")
    )
    first = client.get(url + "&page=1").text
    assert spy.take() == (0, 1)  # count and page from one collect_all, no second scan
    assert _total(first) == expected.height
    second = client.get(url + "&page=2").text
    assert spy.take() == (1, 0)  # the count is kept: only the slice is read
    assert _total(second) == expected.height
    ids = re.findall(r'<tr data-id="([^"]+)"', second)
    assert ids == expected.get_column("id").to_list()[20:40]
    # A rewritten ledger is counted again.
    _write_ledger(run, 90)
    again = pl.read_parquet(run / "curate" / "removed").filter(
        (pl.col("stage") == "toxic") & pl.col("text").str.contains("river")
    )
    assert _total(client.get(url + "&page=1").text) == again.height != expected.height


def test_an_unfiltered_page_counts_from_the_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ledger_run(tmp_path / "r", 120)
    client = TestClient(create_app(roots=[tmp_path]))
    spy = Spy(monkeypatch)
    assert _total(client.get("/run/0/r/browse?source=removed").text) == 120
    assert spy.take() == (2, 0)  # a shared scan would read every text to count rows
