"""Cards are safe to share: input values and card fields never reach README.md as raw HTML, no
field can break the YAML front matter, and card files get the process umask (not 0600)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from huggingface_hub import DatasetCard
from markdown_it import MarkdownIt
from test_card_fixture import make_run

from curate.card import set_fields, write_card
from curate.card.check import check_card, split_front_matter

SCRIPT = "<script>alert(1)</script>"


def _rewrite_column(out: Path, name: str, values: list[object]) -> None:
    for shard in sorted((out / "data").glob("*.parquet")):
        table = pq.read_table(shard)
        n = table.num_rows
        column = pa.array(
            [values[i % len(values)] for i in range(n)], table.schema.field(name).type
        )
        pq.write_table(table.set_column(table.schema.get_field_index(name), name, column), shard)


def _html(readme: Path) -> str:
    _front, body = split_front_matter(readme.read_text(encoding="utf-8"))
    return MarkdownIt().render(body)


def test_the_renderer_would_pass_raw_html_through() -> None:
    """The check below means something: unescaped HTML in Markdown stays HTML."""
    assert SCRIPT in MarkdownIt().render(f"{SCRIPT}\n")


def test_hostile_values_are_escaped_in_the_card(tmp_path: Path) -> None:
    out = make_run(tmp_path / "run", n=16)
    _rewrite_column(out, "lang", ["en", SCRIPT, "fr", "x`<img src=x onerror=alert(2)>"])
    _rewrite_column(out, "identities", [[f"gender/{SCRIPT}"], []])
    audit_path = out / "curate" / "audit" / "audit.json"
    audit = json.loads(audit_path.read_text())
    audit["findings"].append(f"Documents mentioning gender/{SCRIPT} are 50% of the dataset.")
    audit_path.write_text(json.dumps(audit))
    fields = {
        "pretty_name": f"Web {SCRIPT}",
        "description": f"Made for {SCRIPT} tests.",
        "authors": [f"Ada {SCRIPT}"],
        "contact": "<a href='javascript:alert(3)'>me</a>",
        "homepage": f"https://example.org/{SCRIPT}",
        "motivation": f"Because {SCRIPT} <!-- /curate:author -->",
        "license": "cc-by-4.0",
    }
    write_card(out, fields=fields)
    readme = out / "README.md"
    rendered = _html(readme)
    for raw in ("<script", "<img", "<a href='javascript"):
        assert raw not in rendered, raw
    text = readme.read_text(encoding="utf-8")
    assert "# Dataset Card for Web &lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "Because &lt;script&gt;" in text
    assert check_card(out) == []


def test_escaped_author_text_survives_rerendering_unchanged(tmp_path: Path) -> None:
    out = make_run(tmp_path / "run", n=8)
    set_fields(out, {"motivation": "Compare <b> & <i> tags."})
    write_card(out)
    first = (out / "README.md").read_text(encoding="utf-8")
    set_fields(out, {"motivation": None})  # now only the card's own text carries it
    write_card(out)
    again = (out / "README.md").read_text(encoding="utf-8")
    assert "Compare &lt;b&gt; &amp; &lt;i&gt; tags." in again
    assert "&amp;lt;" not in again
    assert first.count("Compare &lt;b&gt;") == again.count("Compare &lt;b&gt;") == 1


@pytest.mark.parametrize(
    "value",
    [
        "line one\n---\nline two",
        "---",
        "yes",
        "null",
        "#not a comment",
        "key: value",
        "- a list item?",
        "'quoted' \"twice\"",
        "{flow: mapping}",
        "...",
        "& anchor *alias !tag",
    ],
)
def test_yaml_specials_in_card_fields_keep_the_front_matter_intact(
    tmp_path: Path, value: str
) -> None:
    out = make_run(tmp_path / "run", n=8)
    write_card(out, fields={"pretty_name": value, "tags": [value], "license": "cc-by-4.0"})
    readme = out / "README.md"
    front, body = split_front_matter(readme.read_text(encoding="utf-8"))
    meta = yaml.safe_load(front or "")
    assert meta["pretty_name"] == value
    assert value in meta["tags"]
    assert body.lstrip().startswith("# Dataset Card for")
    assert DatasetCard.load(readme).data.pretty_name == value
    assert check_card(out) == []


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.usefixtures("umask")
def test_card_files_get_the_process_umask(tmp_path: Path) -> None:
    out = make_run(tmp_path / "run", n=8, card=True)
    set_fields(out, {"license": "mit"})
    for name in ("README.md", "croissant.json", "curate/card.json"):
        assert oct((out / name).stat().st_mode & 0o777) == "0o644", name
    os.umask(0o002)
    write_card(out)
    assert oct((out / "README.md").stat().st_mode & 0o777) == "0o664"
