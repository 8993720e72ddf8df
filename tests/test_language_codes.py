"""ISO 639 mapping of lid.176 labels, and Unicode script detection."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from curate.lang.iso import (
    ISO639_1_TO_3,
    ISO639_3_TO_1,
    MACRO_OF,
    code_for_label,
    parse_label,
    to_iso639_1,
    to_iso639_3,
)
from curate.lang.scripts import NAMES, SCRIPTS, main_scripts, script_counts


@pytest.mark.parametrize(
    ("label", "one", "three"),
    [
        ("__label__en", "en", "eng"),
        ("__label__zh", "zh", "zho"),
        ("__label__fa", "fa", "fas"),
        ("__label__no", "no", "nor"),
        ("__label__he", "he", "heb"),
        ("__label__ceb", "ceb", "ceb"),  # no ISO 639-1 code: ISO 639-3
        ("__label__yue", "yue", "yue"),
        ("__label__als", "gsw", "gsw"),  # Alemannic, not Tosk Albanian (ISO 639-3 als)
        ("__label__bh", "bho", "bho"),  # the Bhojpuri Wikipedia
        ("__label__sh", "hbs", "hbs"),  # ISO 639-1 sh was withdrawn
        ("__label__eng_Latn", "en", "eng"),  # GlotLID / OpenLID: ISO 639-3 and a script
        ("__label__cmn_Hani", "zh", "zho"),  # Mandarin stands for its macrolanguage
        ("__label__arb_Arab", "ar", "ara"),
        ("__label__als_Latn", "sq", "sqi"),  # with a script, als is Tosk Albanian
        ("__label__nob_Latn", "nb", "nob"),
        ("__label__yue_Hani", "yue", "yue"),  # lid.176 tells Cantonese apart: so do we
        ("__label__something", "something", "something"),  # unknown labels pass through
    ],
)
def test_code_for_label(label: str, one: str, three: str) -> None:
    assert code_for_label(label) == one
    assert code_for_label(label, codes="iso639-3") == three


@pytest.mark.parametrize(
    ("label", "script"),
    [("__label__en", None), ("__label__eng_Latn", "Latn"), ("__label__zho_Hant", "Hant")],
)
def test_parse_label_keeps_the_script(label: str, script: str | None) -> None:
    assert parse_label(label)[1] == script


def test_standard_varieties_land_on_a_two_letter_code() -> None:
    for individual, macro in MACRO_OF.items():
        assert len(individual) == 3 and macro in ISO639_3_TO_1, individual
        assert len(parse_label(f"__label__{individual}_Latn")[0]) == 2


def test_two_letter_codes_round_trip() -> None:
    for one, three in ISO639_1_TO_3.items():
        assert len(one) == 2 and len(three) == 3
        assert to_iso639_3(one) == three and to_iso639_1(three) == one
    assert len(set(ISO639_1_TO_3.values())) == len(ISO639_1_TO_3)


def test_every_lid176_label_maps(lid_model: Path) -> None:
    from curate.stages.score_language import load_fasttext

    labels = load_fasttext(lid_model).getLabels("strict")[0]
    assert len(labels) == 176
    one = {code_for_label(x) for x in labels}
    three = {code_for_label(x, codes="iso639-3") for x in labels}
    assert len(one) == len(three) == 176  # no two labels collapse into one code
    assert all(len(c) == 3 for c in three)
    assert all(len(c) == 2 or c not in {to_iso639_3(x) for x in ISO639_1_TO_3} for c in one)


def test_main_scripts() -> None:
    texts = [
        "Hello world",
        "Привет мир",
        "Γειά σου κόσμε",
        "שלום עולם",
        "مرحبا بالعالم",
        "नमस्ते दुनिया",
        "สวัสดีชาวโลก",
        "안녕하세요 세계",
        "こんにちは",
        "你好世界",
        "𠀀𠀁",  # Han beyond the BMP
        "12345 !!!",
        "",
        None,
        "Hi мир мир",  # 2 Latin letters, 6 Cyrillic
    ]
    assert main_scripts(pa.array(texts, pa.string())).to_pylist() == [
        "Latin", "Cyrillic", "Greek", "Hebrew", "Arabic", "Devanagari", "Thai", "Hangul",
        "Kana", "Han", "Han", None, None, None, "Cyrillic",
    ]  # fmt: skip


@given(st.lists(st.text(max_size=30), max_size=8))
def test_script_counts_match_per_character_lookup(texts: list[str]) -> None:
    counts = script_counts(pa.array(texts, pa.string()))
    for row, text in zip(counts, texts):
        want = [0] * len(NAMES)
        for ch in text:
            for i, name in enumerate(NAMES):
                if any(lo <= ord(ch) <= hi for lo, hi in SCRIPTS[name]):
                    want[i] += 1
                    break
        assert row.tolist() == want


def test_script_counts_of_a_sliced_array() -> None:
    arr = pa.array(["abc", "мир", "中文"]).slice(1, 2)
    assert [NAMES[i] for i in script_counts(arr).argmax(axis=1)] == ["Cyrillic", "Han"]
