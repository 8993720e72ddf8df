"""Golden values of every quality signal on hand-written documents.

Each expected value below was worked out by hand from the definitions in
docs/language-quality.md; the comments show the arithmetic.
"""

from __future__ import annotations

import math

import pyarrow as pa
import pytest

from curate.quality.signals import BY_NAME, SIGNALS, compute
from curate.stages import get_stage

ENGLISH = (
    "The cat sat on the mat.\nThe cat sat on the mat.\n\n"
    "And then it left with the dog...\n• item one\n• item two"
)
REPEATED_PARAGRAPHS = "Buy now!\n\nBuy now!\n\nBuy now!\nLimited offer."
C4_RULES = (
    "Lorem ipsum dolor sit amet.\nPlease enable JavaScript to view.\n"
    "See our privacy policy and terms of use.\nvar x = {a: 1};"
)
CHINESE = "我们是学生。我们是朋友。"
THAI = "สวัสดีครับ"
SYMBOLS = "#one #two three... four…"
CYCLE = "a b c d e a b c d e a b c d e"


def signals(text: str | None, lang: str = "en") -> dict[str, object]:
    cols = compute(pa.array([text], pa.string()), [lang])
    return {name: col.to_pylist()[0] for name, col in cols.items()}


def check(got: dict[str, object], want: dict[str, object]) -> None:
    for name, value in want.items():
        assert name in BY_NAME, name
        if isinstance(value, float):
            assert got[name] == pytest.approx(value), name
        else:
            assert got[name] == value, name


def test_english_document() -> None:
    # Words: "The cat sat on the mat" twice (17 chars each), "And then it left with the dog"
    # (23 chars), "item one", "item two" (14 chars): 23 words, 71 characters. Lines: 5, of
    # 23 + 23 + 32 + 10 + 10 = 98 characters; paragraphs: 2 (the blank line).
    check(
        signals(ENGLISH),
        {
            "quality_word_count": 23,
            "quality_mean_word_length": 71 / 23,
            "quality_symbol_word_ratio": 1 / 23,  # one "...", no "#"
            "quality_bullet_lines_ratio": 2 / 5,
            "quality_ellipsis_lines_ratio": 1 / 5,
            "quality_alpha_words_ratio": 1.0,
            "quality_stop_words": 7,  # The the The the And with the
            "quality_dup_line_ratio": 1 / 5,
            "quality_dup_line_char_ratio": 23 / 98,
            "quality_dup_para_ratio": 0.0,
            "quality_dup_para_char_ratio": 0.0,
            "quality_top_2gram_char_ratio": 12 / 71,  # "The cat" (6 chars) twice
            "quality_top_3gram_char_ratio": 18 / 71,  # "The cat sat" (9) twice
            "quality_top_4gram_char_ratio": 22 / 71,  # "The cat sat on" (11) twice
            "quality_dup_5gram_char_ratio": 17 / 71,  # the second "The cat sat on the mat"
            "quality_dup_6gram_char_ratio": 17 / 71,
            "quality_dup_7gram_char_ratio": 0.0,
            "quality_dup_10gram_char_ratio": 0.0,
            "quality_no_terminal_punct_lines_ratio": 3 / 5,  # "...", "one", "two"
            "quality_few_words_lines_ratio": 0.0,  # "• item one" has three tokens
            "quality_lorem_ipsum": False,
            "quality_javascript_lines_ratio": 0.0,
            "quality_policy_lines_ratio": 0.0,
            "quality_curly_bracket": False,
            "quality_line_punct_ratio": 3 / 5,  # "." "." "..."
            "quality_short_lines_ratio": 4 / 5,  # all but the 32-character line
            "quality_newline_word_ratio": 5 / 23,
        },
    )


