"""Find and replace personal data: e-mail addresses, IP addresses, phone numbers, card numbers.

Each kind is a regular expression for candidates plus a check that rejects near-misses:

* ``email``: ``local@domain.tld``; a bare domain or URL (``example.com``) is not an address.
  Addresses at the documentation domains reserved by RFC 2606 and RFC 6761
  (``example.com``/``.net``/``.org``, ``.example``, ``.test``, ``.invalid``, ``.localhost``)
  are redacted too unless ``keep_example_domains`` is set: a text may use them for a real
  person's address, and replacing a placeholder costs nothing.
* ``ip``: IPv4 with every octet in 0-255 and no leading zeros, not part of a longer dotted
  number and not after "version"/"v" (``v1.2.3.4``); IPv6 as validated by :mod:`ipaddress`
  with at least three groups, so clock times (``12:30:45``) and ``std::vector`` are left alone.
* ``phone``: international numbers starting with ``+`` (8-15 digits), North American
  ``(415) 555-0132`` / ``415-555-0132`` / ``415.555.0132``, and national numbers starting with
  a trunk ``0`` and 9-12 digits (``030 1234567``, ``06 12 34 56 78``). Dates such as
  ``01-05-2023`` have too few digits; bare local numbers (``555-0132``) are not caught.
* ``credit_card``: 13-19 digits, optionally in groups split by single spaces or dashes, first
  digit 2-6 (the major card networks) and a valid Luhn checksum.

Documents are first screened with one vectorised Polars regex per kind; only the kinds a
document could hold go through the Python checks for it.

>>> r = Redactor()
>>> r.redact("Mail bob@corp.io or call +1 415 555 0132 from 10.0.0.7; v1.2.3.4 is fine.")
('Mail <EMAIL> or call <PHONE> from <IP_ADDRESS>; v1.2.3.4 is fine.', 3)
>>> r.redact("Card 4111 1111 1111 1111, not 4111 1111 1111 1112; see example.com")
('Card <CREDIT_CARD>, not 4111 1111 1111 1112; see example.com', 1)
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
import polars as pl
import pyarrow as pa

Kind = Literal["email", "ip", "phone", "credit_card"]
KINDS: tuple[Kind, ...] = ("email", "credit_card", "ip", "phone")
#: Placeholder names, filled into ``placeholder``'s ``{kind}``.
LABELS: dict[Kind, str] = {
    "email": "EMAIL",
    "ip": "IP_ADDRESS",
    "phone": "PHONE",
    "credit_card": "CREDIT_CARD",
}

_EXAMPLE_DOMAIN = re.compile(
    r"(?:^|\.)(?:example\.(?:com|net|org)|[^.]+\.(?:example|test|invalid|localhost))$|"
    r"^(?:example|test|invalid|localhost)$",
    re.IGNORECASE,
)
_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}"
    r"@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24})(?![\w-])"
)
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"(?<![\w.])(?:{_OCTET}\.){{3}}{_OCTET}(?![\w]|\.\d)")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_VERSION_BEFORE = re.compile(r"\b(?:version|release|ver\.?|build)\s*$", re.IGNORECASE)
_PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}"
    r"|\(\d{3}\) ?\d{3}[ .-]\d{4}"
    r"|\d{3}([.-])\d{3}\1\d{4}|\d{3} \d{3} \d{4}"
    r"|0\d{1,4}(?:[ /-]\d{2,8}){1,4}"
    r")(?!\w|[.-]\d)"
)
_CARD = re.compile(r"(?<![\w.-])\d+(?:[ -]\d+)*(?![\w]|-\d)")
#: Longest run of digit groups examined for a card number inside one candidate.
_MAX_GROUPS = 64
#: Cheap screens run by Polars over the whole column: a document that fails a kind's screen
#: cannot hold a match of that kind, so that kind's Python pass is skipped for it.
_SCREENS: dict[Kind, str] = {
    "email": r"@[A-Za-z0-9-]+\.[A-Za-z]",
    "credit_card": r"\d(?:[ -]?\d){12}",
    "ip": r"\d\.\d{1,3}\.\d{1,3}\.\d|[0-9A-Fa-f]*:[0-9A-Fa-f]*:[0-9A-Fa-f]",
    "phone": r"\+\d|\(\d{3}\)|\d{3}[ .\-]\d{3}[ .\-]\d{4}|0\d{1,4}[ /\-]\d{2}",
}

#: A check gets a candidate match and returns the spans of it to replace (none: keep it).
Check = Callable[[re.Match[str]], "list[tuple[int, int]]"]


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum of a string of digits.

    >>> luhn_ok("4111111111111111"), luhn_ok("4111111111111112")
    (True, False)
    """
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _whole(match: re.Match[str]) -> list[tuple[int, int]]:
    return [(0, len(match.group(0)))]


