"""``score.language``: the language of each document with a fastText language-ID model.

Any fastText LID model works, by asset name (``lid.176``, or another LID asset listed by
``curate models list``) or by path. lid.176 labels (``__label__en``) and GlotLID / OpenLID
labels (``__label__eng_Latn``) give the same ``lang`` (ISO 639-1 where one exists); the script
of the latter goes to ``lang_script`` when asked. fastText-wheel's ``predict`` wrapper is broken
under NumPy 2 (and its list form returns wrong probabilities for k > 1), so the stage calls the
compiled model's per-line ``predict`` directly; texts with nothing but whitespace get null.

A document longer than ``max_chars`` is classified from a sample of it (see
:mod:`curate.lang.lid`), and again whole when the sample's best probability is under
``recheck_below``; docs/language-quality.md has the measured agreement with whole documents.

With ``granularity: paragraph`` every non-blank line is scored on its own. ``lang`` is then the
language of most characters, ``lang_score`` the character-weighted mean probability of the lines
in that language, and ``lang_mixed`` the share of characters in lines of other languages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from curate import schema
from curate.errors import RecipeError
from curate.lang.iso import parse_label
from curate.lang.lid import Sample, load_fasttext, predict_lines, sample_lines
from curate.stage import MapStage, set_column

__all__ = ["ScoreLanguage", "load_fasttext"]

ASSET = "lid.176"
LANG_SCRIPT = pa.field("lang_script", pa.string())


class ScoreLanguage(MapStage):
    """Add ``lang``, ``lang_score`` and optionally ``lang_top``, ``lang_mixed``, ``script``.

    >>> import pyarrow as pa, os
    >>> stage = ScoreLanguage(model=os.environ.get("CURATE_LID_MODEL"), top_k=2)
    >>> stage.writes()
    ('lang', 'lang_score', 'lang_top')
    """

    name: ClassVar[str] = "score.language"
    summary: ClassVar[str] = (
        "Language of each document with a fastText LID model (lid.176 by default): lang "
        "(ISO 639) and lang_score."
    )

    model: str | None = Field(
        None,
        description="A model asset name (e.g. 'lid.176'; see `curate models list`) or the path "
        "of a fastText language-ID model (.ftz or .bin). Unset: $CURATE_LID_MODEL, then the "
        "cache, then a checksum-verified download of lid.176.",
    )
    codes: Literal["iso639-1", "iso639-3"] = Field(
        "iso639-1",
        description="Language codes: ISO 639-1 where one exists, else ISO 639-3 ('iso639-1'); "
        "or ISO 639-3 always ('iso639-3').",
    )
    top_k: int | None = Field(
        None,
        ge=1,
        le=176,
        description="Also write `lang_top`: the k best languages with their probabilities "
        "(paragraph granularity: the k languages with the largest share of characters).",
    )
    granularity: Literal["document", "paragraph"] = Field(
        "document",
        description="'document' scores each text as one line; 'paragraph' scores each non-blank "
        "line and adds `lang_mixed`, the share of characters not in the main language.",
    )
    max_chars: int | None = Field(
        500,
        ge=30,
        description="Classify at most this many characters of a text (of a line, with "
        "granularity 'paragraph'), sampled as `sample` says; null reads whole texts. The "
        "default agrees with whole-text labels on > 99.5% of documents (docs/language-quality.md).",
    )
    sample: Sample = Field(
        "windows",
        description="How a text longer than `max_chars` is sampled: 'windows' takes three evenly "
        "spaced windows (start, middle, end), 'prefix' its first `max_chars` characters.",
    )
    recheck_below: float = Field(
        0.8,
        ge=0.0,
        le=1.0,
        description="Classify a sampled text again whole when the sample's best probability is "
        "below this (0: never).",
    )
    script: bool = Field(
        False,
        description="Also write `script`: the Unicode script of most letters (Latin, Cyrillic, "
        "Han, Arabic, ...).",
    )
    lang_script: bool = Field(
        False,
        description="Also write `lang_script`: the ISO 15924 script in the model's label "
        "(GlotLID / OpenLID labels such as `__label__eng_Latn`; lid.176 labels have none).",
    )

    def output_fields(self) -> list[pa.Field]:
        names = ["lang", "lang_score"]
        if self.top_k is not None:
            names.append("lang_top")
        if self.granularity == "paragraph":
            names.append("lang_mixed")
        if self.script:
            names.append("script")
        fields = [schema.field(n) for n in names]
        return [*fields, LANG_SCRIPT] if self.lang_script else fields

    def _asset(self) -> str:
        from curate import models  # downloads need ssl and urllib: import them only when used

        return self.model if self.model in models.ASSETS else ASSET

    def model_path(self) -> Path:
        """The model file: an asset by name, else a path, by the order of :mod:`curate.models`."""
        from curate import models

        if self.model in models.ASSETS:
            return models.resolve(self.model)
        return models.resolve(ASSET, explicit=self.model)

    def model_versions(self) -> dict[str, str]:
        from curate import models

        path = self.model_path()
        digest = models.sha256_file(path)
        asset = self._asset()
        return {asset if digest == models.ASSETS[asset].sha256 else str(path): digest}

    def _labels(self, model: Any) -> tuple[dict[str, str], dict[str, str | None]]:
        """Each model label's language code and script."""
        parsed = {
            label: parse_label(label, codes=self.codes) for label in model.getLabels("strict")[0]
        }
        scripts = {label: script for label, (_, script) in parsed.items()}
        if self.lang_script and not any(scripts.values()):
            raise RecipeError(
                f"score.language: lang_script is set but the labels of {self.model_path()} "
                f"carry no script (e.g. {next(iter(parsed), '?')})",
                hint="use a model labelled like __label__eng_Latn (GlotLID, OpenLID), or drop "
                "lang_script (`script: true` detects the script from the text)",
            )
        return {label: code for label, (code, _) in parsed.items()}, scripts

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        model = load_fasttext(self.model_path())
        text = batch.column(schema.TEXT).cast(pa.large_string())
        if self.granularity == "document":
            columns = self._documents(model, text)
        else:
            columns = self._paragraphs(model, text)
        if self.script:
            from curate.lang.scripts import main_scripts

            columns["script"] = main_scripts(text)
        for name, values in columns.items():
            batch = set_column(batch, name, values)
        return batch

    def _predict(self, model: Any, text: pa.Array, k: int) -> list[list[tuple[float, str]]]:
        lines, whole, cut = sample_lines(text, max_chars=self.max_chars, sample=self.sample)
        return predict_lines(
            model, lines, k=k, cut=cut, whole=whole, recheck_below=self.recheck_below
        )

    def _documents(self, model: Any, text: pa.Array) -> dict[str, pa.Array]:
        has_text = pc.fill_null(pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(text)), 0), False)
        to_code, to_script = self._labels(model)
        k = self.top_k or 1
        if pc.all(has_text).as_py():
            results = self._predict(model, text, k)
        else:
            # Blank rows are never predicted: fastText would answer for an empty line.
            rows = pc.indices_nonzero(has_text)
            found = iter(self._predict(model, text.take(rows), k))
            flags = has_text.to_pylist()
            results = [next(found) if ok else [] for ok in flags]
        best = [r[0] if r else None for r in results]
        out = {
            "lang": pa.array([to_code[b[1]] if b else None for b in best], pa.string()),
            "lang_score": pa.array([b[0] if b else None for b in best], pa.float64()),
        }
        if self.top_k is not None:
            top = [
                [{"lang": to_code[label], "score": p} for p, label in r] if r else None
                for r in results
            ]
            out["lang_top"] = pa.array(top, schema.TYPES["lang_top"])
        if self.lang_script:
            out["lang_script"] = pa.array(
                [to_script[b[1]] if b else None for b in best], pa.string()
            )
        return out

    def _paragraphs(self, model: Any, text: pa.Array) -> dict[str, pa.Array]:
        import numpy as np
        import polars as pl

        n = len(text)
        split = pc.split_pattern(pc.fill_null(text, pa.scalar("", pa.large_string())), "\n")
        doc = pc.list_parent_indices(split).to_numpy()
        lines = pc.utf8_trim_whitespace(pc.list_flatten(split))
        chars = pc.utf8_length(lines).to_numpy()
        keep = chars > 0
        results = [r[0] for r in self._predict(model, pc.filter(lines, pa.array(keep)), 1)]
        to_code, to_script = self._labels(model)
        # Lines are grouped by label: one language in two scripts is two groups.
        frame = pl.DataFrame(
            {
                "doc": doc[keep],
                "lang": [label for _, label in results],
                "chars": chars[keep].astype(np.float64),
                "score": np.array([p for p, _ in results], dtype=np.float64),
            },
            schema={"doc": pl.Int64, "lang": pl.String, "chars": pl.Float64, "score": pl.Float64},
        )
        per_lang = (
            frame.group_by("doc", "lang")
            .agg(pl.col("chars").sum(), (pl.col("score") * pl.col("chars")).sum().alias("weighted"))
            .with_columns(pl.col("chars").sum().over("doc").alias("total"))
            .sort(["doc", "chars", "weighted", "lang"], descending=[False, True, True, False])
        )
        main = per_lang.group_by("doc", maintain_order=True).first()
        langs: list[str | None] = [None] * n
        scores: list[float | None] = [None] * n
        mixed: list[float | None] = [None] * n
        labels: list[str | None] = [None] * n
        for d, label, c, w, total in main.iter_rows():
            labels[d], scores[d], mixed[d] = label, w / c, 1.0 - c / total
            langs[d] = to_code[label]
        out = {
            "lang": pa.array(langs, pa.string()),
            "lang_score": pa.array(scores, pa.float64()),
            "lang_mixed": pa.array(mixed, pa.float64()),
        }
        if self.top_k is not None:
            top: list[list[dict[str, Any]] | None] = [None] * n
            shares = per_lang.group_by("doc", maintain_order=True).head(self.top_k)
            for d, label, c, _, total in shares.iter_rows():
                top[d] = [*(top[d] or []), {"lang": to_code[label], "score": c / total}]
            out["lang_top"] = pa.array(top, schema.TYPES["lang_top"])
        if self.lang_script:
            found = [to_script[label] if label else None for label in labels]
            out["lang_script"] = pa.array(found, pa.string())
        return out
