"""Card wording a new user read in the quickstart card (issue 13's trial): the meaning of
``toxicity_supported`` and the count of documents whose language is not listed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from test_card_fixture import make_run

from curate.card import write_card


def _set_column(out: Path, name: str, values: list[object], kind: pa.DataType) -> None:
    for shard in sorted((out / "data").glob("*.parquet")):
        table = pq.read_table(shard)
        part, values = values[: table.num_rows], values[table.num_rows :]
        column = pa.array(part, kind)
        if name in table.schema.names:
            table = table.set_column(table.schema.get_field_index(name), name, column)
        else:
            table = table.append_column(name, column)
        pq.write_table(table, shard)


def _meaning(body: str, column: str) -> str:
    row = re.search(rf"^\| `{column}` \|[^|]*\|[^|]*\| (.*) \|$", body, flags=re.M)
    assert row, column
    return row.group(1)


def test_toxicity_supported_is_described_as_the_flag_it_is(tmp_path: Path) -> None:
    out = make_run(tmp_path / "run", n=8)
    _set_column(out, "toxicity_supported", [True] * 6 + [False] * 2, pa.bool_())
    write_card(out)
    body = (out / "README.md").read_text(encoding="utf-8")
    said = _meaning(body, "toxicity_supported")
    assert "sub-score" not in said
    assert "`toxicity` is null" in said
    assert _meaning(body, "toxicity") != said
    fields = json.loads((out / "croissant.json").read_text())["recordSet"][0]["field"]
    assert {f["name"]: f["description"] for f in fields}["toxicity_supported"] == said


def test_one_unlisted_document_is_counted_in_the_singular(tmp_path: Path) -> None:
    out = make_run(tmp_path / "run", n=200)
    _set_column(out, "lang", ["en"] * 199 + ["la"], pa.string())
    write_card(out)
    body = (out / "README.md").read_text(encoding="utf-8")
    assert "The other 1 document (0.5%) has a `lang` value" in body
    assert "1 documents" not in body


def test_a_classlabel_column_names_its_classes_in_the_card_and_croissant(tmp_path: Path) -> None:
    from datasets import ClassLabel, Features, Value

    out = make_run(tmp_path / "run", n=8)
    names = ["neg", "pos", "a|b`c"]  # a pipe and a backtick must not break the table
    features = Features({"label": ClassLabel(names=names), "text": Value("string")})
    hf = features.arrow_schema.metadata
    for shard in sorted((out / "data").glob("*.parquet")):
        table = pq.read_table(shard)
        table = table.append_column("label", pa.array([i % 3 for i in range(table.num_rows)]))
        pq.write_table(table.replace_schema_metadata(hf), shard)
    write_card(out)
    body = (out / "README.md").read_text(encoding="utf-8")
    said = _meaning(body, "label")
    assert (
        said == r"Class label carried through from the input: 0 = `neg`, 1 = `pos`, 2 = ``a\|b`c``."
    )
    assert _meaning(body, "url") == "Carried through unchanged from the input."
    fields = json.loads((out / "croissant.json").read_text())["recordSet"][0]["field"]
    described = {f["name"]: f["description"] for f in fields}
    assert described["label"] == said.replace("\\|", "|")


def test_an_input_column_named_like_a_stage_column_is_described_as_the_input_s() -> None:
    """A gold ``lang`` kept beside ``pred_lang`` (output_prefix) is not 'detected by fastText';
    the columns decontaminate and score.tokens write have their own meanings."""
    from curate.card.columns import INPUT, meanings

    schema = pa.schema([(n, pa.string()) for n in ("id", "lang", "pred_lang", "url")])
    said = meanings(schema, renamed={"pred_lang": "lang"}, written={"pred_lang"})
    assert said["lang"].startswith("Carried through from the input; no stage of this run wrote")
    assert said["pred_lang"].startswith("Language detected by fastText")
    assert said["url"] == INPUT
    assert not said["id"].startswith("Carried")
    columns = pa.schema([(n, pa.int64()) for n in ("contamination_matches", "n_tokens")])
    for name, text in meanings(columns, written={"contamination_matches", "n_tokens"}).items():
        assert text != INPUT, name
