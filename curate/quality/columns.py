"""Every quality signal column: its type, source, published threshold and meaning.

Thresholds are those of the source (Gopher: Rae et al. 2021, appendix A; C4: Raffel et al. 2020,
section 2.2; FineWeb: Penedo et al. 2024, and its datatrove filters); curate only measures,
recipes decide with ``filter`` stages. This module imports nothing heavy, so that listing stages
and checking recipes stays fast; :mod:`curate.quality.signals` computes the columns.

>>> BY_NAME["quality_word_count"].keep, BY_NAME["quality_word_count"].groups
('50 to 100,000', ('gopher_quality',))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

Group = Literal["gopher_quality", "gopher_repetition", "c4", "fineweb"]
GROUPS: tuple[Group, ...] = ("gopher_quality", "gopher_repetition", "c4", "fineweb")


@dataclass(frozen=True)
class Signal:
    """One ``quality_*`` column: its type, where it comes from and the source's threshold."""

    name: str
    type: pa.DataType
    source: str
    keep: str
    description: str

    @property
    def groups(self) -> tuple[Group, ...]:
        """The signal groups (``score.quality``'s ``groups`` parameter) that include it."""
        if self.name == "quality_dup_line_char_ratio":
            return ("gopher_repetition", "fineweb")
        if self.source == GOPHER:
            repetition = "dup_" in self.name or "gram" in self.name
            return ("gopher_repetition",) if repetition else ("gopher_quality",)
        return ("c4",) if self.source == C4 else ("fineweb",)


_R, _I, _B = pa.float64(), pa.int64(), pa.bool_()
GOPHER, C4, FINEWEB = "Gopher", "C4", "FineWeb"

SIGNALS: tuple[Signal, ...] = (
    Signal("quality_word_count", _I, GOPHER, "50 to 100,000", "words"),
    Signal("quality_mean_word_length", _R, GOPHER, "3 to 10", "mean characters per word"),
    Signal("quality_symbol_word_ratio", _R, GOPHER, "< 0.1",
           "'#' or ellipses ('...', '…'), whichever is more frequent, per word"),
    Signal("quality_bullet_lines_ratio", _R, GOPHER, "<= 0.9",
           "share of lines starting with a bullet (• ‣ ◦ ▪ ● ■ ► - * ...)"),
    Signal("quality_ellipsis_lines_ratio", _R, GOPHER, "<= 0.3",
           "share of lines ending with '...' or '…'"),
    Signal("quality_alpha_words_ratio", _R, GOPHER, ">= 0.8",
           "share of words with at least one letter"),
    Signal("quality_stop_words", _I, GOPHER, ">= 2",
           "stop words of the text's language (null when curate has no list for it)"),
    Signal("quality_dup_line_ratio", _R, GOPHER, "<= 0.3",
           "share of lines equal to an earlier line"),
    Signal("quality_dup_line_char_ratio", _R, f"{GOPHER}, {FINEWEB}", "<= 0.2 (FineWeb: <= 0.01)",
           "characters in lines equal to an earlier line, over all line characters"),
    Signal("quality_dup_para_ratio", _R, GOPHER, "<= 0.3",
           "share of paragraphs equal to an earlier paragraph"),
    Signal("quality_dup_para_char_ratio", _R, GOPHER, "<= 0.2",
           "characters in paragraphs equal to an earlier paragraph, over all line characters"),
    *(
        Signal(f"quality_top_{n}gram_char_ratio", _R, GOPHER, f"<= {limit}",
               f"characters of the most frequent word {n}-gram times its count, over all word "
               "characters (0 when none repeats)")
        for n, limit in ((2, 0.2), (3, 0.18), (4, 0.16))
    ),
    *(
        Signal(f"quality_dup_{n}gram_char_ratio", _R, GOPHER, f"<= {limit}",
               f"characters of words inside repeated occurrences of word {n}-grams, over all "
               "word characters")
        for n, limit in ((5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.1))
    ),
    Signal("quality_no_terminal_punct_lines_ratio", _R, C4, "C4 drops such lines",
           "share of lines not ending in terminal punctuation, or ending with an ellipsis"),
    Signal("quality_few_words_lines_ratio", _R, C4, "C4 drops such lines",
           "share of lines with fewer than 3 words"),
    Signal("quality_lorem_ipsum", _B, C4, "false", "the text contains 'lorem ipsum'"),
    Signal("quality_javascript_lines_ratio", _R, C4, "C4 drops such lines",
           "share of lines containing 'javascript'"),
    Signal("quality_policy_lines_ratio", _R, C4, "C4 drops such lines",
           "share of lines with 'terms of use', 'privacy policy', 'cookie policy', "
           "'uses cookies', 'use of cookies' or 'use cookies'"),
    Signal("quality_curly_bracket", _B, C4, "false", "the text contains '{'"),
    Signal("quality_line_punct_ratio", _R, FINEWEB, ">= 0.12",
           "share of lines ending in terminal punctuation"),
    Signal("quality_short_lines_ratio", _R, FINEWEB, "<= 0.67",
           "share of lines of at most 30 characters"),
    Signal("quality_newline_word_ratio", _R, FINEWEB, "<= 0.3",
           "newline characters per word (list-like documents score high)"),
)  # fmt: skip

BY_NAME = {s.name: s for s in SIGNALS}
