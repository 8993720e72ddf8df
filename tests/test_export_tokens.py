"""``curate export`` and ``score.tokens``: tokens read back by independent readers are exactly
the tokens of the source documents.

The Megatron reader below is written from the published ``.idx`` layout (magic, version, dtype
code, counts, lengths, pointers, document index), not from curate's writer. The tokenizer is a
small BPE trained in the test; the documents are windows of the Project Gutenberg books in
``../shared/bench/sources`` and sentences of ``../shared/data/ud-pud-multilingual``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import struct
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

from curate.cli import main
from curate.tokens.export import export_tokens

MEGATRON_DTYPES = {1: np.uint8, 2: np.int8, 3: np.int16, 4: np.int32, 5: np.int64, 8: np.uint16}


def read_megatron(prefix: Path) -> list[np.ndarray]:
    raw = (prefix.with_suffix(".idx")).read_bytes()
    assert raw[:9] == b"MMIDIDX\x00\x00"
    version, code = struct.unpack_from("<QB", raw, 9)
    sequences, documents = struct.unpack_from("<QQ", raw, 18)
    assert version == 1 and documents == sequences + 1
    at = 34
    lengths = np.frombuffer(raw, np.int32, sequences, at)
    pointers = np.frombuffer(raw, np.int64, sequences, at + 4 * sequences)
    doc_index = np.frombuffer(raw, np.int64, documents, at + 12 * sequences)
    assert doc_index.tolist() == list(range(documents))
    dtype = np.dtype(MEGATRON_DTYPES[code])
    data = np.fromfile(prefix.with_suffix(".bin"), dtype=dtype)
    return [data[p // dtype.itemsize : p // dtype.itemsize + n] for p, n in zip(pointers, lengths)]


def read_npy(prefix: Path) -> list[np.ndarray]:
    tokens = np.load(f"{prefix}.npy")
    ends = np.load(f"{prefix}.idx.npy")
    starts = np.concatenate([np.zeros(1, ends.dtype), ends[:-1]])
    return [tokens[s:e] for s, e in zip(starts, ends)]


READERS = {"megatron": read_megatron, "npy": read_npy}


@pytest.fixture(scope="module")
def corpus(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("export")
    texts: list[str] = []
    for path in sorted((shared_dir / "bench" / "sources").glob("*.txt"))[:4]:
        words = re.sub(r"\s+", " ", path.read_text(encoding="utf-8", errors="replace")).split()
        texts.extend(" ".join(words[i : i + 120]) for i in range(0, 120 * 300, 120))
    tsv = (shared_dir / "data" / "ud-pud-multilingual" / "pud_sentences.tsv").read_text()
    texts.extend(line.split("\t")[-1] for line in tsv.splitlines()[1:800])
    texts.append("")
    docs = [{"id": f"doc-{i}", "text": t} for i, t in enumerate(texts)]
    (folder / "in.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=2000, special_tokens=["[UNK]", "<|endoftext|>"], show_progress=False
    )
    tok.train_from_iterator(texts[::3], trainer)
    tok.save(str(folder / "tokenizer.json"))
    return folder / "in.jsonl", folder / "tokenizer.json"


def source_tokens(corpus: tuple[Path, Path]) -> dict[str, list[int]]:
    docs, tok_path = corpus
    tok = Tokenizer.from_file(str(tok_path))
    eos = tok.token_to_id("<|endoftext|>")
    rows = [json.loads(line) for line in docs.read_text().splitlines()]
    return {r["id"]: [*tok.encode(r["text"], add_special_tokens=False).ids, eos] for r in rows}


@pytest.mark.shared
@pytest.mark.parametrize("fmt", ["megatron", "npy"])
def test_tokens_read_back_exactly(fmt: str, corpus: tuple[Path, Path], tmp_path: Path) -> None:
    docs, tok = corpus
    manifest = export_tokens(
        str(docs),
        tokenizer=str(tok),
        fmt=fmt,
        out=tmp_path,
        shard_tokens=60_000,
        bucket_bytes=200_000,
    )
    expected = source_tokens(corpus)
    got: dict[str, list[int]] = {}
    order: list[str] = []
    shards = [f["name"] for f in manifest["files"] if "tokens" in f]
    assert len(shards) > 3
    for name in shards:
        prefix = tmp_path / name.split(".")[0]
        ids = [json.loads(line) for line in Path(f"{prefix}.ids.jsonl").read_text().splitlines()]
        seqs = READERS[fmt](prefix)
        assert len(ids) == len(seqs)
        for i, seq in zip(ids, seqs):
            got[i] = seq.tolist()
            order.append(i)
    assert got == expected
    assert manifest["documents"] == len(expected)
    assert manifest["tokens"] == sum(len(t) for t in expected.values())
    assert order != list(expected), "documents were not shuffled"
    for f in manifest["files"]:
        assert hashlib.sha256((tmp_path / f["name"]).read_bytes()).hexdigest() == f["sha256"]
    assert not (tmp_path / ".curate-export-work").exists()


@pytest.mark.shared
def test_same_seed_same_bytes_other_seed_other_order(
    corpus: tuple[Path, Path], tmp_path: Path
) -> None:
    docs, tok = corpus

    def digests(seed: int, out: Path) -> dict[str, str]:
        m = export_tokens(
            str(docs), tokenizer=str(tok), fmt="npy", out=out, seed=seed, bucket_bytes=300_000
        )
        return {f["name"]: f["sha256"] for f in m["files"]}

    first = digests(1, tmp_path / "a")
    assert digests(1, tmp_path / "b") == first
    assert digests(2, tmp_path / "c") != first


@pytest.mark.shared
def test_cli_exports_and_refuses_a_foreign_folder(
    corpus: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs, tok = corpus
    out = tmp_path / "out"
    main(["export", str(docs), "--tokenizer", str(tok), "--format", "megatron", "-o", str(out)])
    assert "megatron shard(s)" in capsys.readouterr().out
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["tokenizer"]["sha256"] == hashlib.sha256(tok.read_bytes()).hexdigest()
    assert manifest["dtype"] == "uint16" and manifest["eos"]["token"] == "<|endoftext|>"
    # A second export into the same folder replaces the first.
    main(["export", str(docs), "-t", str(tok), "--format", "npy", "-o", str(out), "--workers", "2"])
    assert not list(out.glob("*.bin"))
    assert json.loads((out / "manifest.json").read_text())["tokens"] == manifest["tokens"]
    foreign = tmp_path / "thesis"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("mine")
    with pytest.raises(SystemExit) as exit_info:
        main(["export", str(docs), "-t", str(tok), "--format", "npy", "-o", str(foreign)])
    assert exit_info.value.code == 2
    assert "not empty and holds no earlier export" in capsys.readouterr().err
    assert (foreign / "thesis.tex").read_text() == "mine"


def test_missing_tokenizer_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_text('{"text": "a"}\n')
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "export",
                str(tmp_path / "in.jsonl"),
                "-t",
                str(tmp_path / "nope.json"),
                "--format",
                "npy",
                "-o",
                str(tmp_path / "out"),
            ]
        )
    assert exit_info.value.code == 2


@pytest.mark.shared
def count_tokens(source: Path, tok: Path, out: Path) -> dict[str, object]:
    """Run a recipe of one ``score.tokens`` stage; return its run report."""
    from curate.executor.run import run_recipe
    from curate.recipe import parse_recipe

    recipe = {
        "name": "tokens",
        "input": {"path": str(source)},
        "stages": [{"use": "score.tokens", "with": {"tokenizer": str(tok)}}],
        "output": {"path": str(out)},
    }
    return run_recipe(parse_recipe(recipe))


def test_score_tokens_counts_like_the_tokenizer(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    docs, tok = corpus
    count_tokens(docs, tok, tmp_path / "out")
    table = pq.read_table(sorted((tmp_path / "out" / "data").glob("*.parquet"))[0])
    counts = dict(zip(table.column("id").to_pylist(), table.column("n_tokens").to_pylist()))
    expected = source_tokens(corpus)
    assert counts == {i: len(t) - 1 for i, t in expected.items() if i in counts}
    assert len(counts) == table.num_rows
    card = (tmp_path / "out" / "README.md").read_text()
    total = sum(len(t) - 1 for t in expected.values())
    report = json.loads((tmp_path / "out" / "curate" / "run.json").read_text())
    assert report["tokens"] == {"total": total, "by_split": {"train": total}}
    assert f"{total:,} tokens of `{tok}` in all" in card
    assert f"| train | {total:,} |" in card


@pytest.mark.shared
def test_an_interrupted_export_reuses_its_tokens_and_ends_identical(
    corpus: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from curate.tokens import formats
    from curate.tokens.loader import LoadedTokenizer

    docs, tok = corpus
    args = {"tokenizer": str(tok), "fmt": "npy", "shard_tokens": 60_000, "bucket_bytes": 200_000}
    clean = export_tokens(str(docs), out=tmp_path / "clean", **args)  # type: ignore[arg-type]
    real_close = formats.Shard.close
    calls = {"close": 0, "encode": 0}

    def crash_on_third(self: formats.Shard) -> list[formats.ShardFile]:
        calls["close"] += 1
        if calls["close"] == 3:
            raise OSError("killed")
        return real_close(self)

    monkeypatch.setattr(formats.Shard, "close", crash_on_third)
    with pytest.raises(OSError, match="killed"):
        export_tokens(str(docs), out=tmp_path / "out", **args)  # type: ignore[arg-type]
    monkeypatch.setattr(formats.Shard, "close", real_close)
    real_encode = LoadedTokenizer.encode

    def counted(self: LoadedTokenizer, texts: list[str]) -> list[list[int]]:
        calls["encode"] += 1
        return real_encode(self, texts)

    monkeypatch.setattr(LoadedTokenizer, "encode", counted)
    again = export_tokens(str(docs), out=tmp_path / "out", **args)  # type: ignore[arg-type]
    assert calls["encode"] == 0, "the tokenized spill of the first attempt was not reused"
    assert [f["sha256"] for f in again["files"]] == [f["sha256"] for f in clean["files"]]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        p.name for p in (tmp_path / "clean").iterdir()
    )


@pytest.mark.shared
@pytest.mark.skipif(
    importlib.util.find_spec("streaming") is None,
    reason="mosaicml-streaming is not installed: pip install --no-deps mosaicml-streaming==0.13.0",
)
def test_mds_read_back_by_streaming_dataset(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    """MosaicML's own StreamingDataset reads exactly the source tokens, in the shuffled order."""
    from curate.tokens.mds import streaming_base

    base = streaming_base()
    docs, tok = corpus

    def export(out: Path) -> dict[str, object]:
        return export_tokens(
            str(docs),
            tokenizer=str(tok),
            fmt="mds",
            out=out,
            shard_tokens=60_000,
            bucket_bytes=200_000,
        )

    manifest = export(tmp_path / "a")
    dataset = base.StreamingDataset(local=str(tmp_path / "a"), shuffle=False, batch_size=1)
    samples = [dataset[i] for i in range(dataset.num_samples)]
    got = {s["id"]: s["tokens"].tolist() for s in samples}
    expected = source_tokens(corpus)
    assert got == expected and len(samples) == len(expected)
    assert [s["id"] for s in samples] != list(expected), "documents were not shuffled"
    assert samples[0]["tokens"].dtype == np.uint16
    files = manifest["files"]
    assert isinstance(files, list)
    shards = [f for f in files if "tokens" in f]
    assert len(shards) > 3 and files[-1]["name"] == "index.json"
    assert manifest["tokens"] == sum(len(t) for t in expected.values())
    assert sum(f["documents"] for f in shards) == len(expected)
    for f in files:
        assert hashlib.sha256((tmp_path / "a" / f["name"]).read_bytes()).hexdigest() == f["sha256"]
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(
        [f["name"] for f in files] + ["manifest.json"]
    )
    again = export(tmp_path / "b")
    assert again["files"] == files


