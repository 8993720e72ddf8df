"""``score.language``: the language of each document with fastText's ``lid.176`` model.

The model reads one line per prediction, so newlines become spaces before a document is scored,
exactly as fastText's own ``predict`` requires; texts with nothing but whitespace get null.
fastText-wheel's ``predict`` wrapper is broken under NumPy 2 (and its list form returns wrong
probabilities for k > 1), so the stage calls the compiled model's per-line ``predict`` directly.

With ``granularity: paragraph`` every non-blank line is scored on its own. ``lang`` is then the
language of most characters, ``lang_score`` the character-weighted mean probability of the lines
in that language, and ``lang_mixed`` the share of characters in lines of other languages.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from curate import models, schema
from curate.errors import MissingDependencyError
from curate.lang.iso import code_for_label
from curate.lang.scripts import main_scripts
from curate.stage import MapStage, set_column

log = logging.getLogger(__name__)

ASSET = "lid.176"
#: Loaded models by resolved path: one per worker process, shared by every stage instance.
_LOADED: dict[str, Any] = {}


def load_fasttext(path: Path) -> Any:
    """The compiled fastText model at ``path``, loaded once per process."""
    key = str(path)
    if key not in _LOADED:
        try:
            from fasttext.FastText import _FastText
        except ImportError as exc:
            raise MissingDependencyError(
                "score.language needs fastText, which is not installed",
                hint="pip install fasttext-wheel (only one fastText binding may be installed)",
            ) from exc
        log.info("loading fastText model %s", path)
        _LOADED[key] = _FastText(model_path=key).f
    return _LOADED[key]


class ScoreLanguage(MapStage):
    """Add ``lang`` and ``lang_score`` (and optionally ``lang_top``, ``lang_mixed``, ``script``).

    >>> import pyarrow as pa, os
    >>> stage = ScoreLanguage(model=os.environ.get("CURATE_LID_MODEL"), top_k=2)
    >>> stage.writes()
    ('lang', 'lang_score', 'lang_top')
    """

    name: ClassVar[str] = "score.language"
    summary: ClassVar[str] = (
        "Language of each document with fastText lid.176: lang (ISO 639) and lang_score."
    )

    model: str | None = Field(
        None,
        description="Path of a fastText language-ID model (.ftz or .bin). Unset: "
        "$CURATE_LID_MODEL, then the cache, then a checksum-verified download of lid.176 "
        "(see `curate models`).",
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
    script: bool = Field(
        False,
        description="Also write `script`: the Unicode script of most letters (Latin, Cyrillic, "
        "Han, Arabic, ...).",
    )

    def output_fields(self) -> list[pa.Field]:
        names = ["lang", "lang_score"]
        if self.top_k is not None:
            names.append("lang_top")
        if self.granularity == "paragraph":
            names.append("lang_mixed")
        if self.script:
            names.append("script")
        return [schema.field(n) for n in names]

    def model_path(self) -> Path:
        """The model file, by the resolution order of :mod:`curate.models`."""
        return models.resolve(ASSET, explicit=self.model)

    def model_versions(self) -> dict[str, str]:
        path = self.model_path()
        digest = models.sha256_file(path)
        return {ASSET if digest == models.ASSETS[ASSET].sha256 else str(path): digest}

    def _codes(self, model: Any) -> dict[str, str]:
        return {
            label: code_for_label(label, codes=self.codes) for label in model.getLabels("strict")[0]
        }

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        model = load_fasttext(self.model_path())
        text = batch.column(schema.TEXT).cast(pa.large_string())
        if self.granularity == "document":
            columns = self._documents(model, text)
        else:
            columns = self._paragraphs(model, text)
        if self.script:
            columns["script"] = main_scripts(text)
        for name, values in columns.items():
            batch = set_column(batch, name, values)
        return batch

    def _documents(self, model: Any, text: pa.Array) -> dict[str, pa.Array]:
        has_text = pc.fill_null(pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(text)), 0), False)
        # One line per prediction, terminated by the newline fastText reads up to.
        empty, newline = pa.scalar("", pa.large_string()), pa.scalar("\n", pa.large_string())
        lines = pc.binary_join_element_wise(
            pc.replace_substring(pc.fill_null(text, empty), "\n", " "), empty, newline
        )
        predict = model.predict
        k = self.top_k or 1
        # Bytes, not str: pybind11 copies them into the model's std::string as they are,
        # where a str would be decoded from Arrow's UTF-8 and encoded back.
        values = lines.cast(pa.large_binary()).to_pylist()
        to_code = self._codes(model)
        if pc.all(has_text).as_py():
            results = [predict(line, k, 0.0, "strict") for line in values]
            scores, labels = zip(*[r[0] for r in results]) if results else ((), ())
            langs: list[str | None] = list(map(to_code.__getitem__, labels))
        else:
            flags = has_text.to_pylist()
            results = [
                predict(line, k, 0.0, "strict") if ok else [] for line, ok in zip(values, flags)
            ]
            scores = tuple(r[0][0] if r else None for r in results)
            langs = [to_code[r[0][1]] if r else None for r in results]
        out = {"lang": pa.array(langs, pa.string()), "lang_score": pa.array(scores, pa.float64())}
        if self.top_k is not None:
            top = [
                [{"lang": to_code[label], "score": p} for p, label in r] if r else None
                for r in results
            ]
            out["lang_top"] = pa.array(top, schema.TYPES["lang_top"])
        return out

    def _paragraphs(self, model: Any, text: pa.Array) -> dict[str, pa.Array]:
        n = len(text)
        split = pc.split_pattern(pc.fill_null(text, pa.scalar("", pa.large_string())), "\n")
        doc = pc.list_parent_indices(split).to_numpy()
        lines = pc.utf8_trim_whitespace(pc.list_flatten(split))
        chars = pc.utf8_length(lines).to_numpy()
        keep = chars > 0
        predict = model.predict
        kept = pc.filter(lines, pa.array(keep)).cast(pa.large_binary()).to_pylist()
        results = [predict(line + b"\n", 1, 0.0, "strict")[0] for line in kept]
        to_code = self._codes(model)
        frame = pl.DataFrame(
            {
                "doc": doc[keep],
                "lang": [to_code[label] for _, label in results],
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
        for d, lang, c, w, total in main.iter_rows():
            langs[d], scores[d], mixed[d] = lang, w / c, 1.0 - c / total
        out = {
            "lang": pa.array(langs, pa.string()),
            "lang_score": pa.array(scores, pa.float64()),
            "lang_mixed": pa.array(mixed, pa.float64()),
        }
        if self.top_k is not None:
            top: list[list[dict[str, Any]] | None] = [None] * n
            shares = per_lang.group_by("doc", maintain_order=True).head(self.top_k)
            for d, lang, c, _, total in shares.iter_rows():
                top[d] = [*(top[d] or []), {"lang": lang, "score": c / total}]
            out["lang_top"] = pa.array(top, schema.TYPES["lang_top"])
        return out
