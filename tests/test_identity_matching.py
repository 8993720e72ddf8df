"""The vectorised identity matcher: known answers and properties."""

from __future__ import annotations

import re

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.identity import IdentityMatcher, Lexicon, load_lexicons
from curate.identity.lexicon import parse_yaml_lexicon
from curate.identity.matcher import normalise


@pytest.fixture(scope="module")
def english() -> IdentityMatcher:
    return IdentityMatcher(load_lexicons(["en"]))


@pytest.fixture(scope="module")
def everything() -> IdentityMatcher:
    return IdentityMatcher(load_lexicons(["en", "de", "fr", "es", "zh"]))


@pytest.mark.parametrize(
    ("text", "labels", "counts"),
    [
        (
            "Two Muslim women met a Christian woman.",
            ["gender/female", "religion/christian", "religion/muslim"],
            [2, 1, 1],
        ),
        ("MUSLIMS, muslims and Muslim's", ["religion/muslim"], [3]),
        ("The ladies' club and a lady", ["gender/female"], [2]),
        ("human rights in Germany, mankind, manly, Oman", [], []),
        ("An African-American and an african  american", ["race_ethnicity/black"], [2]),
        ("Asian American voters", ["race_ethnicity/asian"], [1]),
        ("a trans woman spoke", ["gender/female", "gender_identity/transgender"], [1, 1]),
        ("an old man", ["age/old", "gender/male"], [1, 1]),
        ("women’s rights and women's rights", ["gender/female"], [2]),
        ("LGBTQ+ youth", ["age/teen", "sexual_orientation/lgbtq"], [1, 1]),
        ("hard-of-hearing people", ["disability/deaf"], [1]),
        ("wives and husbands", ["gender/female", "gender/male"], [1, 1]),
        ("", [], []),
    ],
)
def test_known_answers(
    english: IdentityMatcher, text: str, labels: list[str], counts: list[int]
) -> None:
    assert english.match([text]) == ([labels], [counts])


def test_other_languages(everything: IdentityMatcher) -> None:
    texts = [
        "Die Musliminnen und ein Mann sprachen mit Christen.",
        "Les femmes musulmanes et l'homme juif.",
        "Las mujeres judías y los hombres.",
        "三个穆斯林女性和一个基督徒",
    ]
    labels, _ = everything.match(texts, ["de", "fr", "es", "zh"])
    assert labels == [
        ["gender/male", "religion/christian", "religion/muslim"],
        ["gender/female", "gender/male", "religion/jewish", "religion/muslim"],
        ["gender/female", "gender/male", "religion/jewish"],
        ["gender/female", "religion/christian", "religion/muslim"],
    ]


def test_terms_count_only_in_their_own_language(everything: IdentityMatcher) -> None:
    texts = ["Jude Law will christen the ship", "Christen und Juden", "Christen und Juden"]
    labels, _ = everything.match(texts, ["en", "de", None])
    assert labels == [
        [],
        ["religion/christian", "religion/jewish"],
        ["religion/christian", "religion/jewish"],
    ]
    # Without languages every lexicon applies everywhere: the cross-language false positives.
    assert everything.match(texts[:1])[0] == [["religion/christian", "religion/jewish"]]


def test_a_form_in_two_lexicons_counts_once(tmp_path: object) -> None:
    a = parse_yaml_lexicon(
        {"language": "en", "axes": {"religion": {"muslim": ["islam"]}}}, source="a"
    )
    b = parse_yaml_lexicon(
        {"language": "mul", "axes": {"religion": {"muslim": ["Islam"]}}}, source="b"
    )
    matcher = IdentityMatcher(a + b)
    assert matcher.match(["Islam and islam"], ["en"]) == ([["religion/muslim"]], [[2]])
    assert matcher.match(["Islam"], ["fr"]) == ([["religion/muslim"]], [[1]])


def test_excluding_flags(english: IdentityMatcher) -> None:
    strict = IdentityMatcher(load_lexicons(["en"]).without(["ambiguous"]))
    text = "a black cat and a Black woman"
    assert english.match([text])[0] == [["gender/female", "race_ethnicity/black"]]
    assert strict.match([text])[0] == [["gender/female"]]


def test_arrow_types_and_nulls(english: IdentityMatcher) -> None:
    labels, counts = english.match_arrow(pa.array(["a girl", None, "nothing"]))
    assert labels.type == pa.list_(pa.string()) and counts.type == pa.list_(pa.int64())
    assert labels.to_pylist() == [["gender/female"], [], []]
    assert english.match_arrow(pa.array([], pa.string()))[0].to_pylist() == []


def test_empty_lexicon_matches_nothing() -> None:
    assert IdentityMatcher(Lexicon(())).match(["women"]) == ([[]], [[]])


# A plain-Python reference: tokenise on non-word characters, try the longest form first.
def _reference(lexicon: Lexicon, text: str) -> dict[str, int]:
    forms: dict[str, set[str]] = {}
    for term in lexicon.terms:
        for form in term.forms:
            forms.setdefault(normalise(form), set()).add(term.label)
    words = re.findall(r"[A-Za-z0-9_']+", text)
    counts: dict[str, int] = {}
    i = 0
    longest = max(len(k.split()) for k in forms)
    while i < len(words):
        for size in range(longest, 0, -1):
            key = normalise(" ".join(words[i : i + size]))
            if size <= len(words) - i and key in forms:
                for label in forms[key]:
                    counts[label] = counts.get(label, 0) + 1
                i += size
                break
        else:
            i += 1
    return counts


_EN = load_lexicons(["en"])
_VOCAB = sorted({f for t in _EN.terms for f in t.forms if "'" not in f and "+" not in f})
_FILLER = ["the", "a", "of", "man-made", "humans", "Germany", "germane", "many", "x1", "42"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(_VOCAB + _FILLER),
            st.sampled_from([" ", "  ", ", ", ". ", "\n", " (", ") "]),
            st.sampled_from(["lower", "upper", "title"]),
        ),
        max_size=25,
    )
)
def test_matches_a_plain_python_reference(
    english: IdentityMatcher, parts: list[tuple[str, str, str]]
) -> None:
    text = "".join(getattr(w, case)() + sep for w, sep, case in parts)
    labels, counts = english.match([text])
    assert dict(zip(labels[0], counts[0])) == _reference(_EN, text)
    assert labels[0] == sorted(set(labels[0]))
