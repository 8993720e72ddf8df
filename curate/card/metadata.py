"""The card's YAML front matter, built as data from the run and the author's fields."""

from __future__ import annotations

from collections import Counter
from typing import Any

from datasets import DatasetInfo, Features, SplitDict, SplitInfo
from datasets.info import DatasetInfosDict
from huggingface_hub import DatasetCardData

from curate.card import vocab
from curate.card.facts import DatasetFacts
from curate.card.options import CardOptions

#: A language must hold at least this share of documents to be listed in ``language:``; the
#: card's language table still shows every value (LID emits a long tail of misfires).
MIN_LANGUAGE_SHARE = 0.01


def card_languages(counts: Counter[str], total: int) -> list[str]:
    """Language codes for the front matter: known to ``datasets`` and above the minimum share.

    >>> card_languages(Counter({"en": 90, "fr": 9, "xx": 1, "de": 0}), 100)
    ['en', 'fr']
    """
    known = vocab.languages()
    keep = [
        lang
        for lang, n in counts.most_common()
        if lang in known and lang != "und" and total and n / total >= MIN_LANGUAGE_SHARE
    ]
    return sorted(keep)


def listed_languages(options: CardOptions, counts: Counter[str]) -> list[str]:
    """The card's ``language:`` list: the author's, else :func:`card_languages` of the counts.

    The languages table shows exactly these; other ``lang`` values are summed up below it.
    """
    if options.language is not None:
        return list(options.language)
    return card_languages(counts, sum(counts.values()))


def dataset_info(facts: DatasetFacts) -> DatasetInfosDict:
    """Features from the Arrow schema and per-split sizes, as ``datasets`` models them."""
    splits = SplitDict()
    for split in facts.splits:
        splits.add(SplitInfo(name=split.name, num_bytes=split.num_bytes, num_examples=split.rows))
    info = DatasetInfo(
        features=Features.from_arrow_schema(facts.schema),
        splits=splits,
        download_size=sum(s.size for s in facts.splits),
        dataset_size=sum(s.num_bytes for s in facts.splits),
    )
    return DatasetInfosDict({"default": info})


def configs(facts: DatasetFacts) -> list[dict[str, Any]]:
    """One ``default`` config whose splits point at their shards under ``data/``."""
    data_files = [{"split": s.name, "path": f"data/{s.name}-*"} for s in facts.splits]
    return [{"config_name": "default", "data_files": data_files}]


def source_datasets(facts: DatasetFacts) -> list[str]:
    """``extended|ORG/NAME`` for each Hub dataset the run read, else ``original``.

    >>> from pathlib import Path
    >>> import pyarrow as pa
    >>> run = {"input": {"paths": ["hf://datasets/org/web/en:train", "local.jsonl"]}}
    >>> source_datasets(DatasetFacts(root=Path("."), splits=(), schema=pa.schema([]), run=run))
    ['extended|org/web']
    """
    source = facts.run.get("input")
    paths = source.get("paths") if isinstance(source, dict) else None
    found = []
    for path in paths or []:
        text = str(path)
        if text.startswith("hf://datasets/"):
            parts = text.removeprefix("hf://datasets/").split(":", 1)[0].split("/")
            if len(parts) >= 2:
                found.append(f"extended|{parts[0]}/{parts[1]}")
    return list(dict.fromkeys(found)) or ["original"]


def front_matter(
    facts: DatasetFacts, options: CardOptions, languages: Counter[str]
) -> dict[str, Any]:
    """The YAML header as a plain dict, in the Hub's usual key order."""
    langs = listed_languages(options, languages)
    multi = options.multilinguality or (
        None if not langs else "monolingual" if len(langs) == 1 else "multilingual"
    )
    license_id = options.license or "unknown"
    tags = list(dict.fromkeys(["curate", *options.tags]))
    extra: dict[str, Any] = {}
    if license_id == "other":
        extra = {"license_name": options.license_name, "license_link": options.license_link}
    card = DatasetCardData(
        pretty_name=options.pretty_name or facts.name,
        license=license_id,
        language=langs or None,
        multilinguality=multi,
        size_categories=[vocab.size_category(facts.rows)],
        task_categories=options.task_categories or None,
        task_ids=options.task_ids or None,
        source_datasets=options.source_datasets or source_datasets(facts),
        annotations_creators=options.annotations_creators or None,
        language_creators=options.language_creators or None,
        tags=tags,
        configs=configs(facts),
        **extra,
    )
    dataset_info(facts).to_dataset_card_data(card)
    data: dict[str, Any] = card.to_dict()  # type: ignore[no-untyped-call]
    return data
