"""normalize sends only suspect documents to ftfy: its output equals ftfy on every document.

The reference is ``ftfy.fix_text`` with the stage's own configuration applied to every text
(whitespace clean-up off: it runs after ftfy and is the same either way). Corpora: the sample,
the near-duplicate bench corpus, and planted mojibake of each kind ftfy's test suite covers
(UTF-8 read as each single-byte codec ftfy undoes, twice over, lossy, with altered no-break
spaces, mixed with correct text, C1 and other control characters, line breaks, terminal escapes,
HTML entities, decomposed accents, and look-alikes that are not mojibake), plus generated text.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import ftfy
import ftfy.bad_codecs  # registers the sloppy-* codecs
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ftfy.badness import BADNESS_RE, MOJIBAKE_CATEGORIES
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.stages.normalize import Normalize, suspect_pattern

REPO = Path(__file__).resolve().parents[1]
CODECS = (
    "latin-1", "windows-1252", "sloppy-windows-1252", "windows-1250", "windows-1251",
    "sloppy-windows-1251", "windows-1253", "windows-1254", "windows-1257", "macroman", "cp437",
)  # fmt: skip
STAGES = [
    Normalize(whitespace=False),
    Normalize(whitespace=False, unescape_html=True),
    Normalize(whitespace=False, form="NFKC"),
    Normalize(whitespace=False, form="none"),
    Normalize(whitespace=False, fix_mojibake=False),
]


def check_equal(stage: Normalize, texts: list[str | None]) -> None:
    batch = pa.record_batch({"id": [str(i) for i in range(len(texts))], "text": texts})
    got = stage.process(batch).column("text").to_pylist()
    config = stage._config()
    want = [None if t is None else ftfy.fix_text(t, config) for t in texts]
    bad = [(t, g, w) for t, g, w in zip(texts, got, want) if g != w]
    assert not bad, bad[:3]


def mojibake(text: str, codec: str, rng: random.Random) -> str:
    """``text`` as UTF-8 bytes read with ``codec`` (undecodable bytes become U+FFFD)."""
    return text.encode("utf-8").decode(codec, errors="replace")


def planted(sentences: list[str], rng: random.Random) -> list[str]:
    docs = []
    for s in sentences:
        codec = rng.choice(CODECS)
        bad = mojibake(s, codec, rng)
        docs += [
            bad,
            f"Correct text first. {bad} And then more.",  # mixed with correct text in one line
            f"{s}\n{bad}\n{s}",  # one bad line among good ones
            mojibake(mojibake(s, "windows-1252", rng), codec, rng),  # twice over
            bad.replace("\xa0", " "),  # a no-break space that became a space
            s.encode("utf-8").decode("windows-1252", errors="replace"),  # lossy
            f"\x1b[31m{s}\x1b[0m\r\n{s}\u2028{s}\x85end\x00\x7f\ufeff",
            f"{s} &amp; &eacute;t&eacute; &lt;b&gt; &#8364;5",
            s.replace("é", "e\u0301").replace("ö", "o\u0308") + " \ufb01ne ①",
        ]
    return docs


LOOKALIKES = [
    "I'm not such a fan of Charlotte Brontë…”",
    "ВІКІ is Ukrainian for WIKI",
    "a radius of 10 Å—",
    "NICIODATĂ\u00a0 and NICIODATĂ™",
    "HÅØYA ER BLÅØYD",
    "Ō¬o ПоздравЂаво ¡Hola! ¿Qué? 50€ £3 ±2 ×3 ½ ¼ ©2024 ®",
    "Control \x1a char and C1 \x81 in text",
    "",
]


@pytest.fixture(scope="module")
def sentences(shared_dir: Path) -> list[str]:
    path = shared_dir / "data" / "ud-pud-multilingual" / "pud_sentences.tsv"
    if not path.exists():
        pytest.skip(f"{path} is missing")
    rows = path.read_text(encoding="utf-8").splitlines()[1:]
    return [r.split("\t", 2)[2] for r in rows[::25]]


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: json.dumps(s.params()))
def test_sample_corpus_equals_full_ftfy(stage: Normalize) -> None:
    lines = (REPO / "recipes" / "sample" / "web-sample.jsonl").read_text(encoding="utf-8")
    texts = [json.loads(line)["text"] for line in lines.splitlines()]
    check_equal(stage, [*texts, *LOOKALIKES, None])


@pytest.mark.shared
@pytest.mark.parametrize("stage", STAGES[:2], ids=["default", "unescape_html"])
def test_planted_mojibake_equals_full_ftfy(stage: Normalize, sentences: list[str]) -> None:
    docs = planted(sentences, random.Random(7))
    assert sum(ftfy.fix_text(d, stage._config()) != d for d in docs) > len(docs) // 2
    check_equal(stage, docs)


@pytest.mark.shared
@pytest.mark.slow
def test_bench_corpus_equals_full_ftfy(shared_dir: Path) -> None:
    path = shared_dir / "bench" / "neardup-20k.parquet"
    if not path.exists():
        pytest.skip(f"{path} is missing")
    texts = pq.read_table(path, columns=["text"]).column("text").to_pylist()
    check_equal(Normalize(whitespace=False), texts[::4])


def test_entities_are_unescaped_only_when_asked() -> None:
    batch = pa.record_batch({"id": ["a"], "text": ["Tom &amp; Jerry &eacute;"]})
    assert Normalize().process(batch).column("text").to_pylist() == ["Tom &amp; Jerry &eacute;"]
    fixed = Normalize(unescape_html=True).process(batch).column("text").to_pylist()
    assert fixed == ["Tom & Jerry é"]


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string(), pa.string_view()])
def test_every_arrow_string_type(kind: pa.DataType) -> None:
    texts = pa.array(["caf\u00c3\u00a9  au lait", None, "e\u0301", "plain"], kind)
    batch = pa.record_batch({"id": ["a", "b", "c", "d"], "text": texts})
    out = Normalize().process(batch).column("text")
    assert out.to_pylist() == ["café au lait", None, "é", "plain"]
    assert out.type == (pa.large_string() if kind == pa.string_view() else kind)


def test_ascii_line_breaks_are_ftfys() -> None:
    batch = pa.record_batch({"id": ["a"], "text": ["one\rtwo\r\nthree\x07"]})
    out = Normalize().process(batch).column("text").to_pylist()
    assert out == ["one\ntwo\nthree"]


MOJI = "".join(sorted(set("".join(MOJIBAKE_CATEGORIES.values())) - {"-"}))
ALPHABET = st.sampled_from([*MOJI, *"aeZ .,!?\n\t\r&;#", "\xa0", "\u0301", "é", "ï", "ß"])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(ALPHABET, max_size=12), min_size=1, max_size=6), st.data())
def test_generated_mojibake_equals_full_ftfy(words: list[str], data: st.DataObject) -> None:
    text = " ".join(words)
    codec = data.draw(st.sampled_from(("none", *CODECS)))
    if codec != "none":
        text = mojibake(text, codec, random.Random(0))
    check_equal(data.draw(st.sampled_from(STAGES)), [text])


@settings(max_examples=300, deadline=None)
@given(st.text(ALPHABET, min_size=1, max_size=10))
def test_pattern_finds_everything_ftfys_heuristic_finds(text: str) -> None:
    pattern = suspect_pattern(fix_encoding=True, unescape_html=False)
    found = pa.compute.match_substring_regex(pa.array([text]), pattern)[0].as_py()
    if any(BADNESS_RE.search(line) for line in text.splitlines(keepends=True)):
        assert found
