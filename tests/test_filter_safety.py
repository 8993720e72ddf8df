"""`filter.where` runs only an allow-listed boolean expression over the batch's columns."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import polars as pl
import pyarrow as pa
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from curate.cli import main
from curate.errors import DataError, RecipeError
from curate.recipe import parse_recipe
from curate.sqlexpr import MAX_CHARS, parse_where
from curate.stages.filter import Filter

BATCH = pa.record_batch(
    {
        "id": ["a", "b", "c"],
        "text": ["x", "12", "zz"],
        "lang": ["en", "de", None],
        "lang_score": [0.9, 0.2, 0.7],
        "identities": [["gender/female"], [], None],
    }
)
COLUMNS = {f.name: f.type for f in BATCH.schema}


def invoke(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def kept(where: str) -> list[str]:
    stage = Filter(where=where)
    stage.plan(COLUMNS)
    out = next(iter(stage([BATCH])))
    reasons = out.column("__curate_reason").to_pylist()
    return [i for i, r in zip(BATCH.column("id").to_pylist(), reasons) if r is None]


def refused(where: str) -> str:
    with pytest.raises((RecipeError, ValueError)) as err:
        Filter(where=where).plan(COLUMNS)
    return str(err.value)


@pytest.mark.parametrize(
    ("where", "ids"),
    [
        ("lang IN ('en', 'fr') AND lang_score >= 0.65", ["a"]),
        ("NOT array_contains(identities, 'gender/female')", ["b"]),
        ("length(text) > 1", ["b", "c"]),
        ("length(identities) = 0", ["b"]),
        ("text LIKE '%z'", ["c"]),
        ("text NOT LIKE '%z'", ["a", "b"]),
        ("lang IS NULL OR lang = 'de'", ["b", "c"]),
        ("lang_score BETWEEN 0.5 AND 1", ["a", "c"]),
        ("TRY_CAST(text AS INTEGER) > 1", ["b"]),
        ("CASE WHEN lang = 'en' THEN true ELSE lang_score < 0.5 END", ["a", "b"]),
        ("coalesce(lang, 'xx') = 'xx'", ["c"]),
        ("lower(upper(text)) = text AND starts_with(text, 'z')", ["c"]),
        ("regexp_like(text, '^[0-9]+$')", ["b"]),
        ("lang = 'en' -- a comment", ["a"]),
        ("greatest(lang_score, 0.8) > 0.85 OR least(lang_score, 0.1) < 0.1", ["a"]),
        ("lang || '!' = 'de!'", ["b"]),
        ("lang IS DISTINCT FROM 'en'", ["b", "c"]),
        ("IF(lang_score > 0.5, true, false)", ["a", "c"]),
        ("strpos(text, 'z') = 1 OR substr(text, 2, 1) = '2'", ["b", "c"]),
        ("array_length(identities) = 1", ["a"]),
    ],
)
def test_accepted_expressions_keep_what_they_say(where: str, ids: list[str]) -> None:
    assert kept(where) == ids


@pytest.mark.parametrize("where", ["true", "1 = 1", "TRUE AND 2 > 1"])
def test_a_constant_expression_applies_to_every_row(where: str) -> None:
    assert kept(where) == ["a", "b", "c"]


def test_a_constant_false_removes_every_row() -> None:
    assert kept("1 = 2") == []


@pytest.mark.parametrize(
    ("where", "says"),
    [
        ("text IN (SELECT zz FROM read_csv('/etc/passwd'))", "a subquery is not allowed"),
        ("read_csv('/etc/passwd') IS NULL", "function read_csv() is not allowed"),
        ("read_parquet('x.parquet') IS NULL", "function read_parquet() is not allowed"),
        ("EXISTS (SELECT 1)", "a subquery is not allowed"),
        ("lang_score > (SELECT 1)", "a subquery is not allowed"),
        ("now() > 1", "function now() is not allowed"),
        ("x > 1; DROP TABLE t", "several statements"),
        ("lang ==", "cannot parse it as SQL"),
        ("", "empty"),
        ("round(lang_score, 99999999999999999999) > 1", "cannot compile it (OverflowError"),
        ('"^.*$" = 1', "name one column"),
    ],
)
def test_refused_at_validation(where: str, says: str) -> None:
    assert says in refused(where)


@pytest.mark.parametrize(
    ("where", "says"),
    [
        ("1/0", "gives Float64, not a boolean"),
        ("now", "reads column 'now'"),
        ("NULL", "gives Null, not a boolean"),
        ("lang", "gives String, not a boolean"),
        ("lang > 1", "invalid for these columns"),
        ("CAST(text AS INTEGER) > 1", "write TRY_CAST(... AS INT)"),
    ],
)
def test_refused_at_plan(where: str, says: str) -> None:
    with pytest.raises(RecipeError) as err:
        Filter(where=where).plan(COLUMNS)
    assert says in err.value.message


class _Recorder(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"zz\nsecret-first-line\n")

    def log_message(self, *args: object) -> None:
        pass


def test_check_never_reads_a_file_or_the_network(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("zz\nsecret-first-line\n")
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/x.csv"
    data = tmp_path / "in.jsonl"
    data.write_text('{"text": "secret-first-line"}\n')
    try:
        for where in (
            f"text IN (SELECT zz FROM read_csv('{secret}'))",
            f"text IN (SELECT zz FROM read_csv('{url}'))",
            f"text IN (SELECT * FROM read_parquet('{secret}'))",
        ):
            recipe = tmp_path / "r.yaml"
            recipe.write_text(
                yaml.safe_dump(
                    {
                        "name": "r",
                        "input": {"path": str(data)},
                        "stages": [{"use": "filter", "with": {"where": where}}],
                        "output": {"path": str(tmp_path / "out")},
                    }
                )
            )
            for command in ("check", "run"):
                code, out, err = invoke([command, str(recipe)], capsys)
                assert code == 2
                assert "stages[0].with.where" in err and "subquery is not allowed" in err
                assert "secret-first-line" not in out + err.replace(str(data), "")
    finally:
        server.shutdown()
    assert _Recorder.hits == []
    assert not (tmp_path / "out").exists()


def _or_chain(n: int) -> str:
    return " OR ".join(f"lang = 'x{i}'" for i in range(n))


def test_an_or_of_3000_terms_validates_and_runs() -> None:
    where = _or_chain(3000) + " OR lang = 'de'"
    started = time.perf_counter()
    assert kept(where) == ["b"]
    # Generous: evaluated as nested ORs this took over 60 s.
    assert time.perf_counter() - started < 30


def test_huge_or_deep_expressions_are_refused_clearly() -> None:
    assert len(_or_chain(8000)) > MAX_CHARS
    assert "more than the 100,000 accepted" in refused(_or_chain(8000))
    assert "nest more than 64 deep" in refused("(" * 3000 + "lang" + ")" * 3000 + " = 'a'")
    assert "nests more than 64 deep" in refused(" + ".join(["lang_score"] * 5000) + " > 1")


def test_an_expression_failing_on_data_names_the_stage_and_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "in.jsonl"
    rows = [{"text": f"t{i}", "n": 1.5 if i != 37 else 1e30} for i in range(50)]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        yaml.safe_dump(
            {
                "name": "r",
                "input": {"path": str(data)},
                "stages": [{"use": "filter", "with": {"where": "CAST(n AS BIGINT) > 0"}}],
                "output": {"path": str(tmp_path / "out")},
            }
        )
    )
    code, _, err = invoke(["run", str(recipe)], capsys)
    assert code == 2
    assert (
        "stage filter: where 'CAST(n AS BIGINT) > 0' fails on the row with id 'in.jsonl:37'" in err
    )
    assert "Traceback" not in err


def test_recipe_error_has_the_field_path() -> None:
    with pytest.raises(RecipeError) as err:
        parse_recipe(
            {
                "name": "d",
                "input": {"path": "x.jsonl"},
                "stages": [{"use": "filter", "with": {"where": "read_csv('/etc/passwd')"}}],
                "output": {"path": "o"},
            },
            source="r.yaml",
        )
    assert err.value.message.startswith("r.yaml: stages[0].with.where:")
    assert "function read_csv() is not allowed" in err.value.message


NAMES = st.sampled_from(["lang", "text", "lang_score"])
OPS = st.sampled_from(["=", "<>", "<", ">=", "LIKE"])
VALUES = st.one_of(st.integers(-5, 5).map(str), st.text("abz'%", max_size=4))


@given(st.lists(st.tuples(NAMES, OPS, VALUES), min_size=1, max_size=8), st.booleans())
def test_random_expressions_never_crash(terms: list[tuple[str, str, str]], conj: bool) -> None:
    """Any combination either compiles and gives one boolean per row, or is refused cleanly."""
    parts = []
    for name, op, value in terms:
        literal = value if value.lstrip("-").isdigit() else "'" + value.replace("'", "''") + "'"
        parts.append(f"{name} {op} {literal}")
    where = (" AND " if conj else " OR ").join(parts)
    try:
        stage = Filter(where=where)
        stage.plan(COLUMNS)
    except (RecipeError, ValueError):
        return
    out = next(iter(stage([BATCH])))
    assert out.num_rows == BATCH.num_rows


def test_like_is_literal_apart_from_its_wildcards() -> None:
    frame = pl.DataFrame({"text": ["a.c", "abc", "a%c"]})
    expr = parse_where("text LIKE 'a.c'").compile(frame.schema)
    assert frame.select(expr).to_series().to_list() == [True, False, False]
    expr = parse_where("text LIKE 'a%c'").compile(frame.schema)
    assert frame.select(expr).to_series().to_list() == [True, True, True]


def test_runtime_failure_is_a_data_error() -> None:
    batch = pa.record_batch({"id": ["a", "b"], "text": ["x", "y"], "n": [1.0, 1e300]})
    stage = Filter(where="CAST(n AS BIGINT) > 0")
    with pytest.raises(DataError) as err:
        list(stage([batch]))
    assert "id 'b'" in err.value.message


TOKENS = st.sampled_from(
    [
        "text",
        "lang",
        "lang_score",
        "identities",
        "'a'",
        "1",
        "0",
        "-1",
        "1.5",
        "NULL",
        "true",
        "(",
        ")",
        ",",
        "=",
        "<",
        ">=",
        "<>",
        "AND",
        "OR",
        "NOT",
        "IN",
        "BETWEEN",
        "LIKE",
        "IS",
        "+",
        "-",
        "*",
        "/",
        "%",
        "||",
        "CAST",
        "AS",
        "INT",
        "TRY_CAST",
        "length",
        "lower",
        "array_contains",
        "CASE",
        "WHEN",
        "THEN",
        "ELSE",
        "END",
        "SELECT",
        "FROM",
        "read_csv",
        "coalesce",
        "substr",
        "round",
        "greatest",
        "'%'",
        "::",
        "[",
        "]",
    ]
)


@given(st.lists(TOKENS, min_size=1, max_size=12))
def test_any_token_soup_is_refused_cleanly_or_runs(tokens: list[str]) -> None:
    """Validation, planning and running raise only curate's errors (or pydantic's)."""
    try:
        stage = Filter(where=" ".join(tokens))
        stage.plan(COLUMNS)
        out = next(iter(stage([BATCH])))
    except (RecipeError, DataError, ValueError):
        return
    assert out.num_rows == BATCH.num_rows
