"""curate serve over HTTP (Starlette's TestClient): run discovery, report, card, audit, CLI,
the read-only guard, the path guard and escaping of hostile documents.

``make_serve_run`` writes a small run folder the way ``curate run`` lays one out (two data
shards, ledger files with different columns per stage, run.json, README.md, an audit), with
documents that carry HTML and scripts; the browse and what-if tests use it too.
"""

from __future__ import annotations

import json
import random
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

pytest.importorskip("starlette")
from starlette.testclient import TestClient

from curate.cli import cli
from curate.serve.app import create_app, find_runs

SCRIPT = "<script>alert('x')</script>"
IMG = '<img src=x onerror="alert(1)">'
HOSTILE = f"Hello {SCRIPT} and {IMG} end"
WORDS = [
    "the",
    "cat",
    "sat",
    "on",
    "a",
    "warm",
    "mat",
    "while",
    "rain",
    "fell",
    "over",
    "quiet",
    "hills",
    "near",
    "old",
    "stone",
    "walls",
]
GROUPS = ["gender/female", "gender/male", "religion/muslim", "age/old"]


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def make_serve_run(folder: Path, *, kept: int = 180) -> Path:
    """A run folder with ``kept`` kept rows in two shards and 7 ledger rows in 3 files."""
    rng = random.Random(7)
    rows = []
    for i in range(kept):
        groups = [g for g in GROUPS if rng.random() < 0.3]
        rows.append(
            {
                "id": f"k{i:03d}",
                "text": HOSTILE if i == 5 else _text(rng, rng.randint(5, 40)),
                "lang": ["en", "fr", "de"][i % 3],
                "toxicity": None if i % 3 == 1 else round(rng.random(), 3),
                "quality_word_count": rng.randint(5, 400),
                "identities": groups,
            }
        )
    data = pl.DataFrame(rows, schema_overrides={"identities": pl.List(pl.String)})
    (folder / "data").mkdir(parents=True)
    half = kept // 2
    data.slice(0, half).write_parquet(folder / "data" / "train-00000-of-00002.parquet")
    data.slice(half).write_parquet(folder / "data" / "train-00001-of-00002.parquet")

    removed = folder / "curate" / "removed"
    removed.mkdir(parents=True)
    kept_text = rows[2]["text"]
    near = " ".join(["dog", *kept_text.split()[1:]]) + " extra words here"
    pl.DataFrame(
        {
            "stage": ["dedup.exact", "dedup.exact"],
            "reason": ["exact-duplicate", "exact-duplicate"],
            "detail": ["kept=k001", "kept=k005"],
            "id": ["x001", "x005"],
            "text": [rows[1]["text"], HOSTILE],
        }
    ).write_parquet(removed / "00000-01-dedup.exact-00000-000.parquet")
    pl.DataFrame(
        {
            "stage": ["dedup.minhash"] * 2,
            "reason": ["near-duplicate", "near-duplicate-of-other"],
            "detail": ["kept=k002 similarity=0.857", "dataset=wiki id=w:9 similarity=0.8"],
            "id": ["n002", "n900"],
            "text": [near, "a page also in wiki"],
            "dup_cluster": ["k002", "w:9"],
            "dup_cluster_size": [2, 2],
        }
    ).write_parquet(removed / "00001-03-dedup.minhash-00000-000.parquet")
    pl.DataFrame(
        {
            "stage": ["toxic"] * 3,
            "reason": ["toxic"] * 3,
            "detail": [None, None, None],
            "id": ["t1", "t2", "t3"],
            "text": [f"toxic {SCRIPT}", "toxic words", "Cat toxic"],
            "lang": ["en", "en", "fr"],
            "toxicity": [0.91, 0.75, 0.66],
            "quality_word_count": [3, 2, 2],
            "identities": [["gender/female"], [], None],
        },
        schema_overrides={"detail": pl.String, "identities": pl.List(pl.String)},
    ).write_parquet(removed / "00002-seg1-shard-00000.parquet")

    rows_in = kept + 7
    stages = [
        ("normalize", "normalize", rows_in, {}, 0.01),
        ("dedup.exact", "dedup.exact", rows_in, {"exact-duplicate": 2}, 0.02),
        (
            "dedup.minhash",
            "dedup.minhash",
            rows_in - 2,
            {"near-duplicate": 1, "near-duplicate-of-other": 1},
            0.5,
        ),
        ("score.toxicity", "score.toxicity", rows_in - 4, {}, 1.25),
        ("filter", "toxic", rows_in - 4, {"toxic": 3}, 0.03),
    ]
    report = {
        "recipe": {"name": f"serve-fixture-{SCRIPT}"},
        "rows_in": rows_in,
        "rows_out": kept,
        "seconds": 2.5,
        "created": "2026-01-02T03:04:05+00:00",
        "output": {"ledger_text": "as read"},
        "stages": [
            {
                "use": use,
                "label": label,
                "params": {},
                "rows_in": n_in,
                "rows_out": n_in - sum(reasons.values()),
                "removed": sum(reasons.values()),
                "removed_by_reason": reasons,
                "seconds": seconds,
            }
            for use, label, n_in, reasons, seconds in stages
        ],
    }
    (folder / "curate" / "run.json").write_text(json.dumps(report))
    (folder / "README.md").write_text(
        f"---\nlicense: cc0-1.0\npretty_name: fixture {IMG}\n---\n# Fixture card\n\n"
        f"Some **bold** text and raw HTML {SCRIPT} {IMG}.\n\n| a | b |\n| - | - |\n| 1 | 2 |\n"
    )
    audit = folder / "curate" / "audit"
    audit.mkdir()
    (audit / "audit.json").write_text(
        json.dumps(
            {
                "version": 1,
                "documents": kept,
                "languages": {"en": 0.34, "fr": 0.33, "de": 0.33},
                "toxicity_threshold": 0.5,
                "groups": {
                    g: {
                        "documents": 10 + i,
                        "share": 0.1 * (i + 1),
                        "ci95": [0.0, 0.5],
                        "toxic_rate": 0.05 * i,
                        "disparity_ratio": 1.0 + i,
                    }
                    for i, g in enumerate(GROUPS)
                },
                "findings": [f"finding with {SCRIPT}", "second finding"],
                "sections": {
                    "composition": {
                        "method": "Words are runs of non-whitespace characters.",
                        "documents": kept,
                        "languages": {"counts": {"en": 60, "fr": 60, "de": 60}},
                        "length_histogram": [
                            {"min_words": 0, "max_words": 7, "documents": 20},
                            {"min_words": 8, "max_words": 63, "documents": 160},
                        ],
                    },
                    "harm": {
                        "method": "A document is toxic when its score is at least 0.5.",
                        "threshold": 0.5,
                        "distribution": {"histogram": [{"min": 0.0, "max": 0.5, "documents": 9}]},
                    },
                    "filter_impact": {
                        "method": "Documents entering a stage.",
                        "stages": {
                            "toxic": {
                                "entering": rows_in - 4,
                                "removed": 3,
                                "removal_rate": 3 / (rows_in - 4),
                            }
                        },
                    },
                },
            }
        )
    )
    return folder


