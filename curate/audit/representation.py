"""The representation section: who is mentioned, how often, and gendered pronouns per language.

>>> from curate.audit.tally import ColumnTally, GroupCounts
>>> t = ColumnTally(threshold=0.5, documents=100)
>>> t.groups = {"gender/female": GroupCounts(docs=40), "gender/male": GroupCounts(docs=50)}
>>> s = representation_section(t, None, min_documents=30)
>>> s["axes"]["gender"]["max_min_ratio"]
1.25
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import polars as pl

from curate.audit.stats import effective_number, entropy, wilson
from curate.audit.tally import ColumnTally
from curate.audit.tokens import Tokens

#: Gendered third-person pronouns per language: male, female, and gender-neutral where the
#: language has a distinct form. Languages whose pronouns are ambiguous (German "sie" is both
#: "she" and "they") are left out rather than miscounted.
PRONOUNS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "male": ("he", "him", "his", "himself"),
        "female": ("she", "her", "hers", "herself"),
        "neutral": ("they", "them", "their", "theirs", "themselves", "themself"),
    },
    "fr": {"male": ("il",), "female": ("elle",), "neutral": ("iel",)},
    "es": {"male": ("él",), "female": ("ella",), "neutral": ("elle",)},
    "pt": {"male": ("ele",), "female": ("ela",), "neutral": ("elu",)},
    "it": {"male": ("lui", "egli"), "female": ("lei", "ella"), "neutral": ()},
    "sv": {"male": ("han",), "female": ("hon",), "neutral": ("hen",)},
}
_ALL_PRONOUNS = sorted({w for table in PRONOUNS.values() for ws in table.values() for w in ws})

METHOD = (
    "A document mentions a group when the identity lexicon matches it (`identities` column). "
    "Share = documents mentioning the group / all documents, with a 95% Wilson score interval. "
    "Per axis, entropy (bits) and the effective number of groups are computed over mention "
    "counts, and the max/min ratio over groups with enough documents. Groups mentioned in fewer "
    "than {min_documents} documents are marked insufficient and get no ratio. Pronoun counts are "
    "token counts of the listed third-person pronouns, per language of the `lang` column."
)


class PronounTally:
    """Token counts of gendered pronouns per (language, pronoun)."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()

    def update(self, tokens: Tokens, langs: pl.Series) -> None:
        words = pl.Series("w", tokens.words)
        hit = words.is_in(_ALL_PRONOUNS).to_numpy()
        if not hit.any():
            return
        mask = hit[tokens.word_ids]
        rows = (
            pl.DataFrame(
                {
                    "lang": langs.gather(tokens.doc[mask]),
                    "word": words.gather(tokens.word_ids[mask]),
                }
            )
            .group_by("lang", "word")
            .len()
        )
        for lang, word, count in rows.iter_rows():
            self.counts[(str(lang), str(word))] += int(count)

    def section(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for lang, table in PRONOUNS.items():
            classes = {c: sum(self.counts[(lang, w)] for w in ws) for c, ws in table.items()}
            total = sum(classes.values())
            if total == 0:
                continue
            out[lang] = {
                "counts": classes,
                "shares": {c: n / total for c, n in classes.items()},
                "male_female_ratio": classes["male"] / classes["female"]
                if classes["female"]
                else None,
                "words": {c: list(ws) for c, ws in table.items()},
            }
        return out


def _axes(groups: dict[str, dict[str, Any]], min_documents: int) -> dict[str, Any]:
    by_axis: dict[str, dict[str, int]] = {}
    for name, row in groups.items():
        axis = name.split("/", 1)[0]
        by_axis.setdefault(axis, {})[name] = row["documents"]
    out: dict[str, Any] = {}
    for axis, counts in sorted(by_axis.items()):
        values = np.array(list(counts.values()), dtype=np.float64)
        enough = {g: n for g, n in counts.items() if n >= min_documents}
        ratio = None
        if len(enough) >= 2:
            ratio = max(enough.values()) / min(enough.values())
        out[axis] = {
            "groups": len(counts),
            "mentions": int(values.sum()),
            "entropy_bits": entropy(values),
            "normalized_entropy": entropy(values) / np.log2(len(counts))
            if len(counts) > 1
            else None,
            "effective_groups": effective_number(values) if values.sum() else 0.0,
            "max_min_ratio": ratio,
            "max_group": max(enough, key=lambda g: enough[g]) if len(enough) >= 2 else None,
            "min_group": min(enough, key=lambda g: enough[g]) if len(enough) >= 2 else None,
            "insufficient": sorted(g for g, n in counts.items() if n < min_documents),
        }
    return out


def group_rows(
    tally: ColumnTally, *, min_documents: int, known: tuple[str, ...] = ()
) -> dict[str, dict[str, Any]]:
    """Per ``axis/group``: documents, share and its Wilson interval (known groups included)."""
    names = sorted(set(tally.groups) | set(known))
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        counts = tally.groups.get(name)
        docs = counts.docs if counts else 0
        lo, hi = wilson(docs, tally.documents)
        out[name] = {
            "documents": docs,
            "share": docs / tally.documents if tally.documents else 0.0,
            "ci95": [lo, hi],
            "insufficient": docs < min_documents,
        }
    return out


def representation_section(
    tally: ColumnTally,
    pronouns: PronounTally | None,
    *,
    min_documents: int,
    known: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The representation section of ``audit.json``."""
    groups = group_rows(tally, min_documents=min_documents, known=known)
    return {
        "method": METHOD.format(min_documents=min_documents),
        "documents": tally.documents,
        "documents_with_identity": tally.with_identity,
        "groups": groups,
        "axes": _axes(groups, min_documents),
        "pronouns": pronouns.section() if pronouns is not None else None,
    }
