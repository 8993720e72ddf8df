"""Audit options: the recipe's ``audit:`` block and the keyword options of ``audit_dataset``.

>>> AuditOptions(toxicity_threshold=0.7).sections[:2]
['composition', 'representation']
>>> from pydantic import ValidationError
>>> try:
...     AuditOptions.model_validate({"thresold": 1})
... except ValidationError as exc:
...     print(exc.errors()[0]["type"], exc.errors()[0]["loc"])
extra_forbidden ('thresold',)
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Section = Literal[
    "composition", "representation", "association", "harm", "filter_impact", "probe", "compare"
]
SECTIONS: tuple[Section, ...] = (
    "composition",
    "representation",
    "association",
    "harm",
    "filter_impact",
    "probe",
    "compare",
)
#: Sections that need the documents' text (the others read only score columns).
TEXT_SECTIONS: frozenset[str] = frozenset({"composition", "association"})


class AuditOptions(BaseModel):
    """What to audit and how; every field is also a keyword of ``curate.audit.audit_dataset``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lexicons: list[str] = Field(
        default_factory=list,
        description="Identity lexicons (names or paths) for the `score.identity` stage; empty: "
        "reuse the `identities` column when present, else the stage's default lexicons.",
    )
    toxicity_column: str | None = Field(
        None,
        description="Column holding an existing toxicity score in [0, 1] or a 0/1 (or "
        "toxic/nontoxic) label, used instead of running `score.toxicity`.",
    )
    toxicity_threshold: float = Field(
        0.5, ge=0.0, le=1.0, description="A document is toxic when its score is at least this."
    )
    removed: list[Path] | None = Field(
        None,
        description="Removal ledger files or folders (Parquet); a run output folder's own ledger "
        "is used when this is not given.",
    )
    compare: str | None = Field(
        None, description="Another DATASET to audit the same way and compare side by side."
    )
    sample: int | None = Field(
        None, gt=0, description="Audit a seeded uniform sample of this many documents."
    )
    seed: int = Field(0, description="Seed of the sample.")
    probe: Path | None = Field(
        None,
        description="Sentence templates CSV (Jigsaw format: template, toxicity, phrase) to "
        "probe the toxicity scorer's errors per identity term.",
    )
    min_documents: int = Field(
        30,
        ge=1,
        description="Groups mentioned in fewer documents are reported as insufficient, "
        "without rates or ratios.",
    )
    min_events: int = Field(
        10,
        ge=1,
        description="A flag also needs this many documents with the outcome it is about (toxic or "
        "non-toxic documents for harm, removed documents for filter impact).",
    )
    slurs: Literal["separate", "include"] = Field(
        "separate",
        description="'separate': group statistics count identity and ambiguous terms only, and "
        "slurs get their own section; 'include': slurs count as mentions of their group too.",
    )
    label_column: str | None = Field(
        None,
        description="Column of human labels: per-class rates by group and, with toxicity "
        "scores, the scorer's error rates and calibration by group.",
    )
    label_map: dict[str, str] | None = Field(
        None,
        description="Label values to class names, e.g. {'0': hate, '1': offensive, '2': "
        "neither} (CLI: --label-map 0=hate,1=offensive,2=neither); unset: each distinct value "
        "is its own class.",
    )
    label_ignore: list[str] = Field(
        default_factory=list,
        description="Label values that mean 'not labelled' (e.g. -1); those documents are left "
        "out of the label statistics.",
    )
    label_positive: list[str] | None = Field(
        None,
        description="Classes that count as toxic when comparing the scores with the labels; "
        "unset: classes named toxic, hate, hateful, offensive, abusive, 1 or true.",
    )
    sections: list[Section] = Field(
        default_factory=lambda: list(SECTIONS),
        description="Report sections to compute; composition and association read the text, "
        "the others only score columns.",
    )