@pytest.fixture
def served(tmp_path: Path) -> tuple[TestClient, Path]:
    run = make_serve_run(tmp_path / "runs" / "r1")
    return TestClient(create_app(roots=[tmp_path / "runs"])), run


def _fake_run(folder: Path) -> Path:
    (folder / "curate").mkdir(parents=True)
    (folder / "curate" / "run.json").write_text(json.dumps({"rows_in": 0, "stages": []}))
    return folder


def test_index_lists_runs_under_roots(tmp_path: Path) -> None:
    a = _fake_run(tmp_path / "a")
    b = _fake_run(tmp_path / "nested" / "b")
    _fake_run(tmp_path / ".hidden" / "c")
    (tmp_path / "not-a-run").mkdir()
    assert find_runs([tmp_path]) == [a, b]
    client = TestClient(create_app(roots=[tmp_path]))
    page = client.get("/")
    assert page.status_code == 200
    assert 'href="/registry"' in page.text
    assert 'href="/run/0/a/report"' in page.text and 'href="/run/0/nested/b/report"' in page.text
    assert ".hidden" not in page.text


def test_a_run_folder_as_root_is_key_zero(tmp_path: Path) -> None:
    run = make_serve_run(tmp_path / "r")
    client = TestClient(create_app(roots=[run]))
    assert 'href="/run/0/report"' in client.get("/").text
    assert client.get("/run/0/report").status_code == 200


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_only_get_and_head(served: tuple[TestClient, Path], method: str) -> None:
    client, _ = served
    for url in ("/", "/run/0/r1/report", "/run/0/r1/browse", "/static/curate.css"):
        response = client.request(method, url)
        assert response.status_code == 405, url
        assert response.headers["allow"] == "GET, HEAD"
    assert client.head("/run/0/r1/report").status_code == 200


