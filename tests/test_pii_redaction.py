"""``redact.pii``: what is replaced, the near-misses that are not, and the stage contract."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.pii import Redactor, luhn_ok
from curate.stages import get_stage
from curate.stages.redact_pii import RedactPii

REDACT = Redactor()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail jane.doe+news@mail.corp.co.uk now", "mail <EMAIL> now"),
        ("End with bob@corp.io.", "End with <EMAIL>."),
        ("server 192.168.10.254 and 8.8.8.8", "server <IP_ADDRESS> and <IP_ADDRESS>"),
        ("v6 2001:db8:85a3::8a2e:370:7334 here", "v6 <IP_ADDRESS> here"),
        ("call +1 (415) 555-0132!", "call <PHONE>!"),
        ("(415) 555-0132 / 415.555.0132 / 415 555 0132", "<PHONE> / <PHONE> / <PHONE>"),
        ("Tel. +49 30 1234567 oder 030 1234567", "Tel. <PHONE> oder <PHONE>"),
        ("appelez le 06 12 34 56 78", "appelez le <PHONE>"),
        ("+44 20 7946 0958", "<PHONE>"),
        ("visa 4111 1111 1111 1111 ok", "visa <CREDIT_CARD> ok"),
        ("mc 5555-5555-5555-4444", "mc <CREDIT_CARD>"),
        ("amex 378282246310005", "amex <CREDIT_CARD>"),
    ],
)
def test_replaced(text: str, expected: str) -> None:
    out, count = REDACT.redact(text)
    assert out == expected
    assert count == expected.count("<")
    # The column path screens documents first; the screens must not lose a match.
    column, counts = REDACT.redact_arrow(pa.array([text]))
    assert column.to_pylist() == [expected] and counts.to_pylist() == [count]


@pytest.mark.parametrize(
    "text",
    [
        "Released version 1.2.3.4 and v10.0.0.1 today.",
        "Upgrade from 2.10.1 to 2.11.0, build 1.0.0.0",
        "The range 1.2.3.4.5 is not an address.",
        "999.1.1.1 and 01.02.03.04 are not valid IPv4.",
        "Dates: 2023-05-12, 12.05.2023, 01-05-2023, 05/12/2023, 1990-2000.",
        "At 12:30:45 we used std::vector and a::b::c.",
        "ISBN 978-3-16-148410-0 and 0-201-53082-1; population 1,234,567.",
        "See example.com, www.example.org and https://example.net/page.",
        "Card-like 4111 1111 1111 1112 fails Luhn; 1234567812345670 is no network.",
        "Mixed separators 4111-1111 1111 1111 are not a card.",
        "Order #1234567 and zip 94103 and 555-0132.",
        "user@localhost is fine, so is @handle and a@b",
    ],
)
def test_near_misses_are_kept(text: str) -> None:
    assert REDACT.redact(text) == (text, 0)


def test_example_domains_can_be_kept() -> None:
    text = "Write to alice@example.com, bob@mail.example.org or eve@host.test."
    assert REDACT.redact(text) == ("Write to <EMAIL>, <EMAIL> or <EMAIL>.", 3)
    assert Redactor(keep_example_domains=True).redact(text) == (text, 0)
    assert Redactor(keep_example_domains=True).redact("a@corp.io") == ("<EMAIL>", 1)


def test_kinds_and_placeholder() -> None:
    only_email = Redactor(kinds=["email"], placeholder="[{kind}]")
    assert only_email.redact("a@corp.io 10.0.0.1") == ("[EMAIL] 10.0.0.1", 1)


def test_luhn() -> None:
    assert luhn_ok("79927398713") and not luhn_ok("79927398710")


def test_stage_rewrites_text_and_counts() -> None:
    assert get_stage("redact.pii") is RedactPii
    stage = RedactPii()
    assert stage.writes() == ("text", "pii_count")
    assert stage.plan({"id": pa.string(), "text": pa.string()})["pii_count"] == pa.int64()
    batch = pa.record_batch(
        {
            "id": ["1", "2", "3"],
            "text": pa.array(["x@corp.io and 10.0.0.1", None, "nothing"], pa.string()),
            "url": ["u1", "u2", "u3"],
        }
    )
    out = next(iter(stage([batch])))
    assert out.column("text").to_pylist() == ["<EMAIL> and <IP_ADDRESS>", None, "nothing"]
    assert out.column("pii_count").to_pylist() == [2, 0, 0]
    assert out.column("url").to_pylist() == ["u1", "u2", "u3"]
    assert out.schema.field("text").type == pa.string()


def test_invalid_parameters() -> None:
    with pytest.raises(ValueError, match="placeholder"):
        RedactPii(placeholder="<{name}>")
    with pytest.raises(ValueError):
        RedactPii(kinds=["ssn"])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        RedactPii(kinds=[])


_STAGE = RedactPii()
_PII = st.sampled_from(["bob@corp.io", "10.1.2.3", "+1 415 555 0132", "4111 1111 1111 1111"])
_PLAIN = st.text(
    alphabet=st.characters(codec="utf-8", blacklist_characters="@0123456789:"), max_size=30
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.lists(st.one_of(_PLAIN, _PII), max_size=6)), max_size=8))
def test_keeps_rows_and_counts_every_replacement(docs: list[list[str] | None]) -> None:
    texts = [None if d is None else " ".join(d) for d in docs]
    batch = pa.record_batch(
        {"id": [str(i) for i in range(len(texts))], "text": pa.array(texts, pa.string())}
    )
    out = next(iter(_STAGE([batch])))
    assert out.num_rows == batch.num_rows
    for before, after, count, parts in zip(
        texts, out.column("text").to_pylist(), out.column("pii_count").to_pylist(), docs
    ):
        if before is None:
            assert after is None and count == 0
            continue
        assert parts is not None
        planted = sum(
            1
            for p in parts
            if p in ("bob@corp.io", "10.1.2.3", "+1 415 555 0132", "4111 1111 1111 1111")
        )
        assert count == planted
        assert not any(p in after for p in ("bob@corp.io", "10.1.2.3", "4111 1111 1111 1111"))


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", blacklist_characters="@"), max_size=60))
def test_text_without_pii_markers_is_unchanged(text: str) -> None:
    digits_free = "".join(c for c in text if not c.isdigit())
    assert REDACT.redact(digits_free) == (digits_free, 0)
