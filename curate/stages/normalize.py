"""``normalize``: Unicode normalisation, mojibake repair (ftfy) and whitespace clean-up.

ftfy is slow and most documents need nothing from it, so one RE2 search over the whole batch
decides which documents can contain what ftfy fixes, and only those go through ``ftfy.fix_text``.
The pattern is ftfy's own badness heuristic (``ftfy.badness.BADNESS_RE``, the test ftfy runs before
any re-decoding), rewritten for RE2 as a superset of it, together with every character another
enabled ftfy step would change: C1 and other control characters, line breaks other than ``\\n``,
terminal escapes, and ``&`` when HTML entities are unescaped. A document it does not match is
changed by no ftfy step, except normalisation: it goes to ftfy too unless it is already in the
Unicode form asked for (``unicodedata.is_normalized``, a quick check in C). The output is therefore
``ftfy.fix_text`` of every document, proved on the sample, the bench corpora and planted mojibake
in tests/test_quality_normalize.py. Whitespace is then collapsed with vectorised regular
expressions over the whole batch.
"""

from __future__ import annotations

import functools
import unicodedata
from typing import Any, ClassVar, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from curate import schema
from curate.stage import MapStage, set_column

Form = Literal["NFC", "NFKC", "none"]

# What ftfy's other steps change: fix_c1_controls, fix_line_breaks (\r, U+2028, U+2029; U+0085 is
# C1), remove_terminal_escapes (ESC is a control) and remove_control_chars (ftfy.chardata).
_CONTROLS = (
    r"[\x00-\x08\x0B\x0D-\x1F\x7F-\x9F\x{2028}\x{2029}\x{206A}-\x{206F}\x{FEFF}\x{FFF9}-\x{FFFC}]"
)


def _to_re2(verbose: str) -> str:
    """A Python verbose regular expression rewritten for RE2, matching at least as much.

    Whitespace and comments outside character classes go; ``\\s`` and ``\\w`` become any
    character and ``^`` is dropped, which only widens the match (ftfy applies the heuristic to
    each line, this search to the whole text, where ``^`` would not mark line starts).
    """
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(verbose):
        ch = verbose[i]
        if ch == "\\":
            pair = verbose[i : i + 2]
            out.append("(?s:.)" if pair in ("\\s", "\\w") and not in_class else pair)
            i += 2
            continue
        if in_class:
            out.append(ch)
            in_class = ch != "]" or verbose[i - 1] == "["
        elif ch == "[":
            out.append(ch)
            in_class = True
        elif ch == "#":
            i = verbose.find("\n", i)
            if i < 0:
                break
        elif ch != "^" and not ch.isspace():
            out.append(ch)
        i += 1
    return "".join(out)


@functools.cache
def suspect_pattern(*, fix_encoding: bool, unescape_html: bool) -> str:
    """The RE2 pattern of documents ftfy may change beyond normalisation."""
    parts = [_CONTROLS]
    if fix_encoding:
        from ftfy.badness import BADNESS_RE

        parts.append(_to_re2(BADNESS_RE.pattern))
    if unescape_html:
        parts.append("&")
    return "|".join(parts)


class Normalize(MapStage):
    """Rewrite ``text``: Unicode form, mojibake repair and whitespace, without dropping rows.

    >>> import pyarrow as pa
    >>> text = "  caf\u00c3\u00a9   au   lait \\n\\n\\n\\nfin &amp; "
    >>> b = pa.record_batch({"id": ["1"], "text": [text]})
    >>> next(iter(Normalize()([b]))).column("text").to_pylist()
    ['café au lait\\n\\nfin &amp;']
    >>> next(iter(Normalize(unescape_html=True)([b]))).column("text").to_pylist()
    ['café au lait\\n\\nfin &']
    """

    name: ClassVar[str] = "normalize"
    summary: ClassVar[str] = "Unicode normalisation (NFC), mojibake repair with ftfy, whitespace."

    form: Form = Field(
        "NFC", description="Unicode normalisation form; 'none' leaves code points as they are."
    )
    fix_mojibake: bool = Field(
        True, description="Repair text decoded with the wrong codec (ftfy), e.g. 'cafÃ©' -> 'café'."
    )
    unescape_html: bool = Field(
        False,
        description="Also decode HTML entities ('&amp;' -> '&', '&eacute;' -> 'é') with ftfy; off "
        "by default, since text about HTML quotes entities on purpose.",
    )
    whitespace: bool = Field(
        True,
        description="Collapse runs of spaces and tabs, trim lines, keep at most one blank line.",
    )

    def reads(self) -> tuple[str, ...]:
        return (schema.TEXT,)

    def writes(self) -> tuple[str, ...]:
        return (schema.TEXT,)

    def _config(self) -> Any:
        import ftfy

        return ftfy.TextFixerConfig(
            unescape_html=self.unescape_html,
            fix_encoding=self.fix_mojibake,
            fix_latin_ligatures=False,
            fix_character_width=False,
            uncurl_quotes=False,
            normalization=None if self.form == "none" else self.form,
            explain=False,
        )

    def needs_ftfy(self, text: pa.Array) -> npt.NDArray[np.bool_]:
        """Which texts ``ftfy.fix_text`` may change; the others it returns as they are."""
        pattern = suspect_pattern(fix_encoding=self.fix_mojibake, unescape_html=self.unescape_html)
        hit = pc.fill_null(pc.match_substring_regex(text, pattern), False)
        flags = np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)
        # ftfy cuts lines longer than this into pieces, which may split a combining sequence.
        from ftfy import TextFixerConfig

        long = pc.fill_null(
            pc.greater(pc.utf8_length(text), TextFixerConfig().max_decode_length), False
        )
        flags |= np.asarray(long.to_numpy(zero_copy_only=False), dtype=bool)
        if self.form != "none":
            ascii_ = pc.fill_null(pc.string_is_ascii(text), True).to_numpy(zero_copy_only=False)
            rows = np.flatnonzero(~flags & ~np.asarray(ascii_, dtype=bool))
            values = text.take(pa.array(rows)).to_pylist()
            form = self.form
            flags[rows] = [not unicodedata.is_normalized(form, v) for v in values]
        return flags

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        text = batch.column(schema.TEXT)
        if pa.types.is_string_view(text.type):  # no RE2 kernels for views
            text = text.cast(pa.large_string())
        if self.fix_mojibake or self.form != "none" or self.unescape_html:
            import ftfy

            rows = np.flatnonzero(self.needs_ftfy(text))
            if rows.size:
                config = self._config()
                fixed = [ftfy.fix_text(v, config) for v in text.take(pa.array(rows)).to_pylist()]
                mask = np.zeros(len(text), dtype=bool)
                mask[rows] = True
                text = pc.replace_with_mask(text, pa.array(mask), pa.array(fixed, text.type))
        if self.whitespace:
            # RE2's \s is ASCII-only; \p{Zs} adds no-break and other Unicode spaces.
            text = pc.replace_substring_regex(text, r"[\t\x0B\f\r\p{Zs}]+", " ")
            text = pc.replace_substring_regex(text, r" ?\n ?", "\n")
            text = pc.replace_substring_regex(text, r"\n{3,}", "\n\n")
            text = pc.utf8_trim_whitespace(text)
        return set_column(batch, schema.TEXT, text)
