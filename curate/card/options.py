"""Author-provided card fields: the recipe's ``card:`` block and ``curate card --set``.

Everything a pipeline cannot know about a dataset (its name for humans, license, authors, why
it was made) comes from here; everything it can know comes from the run.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class CardOptions(BaseModel):
    """Fields an author sets on a dataset card.

    >>> CardOptions(pretty_name="Web sample", license="cc-by-4.0").license
    'cc-by-4.0'
    >>> CardOptions(tags="web, english").tags
    ['web', 'english']
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    pretty_name: str | None = Field(None, description="Human-readable dataset name.")
    description: str | None = Field(
        None, description="One-paragraph summary; defaults to the recipe's description."
    )
    license: str | None = Field(
        None,
        description="License id from the Hub's list (e.g. cc-by-4.0, apache-2.0, odc-by), "
        "or 'other' with license_name and license_link.",
    )
    license_name: str | None = Field(None, description="Short id of a custom license ('other').")
    license_link: str | None = Field(None, description="URL or file of a custom license ('other').")
    language: list[str] | None = Field(
        None, description="Language codes; default: those found in the lang column."
    )
    multilinguality: str | None = Field(
        None, description="monolingual, multilingual, translation or other; default: derived."
    )
    task_categories: list[str] = Field(
        default_factory=lambda: ["text-generation"],
        description="Hub task categories the dataset serves.",
    )
    task_ids: list[str] = Field(default_factory=list, description="Hub task ids.")
    tags: list[str] = Field(default_factory=list, description="Free-form Hub tags.")
    source_datasets: list[str] = Field(
        default_factory=list,
        description="'original', or 'extended|ORG/NAME' for each dataset this one derives from.",
    )
    language_creators: list[str] = Field(
        default_factory=list,
        description="found, crowdsourced, expert-generated, machine-generated...",
    )
    annotations_creators: list[str] = Field(
        default_factory=lambda: ["machine-generated"],
        description="Who made the annotations; curate's scores are machine-generated.",
    )
    authors: list[str] = Field(default_factory=list, description="Who curated the dataset.")
    homepage: str | None = Field(None, description="Project or dataset homepage URL.")
    repository: str | None = Field(None, description="Where the curation code or recipe lives.")
    contact: str | None = Field(None, description="Who to contact about the dataset.")
    citation: str | None = Field(None, description="BibTeX entry to cite the dataset.")
    motivation: str | None = Field(None, description="Why the dataset was created, and by whom.")
    intended_uses: str | None = Field(None, description="What the dataset is meant for.")
    out_of_scope_uses: str | None = Field(None, description="Uses the dataset is not suited to.")
    collection: str | None = Field(
        None, description="How the source data was collected, and who produced it."
    )
    consent: str | None = Field(
        None, description="Consent, personal and sensitive information in the source data."
    )
    maintenance: str | None = Field(None, description="Who maintains the dataset and how.")

    @field_validator(
        "language",
        "task_categories",
        "task_ids",
        "tags",
        "source_datasets",
        "language_creators",
        "annotations_creators",
        "authors",
        mode="before",
    )
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        """A plain string is a comma-separated list, so ``--set tags=a,b`` works."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


#: The free-text fields that become prompted sections of the card.
AUTHOR_SECTIONS: tuple[str, ...] = (
    "motivation",
    "intended_uses",
    "out_of_scope_uses",
    "collection",
    "consent",
    "maintenance",
)
