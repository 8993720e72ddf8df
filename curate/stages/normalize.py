"""``normalize``: Unicode normalisation, mojibake repair (ftfy) and whitespace clean-up.

ASCII documents need neither normalisation nor mojibake repair, so only non-ASCII documents go
through ftfy; whitespace is collapsed with vectorised regular expressions over the whole batch.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import ftfy
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from curate import schema
from curate.stage import MapStage, set_column


class Normalize(MapStage):
    """Rewrite ``text``: Unicode form, mojibake repair and whitespace, without dropping rows.

    >>> import pyarrow as pa
    >>> text = "  caf\u00c3\u00a9   au   lait \\n\\n\\n\\nfin "
    >>> b = pa.record_batch({"id": ["1"], "text": [text]})
    >>> next(iter(Normalize()([b]))).column("text").to_pylist()
    ['café au lait\\n\\nfin']
    """

    name: ClassVar[str] = "normalize"
    summary: ClassVar[str] = "Unicode normalisation (NFC), mojibake repair with ftfy, whitespace."

    form: Literal["NFC", "NFKC", "none"] = Field(
        "NFC", description="Unicode normalisation form; 'none' leaves code points as they are."
    )
    fix_mojibake: bool = Field(
        True, description="Repair text decoded with the wrong codec (ftfy), e.g. 'cafÃ©' -> 'café'."
    )
    whitespace: bool = Field(
        True,
        description="Collapse runs of spaces and tabs, trim lines, keep at most one blank line.",
    )

    def reads(self) -> tuple[str, ...]:
        return (schema.TEXT,)

    def writes(self) -> tuple[str, ...]:
        return (schema.TEXT,)

    def _config(self) -> ftfy.TextFixerConfig:
        return ftfy.TextFixerConfig(
            unescape_html=False,
            fix_encoding=self.fix_mojibake,
            fix_latin_ligatures=False,
            fix_character_width=False,
            uncurl_quotes=False,
            normalization=None if self.form == "none" else self.form,
            explain=False,
        )

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        text = batch.column(schema.TEXT)
        if self.fix_mojibake or self.form != "none":
            ascii_mask = pc.fill_null(pc.string_is_ascii(text), True)
            if not pc.all(ascii_mask).as_py():
                config = self._config()
                values = text.to_pylist()
                flags = ascii_mask.to_pylist()
                fixed = [
                    v if ok or v is None else ftfy.fix_text(v, config)
                    for v, ok in zip(values, flags)
                ]
                text = pa.array(fixed, type=pa.string())
        if self.whitespace:
            # RE2's \s is ASCII-only; \p{Zs} adds no-break and other Unicode spaces.
            text = pc.replace_substring_regex(text, r"[\t\x0B\f\r\p{Zs}]+", " ")
            text = pc.replace_substring_regex(text, r" ?\n ?", "\n")
            text = pc.replace_substring_regex(text, r"\n{3,}", "\n\n")
            text = pc.utf8_trim_whitespace(text)
        return set_column(batch, schema.TEXT, text)