def test_mds_without_the_library_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from curate.errors import MissingDependencyError
    from curate.tokens import mds

    def absent(name: str) -> None:
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(importlib, "import_module", absent)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(MissingDependencyError) as info:
        mds.streaming_base()
    assert "mosaicml-streaming" in str(info.value)
    assert "--no-deps mosaicml-streaming==0.13.0" in (info.value.hint or "")


@pytest.mark.shared
def test_score_tokens_reports_tokens_per_split_and_language(
    shared_dir: Path, corpus: tuple[Path, Path], tmp_path: Path
) -> None:
    _, tok_path = corpus
    tsv = (shared_dir / "data" / "ud-pud-multilingual" / "pud_sentences.tsv").read_text()
    header, *lines = tsv.splitlines()
    cols = header.split("\t")
    rows = [dict(zip(cols, line.split("\t"))) for line in lines[::5]]
    source = tmp_path / "in"
    source.mkdir()
    splits = {"train": rows[0::2], "test": rows[1::2]}
    for split, part in splits.items():
        (source / f"{split}.jsonl").write_text(
            "".join(json.dumps({"text": r[cols[-1]], "lang": r["lang"]}) + "\n" for r in part)
        )
    count_tokens(source, tok_path, tmp_path / "out")
    tok = Tokenizer.from_file(str(tok_path))
    by_split = {
        s: sum(len(tok.encode(r[cols[-1]], add_special_tokens=False).ids) for r in part)
        for s, part in splits.items()
    }
    by_lang: dict[str, int] = {}
    for r in rows:
        n = len(tok.encode(r[cols[-1]], add_special_tokens=False).ids)
        by_lang[r["lang"]] = by_lang.get(r["lang"], 0) + n
    report = json.loads((tmp_path / "out" / "curate" / "run.json").read_text())
    total = sum(by_split.values())
    assert len(by_lang) > 5
    assert report["tokens"] == {"total": total, "by_split": by_split, "by_language": by_lang}
    card = (tmp_path / "out" / "README.md").read_text()
    for split, n in by_split.items():
        assert f"| {split} | {n:,} |" in card
    for lang, n in by_lang.items():
        assert f"| `{lang}` | {n:,} | {100 * n / total:.1f}% |" in card