def test_report_is_the_funnel_of_run_json(served: tuple[TestClient, Path]) -> None:
    client, run = served
    report = json.loads((run / "curate" / "run.json").read_text())
    page = client.get("/run/0/r1/report")
    assert page.status_code == 200
    html = page.text
    assert f"{report['rows_in']:,}</span> documents in" in html
    assert f"{report['rows_out']:,}</span> kept" in html
    assert f"{report['rows_in'] - report['rows_out']:,}</span> removed" in html
    for stage in report["stages"]:
        for reason, n in stage["removed_by_reason"].items():
            assert f'reason={reason}">{reason}</a>: {n:,}' in html
        assert f"{stage['seconds']:.3f}" in html
    assert html.count("<svg") == 3
    assert "serve-fixture-&lt;script&gt;" in html


def test_card_renders_markdown_and_escapes_html(served: tuple[TestClient, Path]) -> None:
    client, _ = served
    html = client.get("/run/0/r1/card").text
    assert "<h1>Fixture card</h1>" in html
    assert "<strong>bold</strong>" in html
    assert "<table>" in html
    assert "&lt;script&gt;alert(" in html
    assert "pretty_name: fixture &lt;img" in html


def test_card_author_markers_are_hidden_like_markdown_viewers_hide_them(tmp_path: Path) -> None:
    _fake_run(tmp_path / "c")
    (tmp_path / "c" / "README.md").write_text(
        "# Card\n\n<!-- curate:author uses -->\n[To be written]\n<!-- /curate:author -->\n"
        "<!-- a comment\nover two lines --> and <b>raw</b>\n"
    )
    html = TestClient(create_app(roots=[tmp_path])).get("/run/0/c/card").text
    assert "curate:author" not in html and "&lt;!--" not in html and "two lines" not in html
    assert "[To be written]" in html and "&lt;b&gt;raw&lt;/b&gt;" in html


def test_audit_page_has_sections_charts_and_escaped_findings(
    served: tuple[TestClient, Path],
) -> None:
    client, _ = served
    html = client.get("/run/0/r1/audit").text
    for anchor in ("summary", "findings", "composition", "harm", "filter_impact", "groups"):
        assert f'href="#{anchor}"' in html and f'id="{anchor}"' in html
    assert "finding with &lt;script&gt;" in html
    assert html.count("<svg") == 5
    assert "gender/female" in html


def test_a_run_without_audit_or_card_says_how_to_make_one(tmp_path: Path) -> None:
    _fake_run(tmp_path / "bare")
    client = TestClient(create_app(roots=[tmp_path]))
    assert "curate audit" in client.get("/run/0/bare/audit").text
    assert "curate card" in client.get("/run/0/bare/card").text


def test_standalone_audit_folder(tmp_path: Path) -> None:
    run = make_serve_run(tmp_path / "r")
    (tmp_path / "aud").mkdir()
    (tmp_path / "aud" / "audit.json").write_text(
        (run / "curate" / "audit" / "audit.json").read_text()
    )
    client = TestClient(create_app(roots=[tmp_path]))
    assert 'href="/audit/0/aud"' in client.get("/").text
    assert "second finding" in client.get("/audit/0/aud").text


def test_broken_run_json_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "bad" / "curate").mkdir(parents=True)
    (tmp_path / "bad" / "curate" / "run.json").write_text("{not json")
    client = TestClient(create_app(roots=[tmp_path]))
    page = client.get("/run/0/bad/report")
    assert page.status_code == 500
    assert "run.json: cannot be read as JSON" in page.text


# -- the path guard ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/run/0/..%2f..%2fetc/report",
        "/run/0/r1%2f..%2f..%2f..%2f/report",
        "/run/0/%2fetc/report",
        "/run/0//etc/report",
        "/audit/0/..%2f..%2f",
        "/run/0/r1/..%2f..%2f/browse",
    ],
)
def test_paths_outside_the_roots_are_refused(served: tuple[TestClient, Path], url: str) -> None:
    client, _ = served
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", ["/run/%2fetc/report", "/run/9/r1/report", "/run/x/report"])
def test_unknown_roots_are_404(served: tuple[TestClient, Path], url: str) -> None:
    client, _ = served
    assert client.get(url).status_code == 404


def test_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    outside = make_serve_run(tmp_path / "outside")
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to(outside)
    client = TestClient(create_app(roots=[root]))
    assert find_runs([root]) == []
    for page in ("report", "browse", "whatif", "card", "audit"):
        assert client.get(f"/run/0/link/{page}").status_code == 403


