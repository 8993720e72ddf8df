"""What the card says: how to load, column meanings, languages, Croissant version and URL, a
partial run, and what the removal ledger holds."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from test_card_fixture import make_run

from curate.card import write_card
from curate.card.check import check_card, split_front_matter
from curate.quality.columns import BY_NAME


def _card(out: Path) -> tuple[dict[str, Any], str]:
    front, body = split_front_matter((out / "README.md").read_text(encoding="utf-8"))
    return yaml.safe_load(front or ""), body


def _section(body: str, heading: str) -> str:
    match = re.search(rf"^## {heading}\n(.*?)(?=^## |\Z)", body, flags=re.S | re.M)
    assert match, heading
    return match.group(1)


def _edit_run(out: Path, **changes: Any) -> None:
    path = out / "curate" / "run.json"
    run = json.loads(path.read_text())
    run.update(changes)
    path.write_text(json.dumps(run))


def test_each_quality_column_has_its_own_meaning(tmp_path: Path) -> None:
    out = make_run(tmp_path / "run", n=8)
    names = ["quality_mean_word_length", "quality_lorem_ipsum", "quality_short_lines_ratio"]
    for shard in (out / "data").glob("*.parquet"):
        table = pq.read_table(shard)
        for name in names:
            kind = BY_NAME[name].type
            values = [False] * table.num_rows if kind == pa.bool_() else [0.5] * table.num_rows
            table = table.append_column(name, pa.array(values, kind))
        pq.write_table(table, shard)
    write_card(out)
    _meta, body = _card(out)
    meanings = {}
    for name in ["quality_word_count", *names]:
        row = re.search(rf"^\| `{name}` \|[^|]*\|[^|]*\| (.*) \|$", body, flags=re.M)
        assert row, name
        meanings[name] = row.group(1)
        assert BY_NAME[name].description in row.group(1)
        assert BY_NAME[name].source in row.group(1)
    assert len(set(meanings.values())) == len(meanings)
    doc = json.loads((out / "croissant.json").read_text())
    described = {f["name"]: f["description"] for f in doc["recordSet"][0]["field"]}
    assert {n: described[n] for n in meanings} == meanings


def test_languages_table_lists_exactly_the_front_matter_languages(tmp_path: Path) -> None:
    out = make_run(tmp_path / "run", n=200)
    langs = ["en"] * 150 + ["fr"] * 40 + ["de"] * 2 + ["sw"] + ["und"] * 5 + ["qq"] * 2
    for shard in sorted((out / "data").glob("*.parquet")):
        table = pq.read_table(shard)
        part, langs = langs[: table.num_rows], langs[table.num_rows :]
        column = pa.array(part, pa.string())
        pq.write_table(
            table.set_column(table.schema.get_field_index("lang"), "lang", column), shard
        )
    write_card(out)
    meta, body = _card(out)
    section = _section(body, "Languages")
    in_table = re.findall(r"^\| `([^`]+)` \|", section, flags=re.M)
    assert meta["language"] == ["de", "en", "fr"]  # sw is under 1%, und and qq are not codes
    assert sorted(in_table) == meta["language"]
    assert in_table == ["en", "fr", "de"]  # by documents
    counts = Counter({"und": 5, "qq": 2, "sw": 1})
    assert f"The other {sum(counts.values())} documents (4.0%)" in section
    assert "`und` (5), `qq` (2), `sw` (1)" in section
    assert check_card(out) == []


def test_author_languages_decide_the_table(tmp_path: Path) -> None:
    out = make_run(tmp_path / "run", n=16)
    write_card(out, fields={"language": ["en"], "license": "mit"})
    meta, body = _card(out)
    assert meta["language"] == ["en"]
    section = _section(body, "Languages")
    assert re.findall(r"^\| `([^`]+)` \|", section, flags=re.M) == ["en"]
    assert "`fr` (4), `de` (2)" in section


def test_unpublished_croissant_claims_no_version_and_uses_the_homepage(tmp_path: Path) -> None:
    out = make_run(tmp_path / "run", n=8)
    write_card(out, fields={"license": "mit", "homepage": "https://example.org/web"})
    doc = json.loads((out / "croissant.json").read_text())
    assert "version" not in doc
    assert doc["url"] == "https://example.org/web"
    write_card(out, fields={"license": "mit"})
    assert "url" not in json.loads((out / "croissant.json").read_text())


def test_registry_version_and_hub_page_reach_croissant_and_how_to_load(tmp_path: Path) -> None:
    import curate.registry as registry

    out = make_run(tmp_path / "run", n=8, card=True)
    registry.publish(out, "web")
    folder = registry.resolve("web@1.0.0")
    doc = json.loads((folder / "croissant.json").read_text())
    assert doc["version"] == "1.0.0"
    _meta, body = _card(folder)
    load = _section(body, "How to Load")
    assert 'curate.registry.load("web@1.0.0", split="train")' in load
    assert "load_dataset(" not in load

    write_card(out, hub_repo="org/web-sample", version="1.0.0")
    doc = json.loads((out / "croissant.json").read_text())
    assert doc["url"] == "https://huggingface.co/datasets/org/web-sample"
    load = _section(_card(out)[1], "How to Load")
    assert 'load_dataset("org/web-sample", split="train")' in load
    assert "data_files" not in load


def test_partial_run_is_marked_in_the_card_and_croissant(tmp_path: Path) -> None:
    out = make_run(tmp_path / "run", n=8, card=True)
    assert "Partial run" not in (out / "README.md").read_text()
    _edit_run(out, partial=True)
    write_card(out)
    summary = _section(_card(out)[1], "Dataset Summary")
    assert summary.lstrip().startswith("> **Partial run.**")
    assert "--allow-partial" in summary
    doc = json.loads((out / "croissant.json").read_text())
    assert doc["rai:dataLimitations"][0].startswith("Partial run")


RAW = "the **raw text** of every removed document"
REDACTED = "the text of every removed document with the personal data the recipe's"
DROPPED = "no text: only each removed document's id, stage and reason"


@pytest.mark.parametrize(
    ("stated", "mode", "pii", "says"),
    [
        ("as read", "redact", False, RAW),  # the run report's statement wins
        ("redacted", "redact", True, REDACTED),
        ("dropped", "drop", False, DROPPED),
        (None, None, False, RAW),  # an older run report: the recipe's mode says what happened
        (None, "keep", True, RAW),
        (None, "redact", True, REDACTED),
        (None, "redact", False, RAW),  # redact without a redact.pii stage keeps the text
        (None, "drop", False, DROPPED),
    ],
)
def test_card_says_what_the_ledger_holds(
    tmp_path: Path, stated: str | None, mode: str | None, pii: bool, says: str
) -> None:
    out = make_run(tmp_path / "run", n=8)
    run = json.loads((out / "curate" / "run.json").read_text())
    recipe = dict(run["recipe"], output={"path": "out", **({"ledger_text": mode} if mode else {})})
    stages = run["stages"] + ([{"use": "redact.pii", "label": "redact.pii"}] if pii else [])
    output = {"ledger_text": stated} if stated else {}
    _edit_run(out, recipe=recipe, stages=stages, output=output)
    write_card(out)
    body = _card(out)[1]
    assert f"The removal ledger (`curate/removed/`) holds {says}" in body
    assert 'ignore_patterns=["curate/removed/*"]' in body
    assert "--exclude 'curate/removed/*'" in body
