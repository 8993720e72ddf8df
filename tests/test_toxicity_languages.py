"""score.toxicity: declared languages, null scores outside them, and what `curate check` says."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pyarrow as pa
import pytest
import yaml

from curate.executor.plan import Step, plan_columns
from curate.stages.filter import Filter
from curate.stages.score_language import ScoreLanguage
from curate.stages.score_toxicity import ScoreToxicity

ROOT = Path(__file__).resolve().parents[1]


def _batch(texts: list[str], langs: list[str | None] | None = None) -> pa.RecordBatch:
    cols: dict[str, pa.Array] = {
        "id": pa.array([str(i) for i in range(len(texts))]),
        "text": pa.array(texts, pa.string()),
    }
    if langs is not None:
        cols["lang"] = pa.array(langs, pa.string())
    return pa.record_batch(cols)


TEXTS = ["you stupid idiot", "du dummer Idiot, halt den Mund", "thanks a lot", "hello"]


def test_other_languages_get_null_and_unsupported() -> None:
    out = next(iter(ScoreToxicity()([_batch(TEXTS, ["en", "de", "en", None])])))
    tox = out.column("toxicity").to_pylist()
    assert tox[0] is not None and tox[0] > 0.5 and tox[2] is not None and tox[2] < 0.5
    assert tox[1] is None and tox[3] is None
    assert out.column("toxicity_supported").to_pylist() == [True, False, True, False]
    assert out.column("text").to_pylist() == TEXTS


def test_every_language_on_request() -> None:
    stage = ScoreToxicity(languages=["*"])
    out = next(iter(stage([_batch(TEXTS, ["en", "de", "en", None])])))
    assert None not in out.column("toxicity").to_pylist()
    assert out.column("toxicity_supported").to_pylist() == [True] * 4


def test_own_language_list() -> None:
    out = next(iter(ScoreToxicity(languages=["de"])([_batch(TEXTS, ["en", "de", "en", "de"])])))
    assert out.column("toxicity_supported").to_pylist() == [False, True, False, True]


def test_without_lang_column_everything_is_scored_and_support_is_unknown() -> None:
    out = next(iter(ScoreToxicity()([_batch(TEXTS)])))
    assert None not in out.column("toxicity").to_pylist()
    assert out.column("toxicity_supported").null_count == len(TEXTS)


def test_declared_languages_without_loading_a_model() -> None:
    assert ScoreToxicity().supported() == ("en",)
    multi = ScoreToxicity(model="detoxify-multilingual").supported()
    assert multi is not None and set(multi) == {"en", "es", "fr", "it", "pt", "ru", "tr"}
    assert ScoreToxicity(model="hf:./m", label="toxic").supported() is None
    assert ScoreToxicity().describe()["languages"] == ["en"]


def _steps(*stages: object) -> list[Step]:
    return [Step(i, getattr(s, "name", "?"), s) for i, s in enumerate(stages)]  # type: ignore[arg-type]


COLUMNS = {"id": pa.string(), "text": pa.string()}


def test_check_warns_when_no_language_column(caplog: pytest.LogCaptureFixture) -> None:
    steps = _steps(ScoreToxicity(), Filter(where="toxicity < 0.5", reason="toxic"))
    with caplog.at_level(logging.WARNING):
        plan = plan_columns(steps, dict(COLUMNS))
    assert "no `lang` column" in plan[0]["warnings"][0]
    assert "add score.language" in caplog.text


def test_check_warns_when_the_filter_would_remove_unsupported_rows(lid_model: Path) -> None:
    steps = _steps(
        ScoreLanguage(model=str(lid_model)),
        ScoreToxicity(),
        Filter(where="toxicity < 0.5", reason="toxic"),
    )
    plan = plan_columns(steps, dict(COLUMNS))
    assert "toxicity IS NULL OR toxicity < 0.5" in plan[1]["warnings"][0]
    assert "warnings" not in plan[0] and "warnings" not in plan[2]


@pytest.mark.parametrize(
    "where",
    ["toxicity IS NULL OR toxicity < 0.5", "coalesce(toxicity, 0) < 0.5",
     "NOT toxicity_supported OR toxicity < 0.5"],
)  # fmt: skip
def test_no_warning_when_nulls_are_handled(where: str) -> None:
    columns = {**COLUMNS, "lang": pa.string()}
    plan = plan_columns(_steps(ScoreToxicity(), Filter(where=where)), columns)
    assert all("warnings" not in p for p in plan)


def test_no_warning_when_nothing_reads_toxicity() -> None:
    plan = plan_columns(_steps(ScoreToxicity(), Filter(where="length(text) > 3")), dict(COLUMNS))
    assert all("warnings" not in p for p in plan)


def test_quickstart_toxicity_filter_removes_only_offensive_documents(lid_model: Path) -> None:
    """The quickstart's language, toxicity and toxic-filter stages on the whole sample."""
    recipe = yaml.safe_load((ROOT / "recipes" / "quickstart.yaml").read_text())
    where = next(s["with"]["where"] for s in recipe["stages"] if s.get("id") == "toxic")
    manifest = json.loads((ROOT / "recipes" / "sample" / "manifest.json").read_text())
    offensive = {d["url"]: d["offensive"] for d in manifest["docs"]}
    rows = [json.loads(line) for line in (ROOT / recipe["input"]["path"]).open()]
    batch = pa.record_batch(
        {"id": [r["url"] for r in rows], "text": pa.array([r["text"] for r in rows], pa.string())}
    )
    stages = [ScoreLanguage(model=str(lid_model)), ScoreToxicity(), Filter(where=where)]
    for stage in stages:
        batch = next(iter(stage([batch])))
    reasons = batch.column("__curate_reason").to_pylist()
    removed = [u for u, r in zip(batch.column("id").to_pylist(), reasons) if r is not None]
    assert removed, "the filter still catches offensive English documents"
    assert all(offensive[u] for u in removed), [u for u in removed if not offensive[u]]