def test_repeated_paragraphs() -> None:
    # Paragraphs "Buy now!", "Buy now!", "Buy now!\nLimited offer.": the second repeats.
    # Lines: "Buy now!" x3 (8 chars) and "Limited offer." (14): 38 characters.
    # Words: Buy now x3, Limited offer: 8 words, 18 + 12 = 30 characters.
    check(
        signals(REPEATED_PARAGRAPHS),
        {
            "quality_dup_para_ratio": 1 / 3,
            "quality_dup_para_char_ratio": 8 / 38,
            "quality_dup_line_ratio": 2 / 4,
            "quality_dup_line_char_ratio": 16 / 38,
            "quality_mean_word_length": 30 / 8,
            "quality_top_2gram_char_ratio": 18 / 30,  # "Buy now" three times
            # "Buy now Buy" at words 0 and 2 overlap: words 0..4 covered, 15 characters
            "quality_top_3gram_char_ratio": 15 / 30,
            "quality_top_4gram_char_ratio": 18 / 30,  # "Buy now Buy now" at 0 and 2: words 0..5
            "quality_dup_5gram_char_ratio": 0.0,
            "quality_few_words_lines_ratio": 1.0,  # every line has two words
            "quality_line_punct_ratio": 1.0,
            "quality_newline_word_ratio": 5 / 8,
            "quality_stop_words": 0,
        },
    )


def test_c4_rules() -> None:
    # Words: 5 + 5 + 8 + "var x a 1" (4: "=" is no word, "{a:" is "a") = 22, "1" has no letter.
    check(
        signals(C4_RULES),
        {
            "quality_lorem_ipsum": True,
            "quality_curly_bracket": True,
            "quality_javascript_lines_ratio": 1 / 4,
            "quality_policy_lines_ratio": 1 / 4,
            "quality_word_count": 22,
            "quality_alpha_words_ratio": 21 / 22,
            "quality_stop_words": 3,  # to, and, of
            "quality_line_punct_ratio": 3 / 4,
            "quality_no_terminal_punct_lines_ratio": 1 / 4,
            "quality_short_lines_ratio": 2 / 4,  # 27 and 15 characters
            "quality_few_words_lines_ratio": 0.0,
        },
    )


def test_chinese_is_split_into_characters() -> None:
    # 10 words of one character; 我 and 是 are stop words, twice each.
    check(
        signals(CHINESE, "zh"),
        {
            "quality_word_count": 10,
            "quality_mean_word_length": 1.0,
            "quality_stop_words": 4,
            "quality_top_2gram_char_ratio": 4 / 10,  # "我们" twice
            "quality_top_3gram_char_ratio": 6 / 10,  # "我们是" twice
            "quality_top_4gram_char_ratio": 0.0,
            "quality_line_punct_ratio": 1.0,  # ends with "。"
            "quality_short_lines_ratio": 1.0,  # 12 characters, separators not counted
            "quality_few_words_lines_ratio": 0.0,
        },
    )


def test_thai_words_are_characters_with_their_marks() -> None:
    # ส วั ส ดี ค รั บ: 7 words, 10 characters.
    check(signals(THAI, "th"), {"quality_word_count": 7, "quality_mean_word_length": 10 / 7})
    assert signals(THAI, "th")["quality_stop_words"] is None  # no list for Thai


def test_symbols_and_ellipses() -> None:
    # Words one two three four; 2 "#" and 2 ellipses ("..." and "…").
    check(
        signals(SYMBOLS),
        {
            "quality_word_count": 4,
            "quality_symbol_word_ratio": 0.5,
            "quality_ellipsis_lines_ratio": 1.0,
            "quality_no_terminal_punct_lines_ratio": 1.0,
            "quality_line_punct_ratio": 0.0,
        },
    )


def test_duplicate_ngrams_count_each_word_once() -> None:
    # Occurrences of 5..10-grams from word 5 on all repeat earlier ones: words 5..14 are
    # covered, 10 of 15 one-letter words.
    got = signals(CYCLE)
    for n in range(5, 11):
        assert got[f"quality_dup_{n}gram_char_ratio"] == pytest.approx(10 / 15)
    check(
        got,
        {
            "quality_top_2gram_char_ratio": 6 / 15,
            "quality_top_3gram_char_ratio": 9 / 15,
            "quality_top_4gram_char_ratio": 12 / 15,
        },
    )