def _card(match: re.Match[str]) -> list[tuple[int, int]]:
    """Runs of whole digit groups in the candidate that are card numbers, left to right.

    A candidate may carry neighbouring numbers ("room 2 4111 1111 1111 1111") or several
    cards in a row, so runs of consecutive groups are tried, longest first from each group.
    """
    text = match.group(0)
    groups = [(m.start(), m.end()) for m in re.finditer(r"\d+", text)][:_MAX_GROUPS]
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(groups):
        found = None
        digits = ""
        for j in range(i, len(groups)):
            digits += text[groups[j][0] : groups[j][1]]
            if len(digits) > 19:
                break
            start, end = groups[i][0], groups[j][1]
            if (
                len(digits) >= 13
                and len(set(re.sub(r"\d", "", text[start:end]))) <= 1
                and digits[0] in "23456"
                and luhn_ok(digits)
            ):
                found = (j, (start, end))
        if found is None:
            i += 1
        else:
            spans.append(found[1])
            i = found[0] + 1
    return spans


def _phone(match: re.Match[str]) -> list[tuple[int, int]]:
    text = match.group(0)
    n = sum(c.isdigit() for c in text)
    if text.startswith("+"):
        ok = 8 <= n <= 15
    elif text.startswith("0"):
        ok = 9 <= n <= 12
    else:
        ok = n == 10
    return _whole(match) if ok else []


def _ipv4(match: re.Match[str]) -> list[tuple[int, int]]:
    before = match.string[max(0, match.start() - 12) : match.start()]
    return [] if _VERSION_BEFORE.search(before) else _whole(match)


def _ipv6(match: re.Match[str]) -> list[tuple[int, int]]:
    text = match.group(0)
    if sum(1 for g in text.split(":") if g) < 3:
        return []
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return []
    return _whole(match)


class Redactor:
    """Replaces personal data of the chosen kinds with typed placeholders such as ``<EMAIL>``."""

    def __init__(
        self,
        *,
        kinds: Sequence[Kind] = KINDS,
        placeholder: str = "<{kind}>",
        keep_example_domains: bool = False,
    ) -> None:
        self.kinds = tuple(k for k in KINDS if k in kinds)
        self.placeholder = placeholder
        self.keep_example_domains = keep_example_domains

    def _email(self, match: re.Match[str]) -> list[tuple[int, int]]:
        if self.keep_example_domains and _EXAMPLE_DOMAIN.search(match.group(1)):
            return []
        return _whole(match)

    def _passes(self, kinds: Sequence[Kind]) -> list[tuple[re.Pattern[str], Check, str]]:
        table: dict[Kind, list[tuple[re.Pattern[str], Check]]] = {
            "email": [(_EMAIL, self._email)],
            "credit_card": [(_CARD, _card)],
            "ip": [(_IPV4, _ipv4), (_IPV6, _ipv6)],
            "phone": [(_PHONE, _phone)],
        }
        return [
            (pattern, check, self.placeholder.format(kind=LABELS[kind]))
            for kind in self.kinds
            if kind in kinds
            for pattern, check in table[kind]
        ]

    def redact(self, text: str, *, kinds: Sequence[Kind] | None = None) -> tuple[str, int]:
        """``text`` with every accepted match replaced, and how many were replaced.

        ``kinds`` narrows the redactor's own kinds (to those a screen could not rule out).
        """
        count = 0
        for pattern, check, replacement in self._passes(self.kinds if kinds is None else kinds):

            def swap(m: re.Match[str], check: Check = check, replacement: str = replacement) -> str:
                nonlocal count
                found = m.group(0)
                for start, end in reversed(check(m)):
                    found = found[:start] + replacement + found[end:]
                    count += 1
                return found

            text = pattern.sub(swap, text)
        return text, count

    def redact_arrow(self, texts: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
        """Redact a column: the rewritten strings and an ``int64`` count per row (0 for null)."""
        series = pl.Series(texts).cast(pl.String)
        flags = (
            np.column_stack(
                [series.str.contains(_SCREENS[k]).fill_null(False).to_numpy() for k in self.kinds]
            )
            if len(series)
            else np.zeros((0, len(self.kinds)), dtype=bool)
        )
        screened = np.flatnonzero(flags.any(axis=1))
        counts = np.zeros(len(series), dtype=np.int64)
        if len(screened):
            rewritten = []
            for i, value in zip(screened, series.gather(screened).to_list()):
                kinds = [k for k, flagged in zip(self.kinds, flags[i]) if flagged]
                new_text, counts[i] = self.redact(value, kinds=kinds)
                rewritten.append(new_text)
            series = series.scatter(screened, pl.Series(rewritten, dtype=pl.String))
        return series.to_arrow().cast(pa.string()), pa.array(counts, type=pa.int64())
