"""Findings for a group whose count rests on one term: "all", "most", and not at half."""

from __future__ import annotations

from collections import Counter
from typing import Any

from curate.audit.mentions import dominant_term_findings, top_terms


def _group(docs: int, counts: dict[tuple[str, str], int], *, insufficient: bool = False) -> Any:
    tally = Counter({f"g\x1f{term}\x1f{kind}": n for (term, kind), n in counts.items()})
    return {"documents": docs, "insufficient": insufficient, "top_terms": top_terms(tally)["g"]}


def test_most_but_not_all_gives_the_count_and_share() -> None:
    found = dominant_term_findings({"g/a": _group(50, {("x", "slur"): 30, ("y", "identity"): 20})})
    assert found == ["30 of 50 (60%) documents mentioning g/a match 'x' (a slur)."]


def test_half_is_not_most() -> None:
    groups = {"g/a": _group(50, {("x", "identity"): 25, ("y", "identity"): 25})}
    assert dominant_term_findings(groups) == []


def test_insufficient_groups_get_no_finding() -> None:
    groups = {"g/a": _group(5, {("x", "ambiguous"): 5}, insufficient=True)}
    assert dominant_term_findings(groups) == []


def test_ambiguous_terms_and_slurs_come_first() -> None:
    groups = {
        "g/plain": _group(40, {("woman", "identity"): 40}),
        "g/amb": _group(40, {("black", "ambiguous"): 24, ("african", "identity"): 16}),
    }
    found = dominant_term_findings(groups)
    assert found[0].startswith("24 of 40 (60%) documents mentioning g/amb match 'black' (an ")
    assert found[1] == "All 40 documents mentioning g/plain match 'woman'."