def test_empty_and_null_texts() -> None:
    empty = signals("")
    assert empty["quality_word_count"] == 0
    assert empty["quality_mean_word_length"] is None
    assert empty["quality_line_punct_ratio"] is None
    assert empty["quality_lorem_ipsum"] is False
    assert all(v is None for v in signals(None).values())


def test_documents_do_not_leak_into_each_other() -> None:
    # Texts glued without whitespace must still be separate words, lines and n-grams.
    texts = ["one two", "three", "one two"]
    cols = compute(pa.array(texts), "en")
    assert cols["quality_word_count"].to_pylist() == [2, 1, 2]
    assert cols["quality_dup_line_ratio"].to_pylist() == [0.0, 0.0, 0.0]
    assert cols["quality_top_2gram_char_ratio"].to_pylist() == [0.0, 0.0, 0.0]
    dots = compute(pa.array(["a ...", "... b"]), "en")["quality_symbol_word_ratio"]
    assert dots.to_pylist() == [1.0, 1.0]  # one ellipsis each, not one run of six dots


def test_batch_result_equals_one_by_one() -> None:
    texts = [ENGLISH, REPEATED_PARAGRAPHS, C4_RULES, CHINESE, THAI, SYMBOLS, CYCLE, "", None]
    langs = ["en", "en", "en", "zh", "th", "en", "en", "en", "en"]
    batch = compute(pa.array(texts, pa.string()), langs)
    for i, (text, lang) in enumerate(zip(texts, langs)):
        alone = signals(text, lang)
        for name, col in batch.items():
            a, b = col[i].as_py(), alone[name]
            assert a == b or (isinstance(a, float) and math.isclose(a, b)), (name, i)


def test_stage_adds_every_signal_with_declared_types() -> None:
    stage = get_stage("score.quality")(lang_column="lang")
    batch = pa.record_batch({"id": ["a", "b"], "text": [ENGLISH, CHINESE], "lang": ["en", "zh"]})
    out = next(iter(stage([batch])))
    assert out.num_rows == 2
    for f in stage.output_fields():
        assert out.schema.field(f.name).type == f.type
    assert len(stage.output_fields()) == len(SIGNALS)
    assert out.column("quality_stop_words").to_pylist() == [7, 4]


def test_groups_select_columns() -> None:
    stage = get_stage("score.quality")(groups=["fineweb"])
    names = [f.name for f in stage.output_fields()]
    assert names == [
        "quality_dup_line_char_ratio",
        "quality_line_punct_ratio",
        "quality_short_lines_ratio",
        "quality_newline_word_ratio",
    ]
    out = next(iter(stage([pa.record_batch({"id": ["a"], "text": [ENGLISH]})])))
    assert [n for n in out.schema.names if n.startswith("quality_")] == names


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string(), pa.string_view()])
def test_every_arrow_string_type_and_empty_batches(kind: pa.DataType) -> None:
    stage = get_stage("score.quality")()
    texts = pa.array([ENGLISH, None, "  "], kind)
    out = stage.process(pa.record_batch({"id": ["a", "b", "c"], "text": texts}))
    assert out.column("quality_word_count").to_pylist() == [23, None, 0]
    empty = pa.record_batch({"id": pa.array([], pa.string()), "text": pa.array([], kind)})
    assert stage.process(empty).num_rows == 0


def test_slices_of_a_batch_give_the_same_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    import curate.stages.score_quality as module

    texts = [ENGLISH, REPEATED_PARAGRAPHS, C4_RULES, CYCLE] * 5
    batch = pa.record_batch({"id": [str(i) for i in range(20)], "text": texts})
    whole = module.ScoreQuality().process(batch)
    monkeypatch.setattr(module, "SLICE_BYTES", 200)  # a few texts per slice
    assert module.ScoreQuality().process(batch).equals(whole)
