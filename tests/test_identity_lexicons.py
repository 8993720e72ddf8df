"""Lexicon files: the built-in YAML lexicons, user lexicons and HolisticBias descriptors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curate.errors import DataError
from curate.identity import CORE_AXES, IdentityMatcher, builtin_names, load_lexicon, load_lexicons
from curate.identity.lexicon import english_plurals


def test_builtin_lexicons_cover_the_required_axes() -> None:
    assert set(builtin_names()) >= {"en", "de", "fr", "es", "zh"}
    english = load_lexicon("en")
    assert set(CORE_AXES) <= {t.axis for t in english.terms}
    for name in ("de", "fr", "es", "zh"):
        lexicon = load_lexicon(name)
        assert {t.language for t in lexicon.terms} == {name}
        axes = {t.label for t in lexicon.terms}
        for label in (
            "gender/female",
            "gender/male",
            "religion/christian",
            "religion/muslim",
            "religion/jewish",
        ):
            assert label in axes, (name, label)


def test_flagged_terms_explain_themselves() -> None:
    for name in builtin_names():
        for term in load_lexicon(name).terms:
            if term.flag == "ambiguous":
                assert term.note, f"{name}: {term.term} is ambiguous without a note"
    slurs = {t.term for t in load_lexicon("en").terms if t.flag == "slur"}
    assert {"faggot", "kike", "retard"} <= slurs


def test_every_builtin_form_is_matched_by_itself() -> None:
    for name in builtin_names():
        lexicon = load_lexicon(name)
        matcher = IdentityMatcher(lexicon)
        forms = [(f, t.label) for t in lexicon.terms for f in t.forms]
        labels, _ = matcher.match([f for f, _ in forms], [name] * len(forms))
        for (form, label), found in zip(forms, labels):
            assert label in found, (name, form, label, found)


@pytest.mark.parametrize(
    ("word", "plural"),
    [
        ("woman", "women"),
        ("lady", "ladies"),
        ("boy", "boys"),
        ("German", "Germans"),
        ("sikh", "sikhs"),
        ("wheelchair user", "wheelchair users"),
        ("actress", "actresses"),
    ],
)
def test_english_plurals(word: str, plural: str) -> None:
    assert english_plurals(word) == [plural]


def test_user_yaml_lexicon(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        "name: mine\nlanguage: en\naxes:\n"
        "  occupation:\n"
        "    nurse: [nurse, {term: midwife, forms: [midwives], plural: false}]\n",
        encoding="utf-8",
    )
    lexicon = load_lexicons(["en", str(path)])
    matcher = IdentityMatcher(lexicon)
    assert matcher.match(["Nurses and midwives"])[0] == [["occupation/nurse"]]
    assert str(path) in lexicon.sources


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("language: en\naxes: {gender: {female: [{term: x, flag: rude}]}}", "flag 'rude'"),
        ("language: en\naxes: {gender: {female: [{term: x, colour: red}]}}", "unknown key"),
        ("axes: {gender: {female: [woman]}}", "`language` is missing"),
        ("language: en\nterms: [woman]", "needs a mapping"),
        ("language: en\naxes: {Gender: {female: [woman]}}", "lower-case"),
        ("language: en\naxes: {gender: {female: [3]}}", "a term must be"),
        ("language: en\naxes: {gender: {female: [{term: x, forms: y}]}}", "forms must be"),
        ("language: en\naxes: [", "cannot parse"),
    ],
)
def test_malformed_lexicons_name_the_problem(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(DataError, match=message) as err:
        load_lexicon(path)
    assert str(path) in str(err.value)


def test_unknown_name_lists_the_builtins() -> None:
    with pytest.raises(DataError, match=r"built-in lexicons: de, en"):
        load_lexicon("klingon")
    with pytest.raises(DataError, match="not found"):
        load_lexicon("/nope/lexicon.yaml")
    with pytest.raises(DataError, match="no lexicon"):
        load_lexicons([])


def test_holisticbias_format(tmp_path: Path) -> None:
    path = tmp_path / "descriptors.json"
    data = {
        "ability": {"auditory": [{"descriptor": "Deaf", "preference": "reviewed"}]},
        "religion": {"all": ["Catholic", {"descriptor": "Jedi", "preference": "polarizing"}]},
        "nonce": {"all": ["blicket"]},
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    lexicon = load_lexicon(path)
    assert lexicon.labels() == ["disability/auditory", "religion/all"]
    jedi = next(t for t in lexicon.terms if t.term == "Jedi")
    assert jedi.note == "HolisticBias preference: polarizing"
    matcher = IdentityMatcher(lexicon)
    assert matcher.match(["two Catholics and a blicket"])[0] == [["religion/all"]]


@pytest.mark.shared
def test_real_holisticbias_descriptors(shared_dir: Path) -> None:
    path = shared_dir / "data" / "holisticbias" / "v1.1" / "descriptors.json"
    lexicon = load_lexicon(path)
    axes = {t.axis for t in lexicon.terms}
    assert {"disability", "gender", "religion", "race_ethnicity"} <= axes
    assert "nonce" not in axes
    labels, _ = IdentityMatcher(lexicon).match(["I'm a hard-of-hearing Buddhist grandparent."])
    assert {"disability/auditory", "religion/all"} <= set(labels[0])