@pytest.mark.shared
def test_offline_a_hub_name_is_read_from_the_hub_cache_or_refused(
    corpus: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub.constants

    from curate.errors import MissingDependencyError
    from curate.tokens.loader import load_tokenizer

    _, tok_path = corpus
    monkeypatch.setenv("CURATE_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    # The Hub cache's layout: refs/main names the snapshot holding the files.
    repo = tmp_path / "hub" / "models--someone--cached"
    (repo / "snapshots" / "abc123").mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("abc123")
    (repo / "snapshots" / "abc123" / "tokenizer.json").write_bytes(tok_path.read_bytes())
    loaded = load_tokenizer("someone/cached")
    assert loaded.source == "hf:someone/cached"
    assert loaded.sha256 == hashlib.sha256(tok_path.read_bytes()).hexdigest()
    text = "a sentence to encode"
    expected = Tokenizer.from_file(str(tok_path)).encode(text, add_special_tokens=False).ids
    assert loaded.encode([text]) == [expected]
    with pytest.raises(MissingDependencyError, match=r"'someone/absent' is a Hugging Face Hub"):
        load_tokenizer("someone/absent")


@pytest.fixture(scope="module")
def parquet_corpus(corpus: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus as Parquet with its id column, in row groups of 300 documents."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [json.loads(line) for line in corpus[0].read_text().splitlines()]
    path = tmp_path_factory.mktemp("parquet") / "in.parquet"
    table = pa.table({"id": [r["id"] for r in rows], "text": [r["text"] for r in rows]})
    pq.write_table(table, path, row_group_size=300)
    return path


def digests(manifest: dict[str, object]) -> list[tuple[str, str]]:
    files = manifest["files"]
    assert isinstance(files, list)
    return [(f["name"], f["sha256"]) for f in files]


FORMATS = ["megatron", "npy"] + (["mds"] if importlib.util.find_spec("streaming") else [])


@pytest.mark.shared
@pytest.mark.parametrize("fmt", FORMATS)
def test_any_number_of_workers_writes_the_same_bytes(
    fmt: str, corpus: tuple[Path, Path], parquet_corpus: Path, tmp_path: Path
) -> None:
    from curate.io.dataset import open_dataset
    from curate.tokens.parts import Job, plan_parts

    _, tok = corpus
    job = Job(str(tok), None, "", 1, 0, 1, 1000, "text", None)
    assert len(plan_parts(open_dataset(str(parquet_corpus)), job, part_rows=300)) >= 6
    args = {"tokenizer": str(tok), "fmt": fmt, "shard_tokens": 60_000, "bucket_bytes": 200_000}
    runs = {
        w: export_tokens(
            str(parquet_corpus), out=tmp_path / str(w), workers=w, part_rows=300, **args
        )  # type: ignore[arg-type]
        for w in (1, 2, 3)
    }
    assert len(runs[1]["files"]) > 3
    assert digests(runs[2]) == digests(runs[1]) and digests(runs[3]) == digests(runs[1])
    for w in (2, 3):
        for f in runs[1]["files"]:
            assert (tmp_path / str(w) / f["name"]).read_bytes() == (
                tmp_path / "1" / f["name"]
            ).read_bytes()
    # JSON lines in three files (one part each) against one file of the same bytes (one part):
    # the bucket count comes from the input's size, so the same as each other, not as Parquet.
    lines = corpus[0].read_text().splitlines(keepends=True)
    folder = tmp_path / "jsonl"
    folder.mkdir()
    for i in range(3):
        (folder / f"part-{i}.jsonl").write_text("".join(lines[i * 700 : (i + 1) * 700]))
    split = export_tokens(str(folder), out=tmp_path / "j", workers=2, **args)  # type: ignore[arg-type]
    whole = export_tokens(str(corpus[0]), out=tmp_path / "w", **args)  # type: ignore[arg-type]
    assert digests(split) == digests(whole)


@pytest.mark.shared
def test_an_export_interrupted_while_tokenizing_redoes_only_unfinished_parts(
    corpus: tuple[Path, Path], parquet_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from curate.tokens.loader import LoadedTokenizer

    _, tok = corpus
    args = {"tokenizer": str(tok), "fmt": "npy", "shard_tokens": 60_000, "bucket_bytes": 200_000}
    clean = export_tokens(
        str(parquet_corpus), out=tmp_path / "clean", workers=2, part_rows=300, **args
    )  # type: ignore[arg-type]
    real_encode = LoadedTokenizer.encode
    calls = {"n": 0}

    def crash_on_fourth(self: LoadedTokenizer, texts: list[str]) -> list[list[int]]:
        calls["n"] += 1
        if calls["n"] == 4:
            raise OSError("killed")
        return real_encode(self, texts)

    monkeypatch.setattr(LoadedTokenizer, "encode", crash_on_fourth)
    with pytest.raises(OSError, match="killed"):
        export_tokens(str(parquet_corpus), out=tmp_path / "out", part_rows=300, **args)  # type: ignore[arg-type]
    work = tmp_path / "out" / ".curate-export-work"
    assert len(list(work.glob("part-*.json"))) == 3
    calls["n"] = 0

    def counted(self: LoadedTokenizer, texts: list[str]) -> list[list[int]]:
        calls["n"] += 1
        return real_encode(self, texts)

    monkeypatch.setattr(LoadedTokenizer, "encode", counted)
    again = export_tokens(str(parquet_corpus), out=tmp_path / "out", part_rows=300, **args)  # type: ignore[arg-type]
    # One batch per part of 300 rows: the three finished parts were not tokenized again.
    parts = -(-int(again["documents"]) // 300)
    assert calls["n"] == parts - 3
    assert digests(again) == digests(clean)
    assert not work.exists()


def test_a_repeated_id_in_two_files_is_refused(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    from curate.errors import DataError

    _, tok = corpus
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jsonl").write_text('{"id": "x", "text": "one"}\n')
    (tmp_path / "in" / "b.jsonl").write_text(
        '{"id": "y", "text": "two"}\n{"id": "x", "text": "3"}\n'
    )
    with pytest.raises(DataError, match="duplicate id 'x'"):
        export_tokens(
            str(tmp_path / "in"), tokenizer=str(tok), fmt="npy", out=tmp_path / "out", workers=2
        )
