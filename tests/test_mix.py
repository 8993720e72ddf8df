"""``curate mix``: token shares within half a percentage point of the request, the same bytes
for the same seed, limits on epochs, and lineage naming every component version.

Components are windows of the Project Gutenberg books in ``../shared/bench/sources`` (varied
lengths) and sentences of ``../shared/data/ud-pud-multilingual`` (with their gold language),
published into a test registry.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.cli import main
from curate.errors import DataError, RecipeError
from curate.mix.build import build_mixture
from curate.mix.recipe import parse_mixture
from curate.registry import Registry, publish


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def components(shared_dir: Path, tmp_path: Path) -> tuple[str, str]:
    rng = random.Random(5)
    words: list[str] = []
    for f in sorted((shared_dir / "bench" / "sources").glob("*.txt"))[:3]:
        words += re.sub(r"\s+", " ", f.read_text(encoding="utf-8", errors="replace")).split()
    books = []
    at = 0
    for i in range(600):
        n = rng.randint(20, 400)
        books.append({"id": f"b{i}", "text": " ".join(words[at : at + n]), "n_tokens": n})
        at += n
    tsv = (shared_dir / "data" / "ud-pud-multilingual" / "pud_sentences.tsv").read_text()
    header, *lines = tsv.splitlines()
    cols = header.split("\t")
    sentences = []
    for i, line in enumerate(lines[::6]):
        row = dict(zip(cols, line.split("\t")))
        text = row[cols[-1]]
        sentences.append(
            {"id": f"s{i}", "text": text, "n_tokens": len(text.split()), "lang": row["lang"]}
        )
    publish(str(write_jsonl(tmp_path / "books.jsonl", books)), "books")
    publish(str(write_jsonl(tmp_path / "sents.jsonl", sentences)), "sents")
    return "books@1.0.0", "sents@1.0.0"


def recipe(tmp_path: Path, refs: tuple[str, str], **extra: object) -> dict[str, object]:
    return {
        "name": "books-sents",
        "seed": 3,
        "components": [
            {"ref": refs[0], "weight": 0.7, "max_epochs": 2},
            {"ref": refs[1], "weight": 0.3, "max_epochs": 3},
        ],
        "output": {"path": str(tmp_path / "mix"), "shard_rows": 300},
        **extra,
    }


def shares(folder: Path) -> dict[str, float]:
    data = pl.read_parquet(folder / "data" / "*.parquet")
    per = data.group_by("mix_component").agg(pl.col("n_tokens").sum())
    total = per["n_tokens"].sum()
    return {k: v / total for k, v in per.iter_rows()}


@pytest.mark.shared
def test_token_shares_within_half_a_point(components: tuple[str, str], tmp_path: Path) -> None:
    report = build_mixture(parse_mixture(recipe(tmp_path, components, total=60_000)))
    got = shares(tmp_path / "mix")
    assert abs(got[components[0]] - 0.7) < 0.005 and abs(got[components[1]] - 0.3) < 0.005
    table = {c["name"]: c for c in report["mixture"]["components"]}
    assert table[components[0]]["achieved_share"] == pytest.approx(got[components[0]])
    data = pl.read_parquet(tmp_path / "mix" / "data" / "*.parquet")
    assert data["id"].n_unique() == data.height
    assert len(list((tmp_path / "mix" / "data").glob("*.parquet"))) > 1
    # The card's table: requested and achieved shares, the latter as counted from the data.
    card = (tmp_path / "mix" / "README.md").read_text()
    tokens = dict(data.group_by("mix_component").agg(pl.col("n_tokens").sum()).iter_rows())
    for name, weight in zip(components, (0.7, 0.3)):
        achieved = f"{100 * got[name]:.2f}% | {tokens[name]:,} |"
        assert f"| {name} | `{name}` | {weight} | {100 * weight:.2f}% | {achieved}" in card


@pytest.mark.shared
def test_same_seed_same_bytes(components: tuple[str, str], tmp_path: Path) -> None:
    def digests(out: Path, seed: int) -> list[str]:
        build_mixture(parse_mixture(recipe(tmp_path, components, seed=seed)), out=out)
        return [hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.glob("data/*"))]

    first = digests(tmp_path / "a", 3)
    assert digests(tmp_path / "b", 3) == first
    assert digests(tmp_path / "c", 4) != first


@pytest.mark.shared
def test_largest_total_respects_max_epochs(components: tuple[str, str], tmp_path: Path) -> None:
    report = build_mixture(parse_mixture(recipe(tmp_path, components)))
    epochs = {c["name"]: c["epochs"] for c in report["mixture"]["components"]}
    # One component is the binding limit; neither goes past its max_epochs.
    assert epochs[components[0]] <= 2.0 + 1e-9 and epochs[components[1]] <= 3.0 + 1e-9
    assert max(epochs[components[0]] / 2.0, epochs[components[1]] / 3.0) > 0.98


@pytest.mark.shared
def test_too_many_epochs_is_refused(components: tuple[str, str], tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"'books@1.0.0' would need .* epochs"):
        build_mixture(parse_mixture(recipe(tmp_path, components, total=10_000_000)))


@pytest.mark.shared
def test_where_and_temperature(components: tuple[str, str], tmp_path: Path) -> None:
    data = recipe(tmp_path, components, weight_by="documents", total=2000)
    data["components"] = [
        {
            "ref": components[1],
            "weight": 1,
            "where": "lang IN ('en', 'fr', 'de')",
            "temperature": 100.0,
            "max_epochs": 5,
        },
    ]
    build_mixture(parse_mixture(data))
    out = pl.read_parquet(tmp_path / "mix" / "data" / "*.parquet")
    per = dict(out.group_by("lang").len().iter_rows())
    assert set(per) == {"en", "fr", "de"}
    # A high temperature makes the languages near-uniform.
    assert max(per.values()) - min(per.values()) <= 0.02 * out.height


@pytest.mark.shared
def test_published_lineage_names_every_component(
    components: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mix.yaml"
    import yaml

    path.write_text(yaml.safe_dump(recipe(tmp_path, components, publish={"name": "mixed"})))
    main(["mix", str(path)])
    assert "mixed@1.0.0" in capsys.readouterr().out
    manifest = Registry().manifest("mixed@1.0.0")
    assert manifest["lineage"]["parents"] == ["books@1.0.0", "sents@1.0.0"]
    weights = [c["weight"] for c in manifest["lineage"]["recipe"]["components"]]
    assert weights == [0.7, 0.3]


def test_bad_recipes_name_the_field() -> None:
    with pytest.raises(RecipeError, match=r"components\[0\]\.weight"):
        parse_mixture(
            {"name": "m", "components": [{"ref": "a", "weight": 0}], "output": {"path": "o"}}
        )
    with pytest.raises(RecipeError, match=r"where: .*subquery is not allowed"):
        parse_mixture(
            {
                "name": "m",
                "components": [
                    {
                        "ref": "a",
                        "weight": 1,
                        "where": "text IN (SELECT x FROM read_csv('/etc/passwd'))",
                    }
                ],
                "output": {"path": "o"},
            }
        )


def write_parquet(path: Path, columns: dict[str, pa.Array]) -> str:
    pq.write_table(pa.table(columns), path)
    return str(path)


def test_columns_are_the_union_of_the_components(tmp_path: Path) -> None:
    a = {
        "id": pa.array([f"a{i}" for i in range(40)]),
        "text": pa.array([f"first text {i}" for i in range(40)]),
        "score": pa.array(range(40), pa.int32()),
        "genre": pa.array(["novel" if i % 2 else "essay" for i in range(40)]),
        "tags": pa.array([[f"t{i}"] * (i % 3) for i in range(40)], pa.list_(pa.string())),
    }
    b = {
        "id": pa.array([f"b{i}" for i in range(60)]),
        "text": pa.array([f"second text {i}" for i in range(60)]),
        "score": pa.array([i / 4 for i in range(60)], pa.float64()),
        "lang": pa.array(["en", "fr", "de"] * 20),
    }
    refs = write_parquet(tmp_path / "a.parquet", a), write_parquet(tmp_path / "b.parquet", b)
    data = recipe(tmp_path, refs, weight_by="documents")
    data["components"] = [
        {"ref": refs[0], "name": "a", "weight": 0.4},
        {"ref": refs[1], "name": "b", "weight": 0.6},
    ]
    build_mixture(parse_mixture(data))
    files = sorted((tmp_path / "mix" / "data").glob("*.parquet"))
    out = pa.concat_tables([pq.read_table(f) for f in files])
    assert out.schema.names == [
        *("id", "text", "score", "genre", "tags", "lang"),
        *("mix_component", "mix_epoch", "source_id"),
    ]
    types = pl.from_arrow(out).schema  # type: ignore[union-attr]
    assert types["score"] == pl.Float64 and types["tags"] == pl.List(pl.String)
    # Every row against its source row, looked up in the inputs written above.
    source = {
        "a": {r["id"]: {**r, "lang": None} for r in pa.table(a).to_pylist()},
        "b": {r["id"]: {**r, "genre": None, "tags": None} for r in pa.table(b).to_pylist()},
    }
    rows = out.to_pylist()
    assert {r["mix_component"] for r in rows} == {"a", "b"} and len(rows) == 100
    for row in rows:
        want = source[row["mix_component"]][row["source_id"]]
        got = {k: row[k] for k in ("text", "score", "genre", "tags", "lang")}
        assert got == {k: want[k] for k in got}, row


def test_irreconcilable_types_name_the_column_and_components(tmp_path: Path) -> None:
    refs = (
        write_parquet(
            tmp_path / "a.parquet",
            {"id": pa.array(["a"]), "text": pa.array(["x"]), "score": pa.array(["high"])},
        ),
        write_parquet(
            tmp_path / "b.parquet",
            {"id": pa.array(["b"]), "text": pa.array(["y"]), "score": pa.array([3])},
        ),
    )
    data = recipe(tmp_path, refs, weight_by="documents")
    data["components"] = [
        {"ref": refs[0], "name": "a", "weight": 1},
        {"ref": refs[1], "name": "b", "weight": 1},
    ]
    with pytest.raises(
        DataError, match=r"column 'score' is string in component 'a' but int64 in component 'b'"
    ):
        build_mixture(parse_mixture(data))
    assert not list((tmp_path / "mix").glob("data/*.parquet"))
