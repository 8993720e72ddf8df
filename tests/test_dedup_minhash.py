"""dedup.minhash: signatures equal datasketch's, LSH parameters, clusters, keep policies, ledger."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curate.dedup.lsh import optimal_params, s_curve
from curate.dedup.shingles import Shingler
from curate.dedup.signatures import permutations, signatures
from curate.dedup.tokens import shingle_hash, shingles
from curate.dedup.unionfind import components
from curate.stage import StageContext
from curate.stages import get_stage
from curate.stages.dedup_minhash import DedupMinhash

_VOCABULARY = (
    "river stone light window garden market winter summer paper letter morning evening silver "
    "harbour castle valley forest meadow engine bridge candle mirror thunder shadow captain "
    "doctor village station lantern"
)
WORDS = tuple(_VOCABULARY.split())

FIXTURE_OK = [HealthCheck.function_scoped_fixture]


def essay(rng: random.Random, n: int = 120) -> str:
    return " ".join(rng.choice(WORDS) + rng.choice(["", "", ",", "."]) for _ in range(n))


def edit(rng: random.Random, text: str, rate: float) -> str:
    words = text.split(" ")
    return " ".join(rng.choice(WORDS) if rng.random() < rate else w for w in words)


def run_stage(stage: DedupMinhash, table: pa.Table, workdir: Path, workers: int = 1) -> pa.Table:
    stage.setup(StageContext(workdir=workdir, workers=workers))
    batches = table.to_batches(max_chunksize=700) or [
        pa.RecordBatch.from_pylist([], schema=table.schema)
    ]
    return pa.Table.from_batches(list(stage(batches)))


def corpus(seed: int = 0, n: int = 300) -> pa.Table:
    rng = random.Random(seed)
    texts: list[str] = []
    for _ in range(n):
        roll = rng.random()
        if texts and roll < 0.2:
            texts.append(rng.choice(texts))
        elif texts and roll < 0.4:
            texts.append(edit(rng, rng.choice(texts), 0.03))
        else:
            texts.append(essay(rng))
    return pa.table({"id": [f"d{i:04d}" for i in range(n)], "text": texts})


def kept_and_removed(out: pa.Table) -> tuple[pa.Table, pa.Table]:
    removed = pc.is_valid(out.column("__curate_reason"))
    return out.filter(pc.invert(removed)), out.filter(removed)


SAMPLES = [
    "The quick brown fox jumps over the lazy dog near the river bank today.",
    "Ça été un très bel été, naïve Zoë! Numbers 12, 345 and ２３ too.",
    "東京は今日も晴れです。明日は雨が降るでしょう。",
    "ภาษาไทยเขียนติดกันโดยไม่มีช่องว่างระหว่างคำ",
    "short",
    "",
    "a b c d e f g h i j k l m n o p",
]


def test_signatures_equal_datasketch() -> None:
    from datasketch import MinHash

    texts = [*SAMPLES, *(essay(random.Random(i), 60) for i in range(20))]
    hashes, counts = Shingler()(pa.array(texts))
    a, b = permutations(112, seed=3)
    sig = signatures(hashes, counts, a, b)
    for i, text in enumerate(texts):
        ref = MinHash(num_perm=112, seed=3, hashfunc=shingle_hash)
        ref.update_batch(shingles(text))
        assert np.array_equal(ref.hashvalues, sig[i]), text


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.text(alphabet="ab cdÉé.,1２東京ไทย\n’—«»\u0301_-'İ", max_size=60), min_size=1, max_size=8
    ),
    st.integers(1, 6),
)
def test_batch_shingles_match_reference(texts: list[str], n: int) -> None:
    hashes, counts = Shingler(ngram=n, char_ngram=n)(pa.array(texts))
    offsets = np.concatenate([[0], np.cumsum(counts)])
    for i, text in enumerate(texts):
        want = [shingle_hash(s) for s in shingles(text, ngram=n, char_ngram=n)]
        assert hashes[offsets[i] : offsets[i + 1]].tolist() == want


def test_character_shingles_for_spaceless_scripts() -> None:
    assert shingles("東京は晴れ", char_ngram=2)[0] == ("東", "京")
    assert shingles("Tokyo is sunny today", ngram=2)[0] == ("tokyo", "is")
    assert shingles("Hello WORLD", tokenizer="chars", char_ngram=3)[0] == ("h", "e", "l")


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.8, 0.9])
@pytest.mark.parametrize("num_perm", [64, 128])
def test_lsh_params_equal_datasketch(threshold: float, num_perm: int) -> None:
    from datasketch.lsh import _optimal_param

    assert optimal_params(threshold, num_perm) == _optimal_param(threshold, num_perm, 0.5, 0.5)


def test_describe_has_s_curve() -> None:
    info = DedupMinhash(bands=14, rows=8).describe()
    assert info["lsh"] == {"bands": 14, "rows": 8, "num_perm": 112}
    assert info["s_curve"] == s_curve(14, 8)
    assert list(info["s_curve"]) == ["0.5", "0.6", "0.7", "0.8", "0.9"]
    assert DedupMinhash().lsh_params() == (9, 13, 128)


def test_bad_parameters_are_recipe_errors() -> None:
    with pytest.raises(ValueError, match="bands and rows"):
        DedupMinhash(bands=4)
    with pytest.raises(ValueError, match="exceeds num_perm"):
        DedupMinhash(bands=20, rows=10, num_perm=128)
    assert get_stage("dedup.minhash") is DedupMinhash


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), max_size=60))
def test_union_find_matches_naive(edges: list[tuple[int, int]]) -> None:
    u = np.array([e[0] for e in edges], dtype=np.int64)
    v = np.array([e[1] for e in edges], dtype=np.int64)
    nodes, roots = components(u, v)
    parent = {x: x for e in edges for x in e}

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        parent[max(ra, rb)] = min(ra, rb)
    assert dict(zip(nodes.tolist(), roots.tolist())) == {x: find(x) for x in parent}


def test_exact_copies_caught_and_ledger_names_kept_ids(tmp_path: Path) -> None:
    table = corpus()
    out = run_stage(DedupMinhash(threshold=0.8), table, tmp_path)
    assert out.column("id").to_pylist() == table.column("id").to_pylist()
    kept, removed = kept_and_removed(out)
    texts = table.column("text").to_pylist()
    first = {}
    for i, t in enumerate(texts):
        first.setdefault(t, i)
    copies = {f"d{i:04d}" for i, t in enumerate(texts) if first[t] != i}
    assert copies <= set(removed.column("id").to_pylist())
    kept_ids = set(kept.column("id").to_pylist())
    for rid, detail in zip(
        removed.column("id").to_pylist(), removed.column("__curate_detail").to_pylist()
    ):
        kid = detail.split()[0].removeprefix("kept=")
        assert kid != rid and kid in kept_ids
        assert 0.0 < float(detail.split("similarity=")[1]) <= 1.0
    sizes = dict(
        zip(kept.column("dup_cluster").to_pylist(), kept.column("dup_cluster_size").to_pylist())
    )
    assert sum(sizes.values()) == table.num_rows
    assert set(removed.column("__curate_reason").to_pylist()) == {"near-duplicate"}


def test_rerun_and_idempotence(tmp_path: Path) -> None:
    table = corpus(seed=4)
    stage = DedupMinhash(threshold=0.7, verify=True)
    first = run_stage(stage, table, tmp_path / "a")
    again = run_stage(DedupMinhash(threshold=0.7, verify=True), table, tmp_path / "b")
    assert first.equals(again)
    kept, _ = kept_and_removed(first)
    second = run_stage(
        DedupMinhash(threshold=0.7, verify=True), kept.select(["id", "text"]), tmp_path / "c"
    )
    assert pc.sum(pc.is_valid(second.column("__curate_reason"))).as_py() in (0, None)


def test_one_and_two_workers_agree(tmp_path: Path) -> None:
    table = corpus(seed=7, n=400)
    stage = DedupMinhash(bands=14, rows=8)
    one = run_stage(stage, table, tmp_path / "one", workers=1)
    two = run_stage(DedupMinhash(bands=14, rows=8), table, tmp_path / "two", workers=2)
    assert one.equals(two)


def test_keep_longest_and_highest(tmp_path: Path) -> None:
    base = essay(random.Random(1), 200)
    texts = [base, base + " extra words at the very end", base[:-40], essay(random.Random(2))]
    table = pa.table({"id": ["a", "b", "c", "d"], "text": texts, "q": [0.1, 0.2, 0.9, 0.5]})
    out = run_stage(DedupMinhash(threshold=0.5, keep="longest"), table, tmp_path / "l")
    kept, _ = kept_and_removed(out)
    assert kept.column("id").to_pylist() == ["b", "d"]
    assert kept.column("dup_cluster_size").to_pylist() == [3, 1]
    out = run_stage(DedupMinhash(threshold=0.5, keep={"highest": "q"}), table, tmp_path / "h")
    kept, removed = kept_and_removed(out)
    assert kept.column("id").to_pylist() == ["c", "d"]
    assert all(d.startswith("kept=c ") for d in removed.column("__curate_detail").to_pylist())
    assert "q" in DedupMinhash(keep={"highest": "q"}).reads()


def test_annotate_keeps_everything(tmp_path: Path) -> None:
    table = corpus(seed=2, n=120)
    out = run_stage(DedupMinhash(action="annotate"), table, tmp_path)
    assert pc.all(pc.is_null(out.column("__curate_reason"))).as_py()
    sizes = out.column("dup_cluster_size").to_pylist()
    assert max(sizes) > 1
    clusters = out.column("dup_cluster").to_pylist()
    assert set(clusters) <= set(table.column("id").to_pylist())


def test_against_removes_matches_of_other_dataset(tmp_path: Path) -> None:
    pytest.importorskip("curate.io.dataset")
    rng = random.Random(3)
    bench = [essay(rng, 150) for _ in range(3)]
    pq.write_table(pa.table({"id": ["t0", "t1", "t2"], "text": bench}), tmp_path / "test.parquet")
    table = pa.table(
        {"id": ["x", "y", "z"], "text": [edit(rng, bench[1], 0.01), essay(rng), bench[2]]}
    )
    stage = DedupMinhash(against=[str(tmp_path / "test.parquet")])
    out = run_stage(stage, table, tmp_path / "w")
    kept, removed = kept_and_removed(out)
    assert kept.column("id").to_pylist() == ["y"]
    assert set(removed.column("__curate_reason").to_pylist()) == {"near-duplicate-other-dataset"}
    details = removed.column("__curate_detail").to_pylist()
    assert "id=t1 " in details[0] and "test.parquet" in details[0]


def test_empty_and_tokenless_input(tmp_path: Path) -> None:
    table = pa.table({"id": ["a", "b", "c"], "text": ["", "!!!", None]})
    out = run_stage(DedupMinhash(), table, tmp_path / "x")
    assert out.num_rows == 3
    assert out.column("dup_cluster_size").to_pylist() == [1, 1, 1]
    empty = pa.table({"id": pa.array([], pa.string()), "text": pa.array([], pa.string())})
    out = run_stage(DedupMinhash(), empty, tmp_path / "y")
    assert out.num_rows == 0 and "dup_cluster" in out.column_names


@settings(max_examples=15, deadline=None, suppress_health_check=FIXTURE_OK)
@given(st.integers(0, 10_000), st.floats(0.0, 0.5))
def test_random_edits_never_delete_a_cluster(tmp_path: Path, seed: int, rate: float) -> None:
    rng = random.Random(seed)
    texts = [essay(rng, 80) for _ in range(6)]
    texts += [edit(rng, rng.choice(texts), rate) for _ in range(10)]
    table = pa.table({"id": [str(i) for i in range(len(texts))], "text": texts})
    out = run_stage(DedupMinhash(threshold=0.6), table, tmp_path / str(seed))
    kept, removed = kept_and_removed(out)
    kept_ids = set(kept.column("id").to_pylist())
    assert kept.num_rows >= 1
    for detail in removed.column("__curate_detail").to_pylist():
        assert detail.split()[0].removeprefix("kept=") in kept_ids
    assert kept.num_rows + removed.num_rows == len(texts)


def test_verification_rejects_weak_candidates(tmp_path: Path) -> None:
    rng = random.Random(5)
    shared = essay(rng, 100)
    texts = [shared + " " + essay(rng, 100), shared + " " + essay(rng, 100)]
    table = pa.table({"id": ["a", "b"], "text": texts})
    loose = run_stage(DedupMinhash(threshold=0.3), table, tmp_path / "loose")
    assert kept_and_removed(loose)[1].num_rows == 1
    strict = DedupMinhash(threshold=0.3, verify=True, verify_threshold=0.8)
    assert kept_and_removed(run_stage(strict, table, tmp_path / "strict"))[1].num_rows == 0


def test_key_range_slices_give_the_same_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from curate.dedup import candidates

    table = corpus(seed=9, n=200)
    whole = run_stage(DedupMinhash(), table, tmp_path / "whole")
    monkeypatch.setattr(candidates, "BAND_ROW_BYTES", 1 << 20)  # one key range per ~16 rows
    sliced = run_stage(DedupMinhash(memory_limit_mb=16), table, tmp_path / "sliced")
    assert whole.equals(sliced)
