"""``curate serve`` in a real browser: headless Chromium (Debian's) driven by Playwright.

One real ``curate run`` of the quickstart recipe, over the repository's sample corpus plus two
hostile documents (one kept, one removed as too short), is served with a registry holding it
under uvicorn on a loopback port (tests/serve_harness.py). Every request a page makes to
anything else is aborted and fails the test. Expected numbers are computed here from the run's
Parquet files with Polars and plain Python, not through the app's code.

These tests skip when ``/usr/bin/chromium`` or Playwright is absent; ``.ci/run`` installs
chromium, so CI runs them. The run reads the fastText LID model from ../shared (skipped without
it) and takes about 15 s, once per module (hence ``slow``).
"""

from __future__ import annotations

import http.client
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import polars as pl
import pytest
from serve_harness import CHROMIUM, Browser, chromium, live_server
from test_card_fixture import make_run

import curate.registry as registry
from curate.cli import main
from curate.serve.app import create_app

pytest.importorskip("playwright", reason="playwright is not installed (pip install playwright)")
if not CHROMIUM.exists():
    pytest.skip(
        f"{CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)",
        allow_module_level=True,
    )

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = "<script>alert('xss-script')</script>"
IMG = "<img src=x onerror=\"alert('xss-img')\">"
HOSTILE = [
    {
        "url": "https://hostile.example.org/kept",
        "source": "web",
        "text": f"A page that quotes markup as text. {SCRIPT} Then an image tag {IMG} and more "
        "ordinary words after it, so that it passes every length and quality filter here.",
    },
    {"url": "https://hostile.example.org/removed", "source": "web", "text": f"{SCRIPT}{IMG}"},
]


@dataclass
class Served:
    browser: Browser
    base: str
    run: Path
    key: str


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, lid_model: Path) -> Iterator[Served]:
    base = tmp_path_factory.mktemp("serve")
    corpus = base / "input.jsonl"
    sample = (ROOT / "recipes" / "sample" / "web-sample.jsonl").read_text(encoding="utf-8")
    corpus.write_text(sample + "".join(json.dumps(d) + "\n" for d in HOSTILE), encoding="utf-8")
    out = base / "runs" / "quickstart"
    reg = base / "registry"
    with pytest.MonkeyPatch.context() as env:  # the per-test isolation is not set up yet here
        env.setenv("CURATE_LID_MODEL", str(lid_model))
        env.setenv("CURATE_CACHE", str(base / "cache"))
        env.setenv("CURATE_REGISTRY", str(reg))
        recipe = str(ROOT / "recipes" / "quickstart.yaml")
        try:
            main(["run", recipe, "-i", str(corpus), "-o", str(out)])
        except SystemExit as exc:
            assert exc.code in (0, None), f"curate run failed with {exc.code}"
    registry.publish(make_run(base / "v1", n=20), "web-sample", registry=reg)
    registry.publish(make_run(base / "v2", n=24), "web-sample", registry=reg)
    app = create_app(roots=[base / "runs"], registry=str(reg))
    with live_server(app) as server, chromium(server.url) as browser:
        yield Served(browser=browser, base=server.url, run=out, key="0/quickstart")


def _clean(browser: Browser) -> None:
    assert browser.console_errors == []
    assert browser.dialogs == []
    assert browser.blocked == []


def _frame(files: list[Path]) -> pl.DataFrame:
    return pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed")


def _kept(run: Path) -> pl.DataFrame:
    return _frame(sorted((run / "data").glob("*.parquet")))


def _ledger(run: Path) -> pl.DataFrame:
    return _frame(sorted((run / "curate" / "removed").glob("*.parquet")))


def _ids_on(page: Any) -> list[str]:
    return [cell.strip() for cell in page.locator("table.results td.id").all_inner_texts()]


def _total(page: Any) -> int:
    return int(page.inner_text("#total").replace(",", ""))


def _pages(key: str) -> list[str]:
    doc = quote(HOSTILE[0]["url"], safe="")
    return [
        "/",
        f"/run/{key}/report",
        f"/run/{key}/card",
        f"/run/{key}/audit",
        f"/run/{key}/browse?source=removed",
        f"/run/{key}/browse?source=kept",
        f"/run/{key}/doc?id={doc}",
        f"/run/{key}/whatif",
        f"/run/{key}/whatif?column=toxicity&direction=at_or_above&threshold=0.1",
        "/registry",
        "/registry/web-sample",
        "/registry/web-sample/1.1.0",
        "/registry/web-sample/1.1.0/lineage",
        "/registry/web-sample/1.1.0/verify",
        "/registry/-/diff",
    ]


