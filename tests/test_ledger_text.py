"""``output.ledger_text``: the ledger holds no personal data a recipe redacts (issue 13)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curate.executor import run_recipe
from curate.ledger import read_ledger
from curate.pii import Redactor
from curate.recipe import parse_recipe

CARD = "4111 1111 1111 1111"
MAIL = "jane.doe@corp.io"
DOCS = [
    f"short {CARD}",  # removed by the filter before redact.pii
    f"tiny {MAIL}",  # removed before redact.pii too
    f"a long enough document that mentions {MAIL} and is kept",
    f"a long enough document that is removed after redaction: card {CARD}. drop me",
]


def _run(tmp_path: Path, ledger_text: str | None) -> tuple[dict[str, object], list[str | None]]:
    corpus = tmp_path / "in.jsonl"
    corpus.write_text("".join(json.dumps({"text": t}) + "\n" for t in DOCS))
    output: dict[str, object] = {"path": str(tmp_path / f"out-{ledger_text}")}
    if ledger_text is not None:
        output["ledger_text"] = ledger_text
    recipe = parse_recipe(
        {
            "name": "pii-ledger",
            "input": {"path": str(corpus)},
            "stages": [
                {"use": "filter", "with": {"where": "length(text) > 30"}},
                {"use": "redact.pii", "with": {"kinds": ["email", "credit_card"]}},
                {"use": "filter", "id": "late", "with": {"where": "NOT contains(text, 'drop me')"}},
            ],
            "output": output,
        }
    )
    report = run_recipe(recipe)
    ledger = read_ledger(tmp_path / f"out-{ledger_text}").sort("id")
    assert ledger.height == 3
    return report, ledger["text"].to_list()


@pytest.mark.parametrize("mode", [None, "redact"])
def test_ledger_text_is_redacted_by_default_when_the_recipe_redacts(
    tmp_path: Path, mode: str | None
) -> None:
    report, texts = _run(tmp_path, mode)
    expected = [Redactor(kinds=("email", "credit_card")).redact(DOCS[i])[0] for i in (0, 1, 3)]
    assert texts == expected
    assert texts[0] == "short <CREDIT_CARD>" and texts[1] == "tiny <EMAIL>"
    dump = "".join(t or "" for t in texts)
    assert CARD not in dump and MAIL not in dump
    assert report["output"]["ledger_text"] == "redacted"  # type: ignore[index]


def test_ledger_text_keep_and_drop(tmp_path: Path) -> None:
    report, texts = _run(tmp_path, "keep")
    assert texts[:2] == DOCS[:2]
    assert report["output"]["ledger_text"] == "as read"  # type: ignore[index]
    report, texts = _run(tmp_path, "drop")
    assert texts == [None, None, None]
    assert report["output"]["ledger_text"] == "dropped"  # type: ignore[index]


def test_without_redact_pii_the_ledger_keeps_the_text(tmp_path: Path) -> None:
    corpus = tmp_path / "in.jsonl"
    corpus.write_text(json.dumps({"text": f"x {MAIL}"}) + "\n")
    recipe = parse_recipe(
        {
            "name": "no-pii",
            "input": {"path": str(corpus)},
            "stages": [{"use": "filter", "with": {"where": "length(text) > 30"}}],
            "output": {"path": str(tmp_path / "out")},
        }
    )
    report = run_recipe(recipe)
    assert read_ledger(tmp_path / "out")["text"].to_list() == [f"x {MAIL}"]
    assert report["output"]["ledger_text"] == "as read"
