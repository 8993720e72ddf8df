"""``identity_terms``: each match's group, term and kind, consistent with ``identities``."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.identity import IdentityMatcher, load_lexicons

LEXICON = load_lexicons(["en", "de"])
MATCHER = IdentityMatcher(LEXICON)
FORMS = sorted({f for t in LEXICON.terms for f in t.forms if t.language == "en"})[:400]
FLAGS = {(t.label, t.term): t.flag or "identity" for t in LEXICON.terms}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.sampled_from([*FORMS, "and", "the cat"]), max_size=6), max_size=8))
def test_detail_agrees_with_identities(docs: list[list[str]]) -> None:
    texts = [" ".join(words) for words in docs]
    langs = ["en"] * len(texts)
    identities, _ = MATCHER.match(texts, langs)
    detail = MATCHER.match_terms(texts, langs)
    assert len(detail) == len(texts)
    for groups, entries in zip(identities, detail):
        assert sorted({e["group"] for e in entries}) == groups
        keys = [(e["group"], e["term"]) for e in entries]
        assert keys == sorted(set(keys))
        assert all(FLAGS[k] == e["kind"] for k, e in zip(keys, entries))


def test_kinds_of_known_words() -> None:
    detail = MATCHER.match_terms(["the redskins and a black queen", "Mann und Frau"], ["en", "de"])
    kinds = {(e["term"], e["kind"]) for e in detail[0]}
    assert ("black", "ambiguous") in kinds and ("queen", "ambiguous") in kinds
    assert ("redskin", "slur") in kinds
    assert [e["term"] for e in detail[1]] == ["Frau", "Mann"]


def test_language_gating_applies_to_the_detail() -> None:
    # German "Christen" is no English term; in an English document it matches nothing German.
    detail = MATCHER.match_terms(["Christen sind hier"], ["en"])
    assert all(e["term"] != "Christ" for e in detail[0])
    assert MATCHER.match_terms([None], ["en"]) == [[]]


@pytest.mark.parametrize("text", ["", "nothing at all"])
def test_no_match_no_entries(text: str) -> None:
    assert MATCHER.match_terms([text]) == [[]]