def test_every_page_loads_without_console_errors(served: Served) -> None:
    page = served.browser.page()
    for path in _pages(served.key):
        response = page.goto(served.base + path)
        assert response is not None and response.status == 200, path
        assert page.locator("h1").count() >= 1, path
    page.close()
    _clean(served.browser)


def test_ledger_search_and_filter_return_the_rows_polars_returns(served: Served) -> None:
    ledger = _ledger(served.run)
    stage, _ = Counter(ledger.get_column("stage").to_list()).most_common(1)[0]
    word = "the"
    expected = ledger.filter(
        (pl.col("stage") == stage)
        & pl.col("text").str.to_lowercase().str.contains(word, literal=True)
    )
    assert 0 < expected.height < ledger.height
    page = served.browser.page()
    page.goto(f"{served.base}/run/{served.key}/browse?source=removed&size=200")
    page.select_option("select[name=stage]", stage)
    page.fill("input[name=q]", word.upper())  # the search ignores case
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r".*[?&]q=THE.*"))
    assert _total(page) == expected.height
    assert sorted(_ids_on(page)) == sorted(expected.get_column("id").to_list())
    page.close()
    _clean(served.browser)


def test_kept_rows_filtered_by_language_and_score_range(served: Served) -> None:
    kept = _kept(served.run)
    expected = kept.filter((pl.col("lang") == "en") & (pl.col("lang_score") >= 0.9))
    assert 0 < expected.height < kept.height
    page = served.browser.page()
    page.goto(f"{served.base}/run/{served.key}/browse?source=kept&size=200")
    page.fill("input[name=lang]", "en")
    page.select_option("select[name=col]", "lang_score")
    page.fill("input[name=lo]", "0.9")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r".*lang=en.*"))
    assert _total(page) == expected.height
    assert sorted(_ids_on(page)) == sorted(expected.get_column("id").to_list())
    page.close()
    _clean(served.browser)


def _whatif_expected(run: Path, threshold: float) -> dict[str, Any]:
    """Removal counts computed row by row in Python from the kept shards."""
    rows = _kept(run).select("toxicity", "identities").to_dicts()
    removed = [r["toxicity"] is not None and r["toxicity"] >= threshold for r in rows]
    groups: dict[str, list[int]] = {}
    for row, gone in zip(rows, removed):
        for group in row["identities"] or []:
            counts = groups.setdefault(group, [0, 0])
            counts[0] += 1
            counts[1] += gone
    overall = 1 - sum(removed) / len(rows)
    return {
        "documents": len(rows),
        "removed": sum(removed),
        "retention": overall,
        "groups": {
            g: (n, gone, (n - gone) / n, ((n - gone) / n) / overall)
            for g, (n, gone) in sorted(groups.items())
        },
    }


def test_whatif_numbers_equal_a_direct_computation(served: Served) -> None:
    threshold = 0.1
    expected = _whatif_expected(served.run, threshold)
    assert 0 < expected["removed"] < expected["documents"]
    page = served.browser.page()
    page.goto(f"{served.base}/run/{served.key}/whatif")
    page.select_option("select[name=column]", "toxicity")
    page.select_option("select[name=direction]", "at_or_above")
    page.fill("input[name=threshold]", str(threshold))
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r".*threshold=0\.1.*"))
    assert int(page.inner_text("#removed").replace(",", "")) == expected["removed"]
    assert page.inner_text("#retention") == f"{100 * expected['retention']:.2f}%"
    shown = {}
    for row in page.locator("table.groups tbody tr").all():
        cells = [c.strip() for c in row.locator("td").all_inner_texts()]
        shown[cells[0]] = tuple(cells[1:])
    assert set(shown) == set(expected["groups"])
    for group, (n, gone, retention, ratio) in expected["groups"].items():
        assert shown[group] == (f"{n:,}", f"{gone:,}", f"{100 * retention:.2f}%", f"{ratio:.3f}")
    assert "toxicity IS NULL OR toxicity < 0.1" in page.inner_text("#stage-yaml")
    page.close()
    _clean(served.browser)


