"""``redact.pii``: replace e-mail addresses, IP addresses, phone numbers and card numbers.

Not a filter: every row is kept, ``text`` is rewritten with typed placeholders and ``pii_count``
says how many replacements each row got, so a later ``filter`` can still drop rows that were
full of personal data. What counts as a match, and the near-misses left alone, are described in
:mod:`curate.pii`.
"""

from __future__ import annotations

from typing import ClassVar

import pyarrow as pa
from pydantic import Field, field_validator

from curate import schema
from curate.pii import KINDS, LABELS, Kind, Redactor
from curate.stage import MapStage, set_column


class RedactPii(MapStage):
    """Rewrite ``text`` with placeholders for personal data; add ``pii_count``.

    >>> import pyarrow as pa
    >>> b = pa.record_batch({"id": ["1"], "text": ["write to ann@corp.io or 10.1.2.3"]})
    >>> out = next(iter(RedactPii()([b])))
    >>> out.column("text").to_pylist(), out.column("pii_count").to_pylist()
    (['write to <EMAIL> or <IP_ADDRESS>'], [2])
    """

    name: ClassVar[str] = "redact.pii"
    summary: ClassVar[str] = (
        "Replace e-mails, IPs, phone and card numbers with typed placeholders; pii_count."
    )

    kinds: list[Kind] = Field(
        list(KINDS),
        min_length=1,
        description="What to redact: email, credit_card (Luhn-checked), ip (IPv4 and IPv6), phone.",
    )
    placeholder: str = Field(
        "<{kind}>",
        description="Replacement text; {kind} becomes " + ", ".join(LABELS[k] for k in KINDS) + ".",
    )
    keep_example_domains: bool = Field(
        False,
        description="Leave addresses at reserved documentation domains (example.com/.net/.org, "
        ".example, .test, .invalid, .localhost) alone, for corpora of technical documentation "
        "where they are only placeholders.",
    )

    @field_validator("placeholder")
    @classmethod
    def _check_placeholder(cls, value: str) -> str:
        try:
            value.format(kind="EMAIL")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                f"placeholder {value!r} may only use the field {{kind}} ({exc})"
            ) from exc
        return value

    def writes(self) -> tuple[str, ...]:
        return (schema.TEXT, "pii_count")

    def output_fields(self) -> list[pa.Field]:
        return [schema.field("pii_count")]

    def redactor(self) -> Redactor:
        return Redactor(
            kinds=self.kinds,
            placeholder=self.placeholder,
            keep_example_domains=self.keep_example_domains,
        )

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        text, counts = self.redactor().redact_arrow(batch.column(schema.TEXT))
        return set_column(set_column(batch, schema.TEXT, text), "pii_count", counts)