def test_security_headers(served: tuple[TestClient, Path]) -> None:
    client, _ = served
    headers = client.get("/").headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/run/0/r1/report",
        "/run/0/r1/card",
        "/run/0/r1/audit",
        "/run/0/r1/browse?source=removed",
        "/run/0/r1/browse?source=kept&q=hello",
        "/run/0/r1/doc?id=k005",
        "/run/0/r1/doc?id=x005",
        "/run/0/r1/doc?id=t1",
        "/run/0/r1/whatif?column=toxicity&threshold=0&direction=at_or_above",
        "/run/0/r1/doc?id=%3Cscript%3E",
        "/run/0/r1/browse?source=kept&q=%3Cimg%20onerror%3D",
    ],
)
def test_document_html_is_escaped_on_every_page(served: tuple[TestClient, Path], url: str) -> None:
    client, _ = served
    response = client.get(url)
    assert response.status_code in (200, 404), url
    tags = _Tags()
    tags.feed(response.text)
    assert not {"script", "img", "iframe", "object"} & {tag for tag, _ in tags.seen}
    handlers = [(tag, name) for tag, attrs in tags.seen for name in attrs if name.startswith("on")]
    assert handlers == []


class _Tags(HTMLParser):
    """Every element a browser would build from the page, with its attribute names."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append((tag, [name for name, _ in attrs]))


def test_hostile_text_is_shown_as_text(served: tuple[TestClient, Path]) -> None:
    client, _ = served
    html = client.get("/run/0/r1/doc?id=k005").text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html


# -- the command ------------------------------------------------------------------------------


class _Calls:
    def __init__(self) -> None:
        self.calls: list[dict[str, object]] = []

    def __call__(self, app: object, **kwargs: object) -> None:
        self.calls.append({"app": app, **kwargs})


def _free_port() -> str:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])


@pytest.fixture
def fake_uvicorn(monkeypatch: pytest.MonkeyPatch) -> _Calls:
    import uvicorn

    calls = _Calls()
    monkeypatch.setattr(uvicorn, "run", calls)
    return calls


def test_cli_prints_the_url_and_serves_loopback(tmp_path: Path, fake_uvicorn: _Calls) -> None:
    make_serve_run(tmp_path / "r")
    port = _free_port()
    result = CliRunner().invoke(cli, ["serve", str(tmp_path), "--port", port])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"curate serve: http://127.0.0.1:{port}/ (Ctrl+C to stop)"
    assert "warning" not in result.stderr
    (call,) = fake_uvicorn.calls
    assert call["host"] == "127.0.0.1" and call["port"] == int(port)
    state = call["app"].state.serve  # type: ignore[attr-defined]
    assert state.roots == (tmp_path.resolve(),)
    assert state.registry is None


def test_cli_warns_on_a_non_loopback_host(tmp_path: Path, fake_uvicorn: _Calls) -> None:
    port = _free_port()
    result = CliRunner().invoke(cli, ["serve", str(tmp_path), "--host", "0.0.0.0", "--port", port])
    assert result.exit_code == 0, result.output
    assert "warning: listening on 0.0.0.0, not a loopback address" in result.stderr
    assert f"http://0.0.0.0:{port}/" in result.stdout


def test_cli_serves_a_registry_folder(tmp_path: Path, fake_uvicorn: _Calls) -> None:
    (tmp_path / "reg" / "datasets").mkdir(parents=True)
    result = CliRunner().invoke(cli, ["serve", str(tmp_path / "reg"), "--port", _free_port()])
    assert result.exit_code == 0, result.output
    assert fake_uvicorn.calls[0]["app"].state.serve.registry == str(tmp_path / "reg")  # type: ignore[attr-defined]


def test_cli_registry_url_is_passed_through(fake_uvicorn: _Calls) -> None:
    result = CliRunner().invoke(cli, ["serve", "s3://bucket/registry", "--port", _free_port()])
    assert result.exit_code == 0, result.output
    state = fake_uvicorn.calls[0]["app"].state.serve  # type: ignore[attr-defined]
    assert state.registry == "s3://bucket/registry" and state.roots == ()


def test_cli_refuses_a_missing_folder(tmp_path: Path) -> None:
    from curate.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["serve", str(tmp_path / "nope")])
    assert exit_info.value.code == 2


def test_cli_refuses_a_busy_port(tmp_path: Path, fake_uvicorn: _Calls) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", str(tmp_path), "--port", str(port)])
    assert result.exit_code != 0
    assert f"--port {port}: cannot listen there" in str(result.exception)
    assert fake_uvicorn.calls == []


@pytest.mark.parametrize(
    "url", ["/static/..%2fapp.py", "/static/..%2f..%2fcli%2f__init__.py", "/static/%2fetc%2fpasswd"]
)
def test_static_files_stay_in_their_folder(served: tuple[TestClient, Path], url: str) -> None:
    client, _ = served
    response = client.get(url)
    assert response.status_code == 404
    assert "def create_app" not in response.text and "root:" not in response.text


def test_unknown_page_is_a_404_page(served: tuple[TestClient, Path]) -> None:
    client, _ = served
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert "back to the runs" in response.text