@pytest.mark.parametrize("which", [0, 1], ids=["kept", "removed"])
def test_a_document_with_script_and_img_onerror_renders_as_text(served: Served, which: int) -> None:
    doc = HOSTILE[which]
    page = served.browser.page()
    page.goto(f"{served.base}/run/{served.key}/doc?id={quote(doc['url'], safe='')}")
    text = page.inner_text("pre.text")
    assert SCRIPT in text and IMG in text
    assert page.locator("pre.text").first.is_visible()
    assert page.evaluate("document.querySelectorAll('main img, main script').length") == 0
    source = "kept" if which == 0 else "removed"
    page.goto(f"{served.base}/run/{served.key}/browse?source={source}&q=onerror")
    assert _ids_on(page) == [doc["url"]]
    assert SCRIPT in page.inner_text("table.results")
    page.close()
    _clean(served.browser)


def _raw_get(base: str, path: str) -> tuple[int, str]:
    """GET ``path`` exactly as written (a browser would remove the ``..`` segments first)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


@pytest.mark.parametrize(
    "path",
    [
        "/run/0/../../../../etc/report",
        "/run/0/..%2F..%2F..%2F..%2Fetc/report",
        "/run/0%2F..%2F..%2F..%2Fetc/browse?source=kept",
        "/run/%2Fetc/report",
        "/static/../app.py",
        "/static/..%2Fapp.py",
        "/registry/..%2F..%2Fetc%2Fpasswd/1.0.0",
    ],
)
def test_a_path_outside_the_served_roots_is_refused(served: Served, path: str) -> None:
    status, body = _raw_get(served.base, path)
    assert status in (400, 403, 404), (path, status)
    assert "root:" not in body and "create_app" not in body


def test_the_diff_form_compares_the_versions_the_user_picks(served: Served) -> None:
    page = served.browser.page()
    page.goto(served.base + "/registry/-/diff")
    page.select_option("select[name=a]", "web-sample@1.0.0")
    page.select_option("select[name=b]", "web-sample@1.1.0")
    page.click("form.diff button[type=submit]")
    page.wait_for_url("**/registry/-/diff?a=web-sample%401.0.0&b=web-sample%401.1.0")
    assert page.inner_text("h2") == "web-sample@1.0.0 → web-sample@1.1.0"
    assert page.inner_text("td.added") == "+4"
    page.close()
    _clean(served.browser)


#: Short cells (one word, no space) that the page draws on more than one line, and whether the
#: page is wider than the window. Long text (ids, snippets, .long, .wrap) may wrap.
SPLIT_CELLS = """() => {
  const out = [];
  for (const el of document.querySelectorAll("table td, table th, dl.kv dd")) {
    if (el.closest(".id, .snippet, .long, .wrap, details")) continue;
    const text = el.innerText.trim();
    if (!text || /\\s/.test(text) || text.length > 30) continue;
    const range = document.createRange();
    range.selectNodeContents(el);
    const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
    if (tops.size > 1) out.push(text);
  }
  return {split: out, wide: document.documentElement.scrollWidth > window.innerWidth};
}"""


def test_short_cells_keep_their_words_whole_at_1280_pixels(served: Served) -> None:
    page = served.browser.page()
    assert page.viewport_size["width"] == 1280
    ledger = _ledger(served.run)
    stage = ledger.filter(pl.col("detail").str.starts_with("kept=")).get_column("stage")[0]
    paths = [p for p in _pages(served.key) if p != "/registry/-/diff"]
    paths.append(f"/run/{served.key}/browse?source=removed&stage={stage}")
    paths.append(f"/run/{served.key}/browse?source=kept&col=toxicity&lo=0&size=200")
    for path in paths:
        page.goto(served.base + path)
        found = page.evaluate(SPLIT_CELLS)
        assert found == {"split": [], "wide": False}, path
    page.close()
    _clean(served.browser)


def test_an_audit_kept_only_as_html_shows_in_a_sandboxed_frame(served: Served) -> None:
    own = (served.run / "curate" / "audit" / "audit.html").read_text(encoding="utf-8")
    folder = served.run.parent / "html-only-audit"
    folder.mkdir(exist_ok=True)
    (folder / "audit.html").write_text(own, encoding="utf-8")
    page = served.browser.page()
    page.goto(served.base + "/")
    page.click('a[href="/audit/0/html-only-audit"]')
    frame = page.frame_locator("iframe.audit-html")
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", own)
    assert heading is not None
    assert frame.locator("h1").first.inner_text().strip() == re.sub(r"<[^>]+>", "", heading[1])
    images = frame.locator("img")
    assert images.count() > 0
    assert all(images.nth(i).evaluate("i => i.naturalWidth > 0") for i in range(images.count()))
    # The frame holds an opaque origin: scripts are off and it cannot reach this page.
    assert page.evaluate("document.querySelector('iframe.audit-html').contentDocument") is None
    page.close()
    _clean(served.browser)
