"""``score.identity``: which identity groups each document mentions, from word lexicons.

Mentions are lexicon matches, not a judgement of what a text says about a group: "a black cat"
mentions ``race_ethnicity/black`` unless ambiguous terms are excluded. See
``docs/toxicity-identity.md`` for the lexicons, their gaps and how to add your own.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar, Literal

import pyarrow as pa
from pydantic import Field, PrivateAttr

from curate import schema
from curate.errors import RecipeError
from curate.identity import IdentityMatcher, Lexicon, load_lexicons
from curate.identity.lexicon import builtin_dir
from curate.identity.matcher import TERM_TYPE
from curate.stage import MapStage, set_column

log = logging.getLogger(__name__)


class ScoreIdentity(MapStage):
    """Add ``identities`` (and ``identity_counts``, ``identity_terms``) from identity-term
    lexicons.

    >>> import pyarrow as pa
    >>> b = pa.record_batch({"id": ["1", "2"], "text": ["Two Muslim women", "A quiet day"]})
    >>> out = next(iter(ScoreIdentity(lexicons=["en"], counts=True)([b])))
    >>> out.column("identities").to_pylist(), out.column("identity_counts").to_pylist()
    ([['gender/female', 'religion/muslim'], []], [[1, 1], []])
    >>> out = next(iter(ScoreIdentity(lexicons=["en"], terms=True)([b])))
    >>> [m["term"] + ":" + m["kind"] for m in out.column("identity_terms")[0].as_py()]
    ['woman:identity', 'muslim:identity']
    """

    name: ClassVar[str] = "score.identity"
    summary: ClassVar[str] = (
        "Identity groups each document mentions (identities: axis/group list) from lexicons."
    )

    lexicons: list[str] = Field(
        ["en", "de", "fr", "es", "zh"],
        min_length=1,
        description="Lexicons to match: built-in names (en, de, fr, es, zh: the files in "
        "audits/lexicons/), paths of YAML lexicons in the same format, or paths of "
        "HolisticBias descriptors.json files.",
    )
    exclude: list[Literal["slur", "ambiguous"]] = Field(
        [],
        description="Leave out terms with these flags: 'slur' (slurs naming a group) and "
        "'ambiguous' (words whose usual sense is not an identity, e.g. 'black', 'blind').",
    )
    counts: bool = Field(
        False,
        description="Also write identity_counts: mentions per group, aligned with identities.",
    )
    terms: bool = Field(
        False,
        description="Also write identity_terms: per document, the distinct lexicon entries it "
        "matched as {group, term, kind}, kind being 'identity', 'slur' or 'ambiguous' (the "
        "lexicon's flag). The bias audit uses it to keep slurs apart from mentions and to name "
        "the terms behind each group.",
    )
    language_column: str | None = Field(
        "lang",
        description="Column of ISO 639-1 codes (score.language writes lang). When a batch "
        "has it, a term only counts in documents of its lexicon's language (null codes count "
        "every term), which stops e.g. the German 'Christen' matching English 'christen'. "
        "null: every lexicon applies to every document.",
    )

    _matcher: IdentityMatcher | None = PrivateAttr(default=None)
    _told: bool = PrivateAttr(default=False)

    def lexicon(self) -> Lexicon:
        """The merged lexicon this stage matches, minus excluded flags."""
        return load_lexicons(self.lexicons).without(self.exclude)

    def output_fields(self) -> list[pa.Field]:
        fields = [schema.field("identities")]
        if self.counts:
            fields.append(schema.field("identity_counts"))
        if self.terms:
            fields.append(pa.field("identity_terms", TERM_TYPE))
        return fields

    def plan(self, columns: Mapping[str, pa.DataType]) -> dict[str, pa.DataType]:
        out = super().plan(columns)
        lexicon = self.lexicon()
        if not lexicon.terms:
            raise RecipeError(
                f"stage {self.name!r}: the lexicons {self.lexicons} have no terms left "
                f"after excluding {self.exclude}",
                hint="name a lexicon with terms, or exclude fewer flags",
            )
        # Said here, on the driver, once per run: matcher() runs in every worker.
        if not self._told:
            self._told = True
            log.info(
                "score.identity: %d terms from %s", len(lexicon.terms), _shown(lexicon.sources)
            )
        return out

    def matcher(self) -> IdentityMatcher:
        """The compiled matcher, built on first use in each worker process."""
        if self._matcher is None:
            lexicon = self.lexicon()
            log.debug("score.identity: %d terms from %s", len(lexicon.terms), lexicon.sources)
            self._matcher = IdentityMatcher(lexicon)
        return self._matcher

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        names = batch.schema.names
        languages = (
            batch.column(self.language_column)
            if self.language_column and self.language_column in names
            else None
        )
        labels, counts, detail = self.matcher().match_detail(
            batch.column(schema.TEXT), languages, detail=self.terms
        )
        out = set_column(batch, "identities", labels)
        if self.counts:
            out = set_column(out, "identity_counts", counts)
        if detail is not None:
            out = set_column(out, "identity_terms", detail)
        return out


def _shown(sources: tuple[str, ...]) -> str:
    """Lexicon files as a user would name them: built-ins by name, others relative to here."""
    builtin = builtin_dir().resolve()
    names = []
    for source in sources:
        path = Path(source).resolve()
        if path.parent == builtin:
            names.append(path.stem)
        else:
            try:
                names.append(os.path.relpath(path))
            except ValueError:
                names.append(str(path))
    return ", ".join(names)
