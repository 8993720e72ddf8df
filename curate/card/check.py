"""Offline validation of a dataset card (``curate card DATASET --check``).

Each check returns plain problem sentences naming the field; an empty list means the card is
valid for the Hub and consistent with the data files next to it. ``croissant.json`` is also
validated by ``mlcroissant`` when it is installed (the test suite's validation: parse the
metadata, then read a record of every record set). Prompts the author has not answered are
warnings, which ``--strict`` turns into failures.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import yaml

from curate.card import prompts, vocab

_TAGS: dict[str, Any] = {
    "language": vocab.languages,
    "multilinguality": vocab.multilinguality,
    "size_categories": lambda: frozenset(vocab.size_categories()) | {"other"},
    "task_categories": lambda: vocab.TASK_CATEGORIES,
    "language_creators": lambda: vocab.creators("language"),
    "annotations_creators": lambda: vocab.creators("annotations"),
}


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def split_front_matter(text: str) -> tuple[str | None, str]:
    """The YAML between the leading ``---`` lines, and the rest of the card.

    >>> split_front_matter("---\\na: 1\\n---\\n# Title\\n")
    ('a: 1', '# Title')
    """
    lines = text.splitlines()
    if not lines or lines[0].rstrip() != "---":
        return None, text
    for i, line in enumerate(lines[1:], 1):
        if line.rstrip() == "---":  # an indented "---" is part of a YAML value
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1 :])
    return None, text


def _tags(meta: dict[str, Any]) -> Iterable[str]:
    for key, allowed in _TAGS.items():
        known = allowed()
        for value in _as_list(meta.get(key)):
            if not isinstance(value, str) or value not in known:
                yield f"{key}: {value!r} is not in the vocabulary that `datasets` ships"
    license_ids = _as_list(meta.get("license"))
    if not license_ids:
        yield "license: missing (use a Hub license id, or 'other' with license_name/license_link)"
    for lic in license_ids:
        if lic not in vocab.LICENSES:
            yield f"license: {lic!r} is not a Hub license id (use 'other' with license_name)"
    if "other" in license_ids:
        for key in ("license_name", "license_link"):
            if not meta.get(key):
                yield f"{key}: required when license is 'other'"
    if not meta.get("pretty_name"):
        yield "pretty_name: missing"


def _dataset_info(root: Path, meta: dict[str, Any]) -> Iterable[str]:
    from datasets import Features
    from datasets.info import DatasetInfosDict
    from huggingface_hub import DatasetCardData

    if "dataset_info" not in meta:
        yield "dataset_info: missing"
        return
    card = DatasetCardData(**meta)
    try:
        infos = DatasetInfosDict.from_dataset_card_data(card)
        again = DatasetCardData()
        infos.to_dataset_card_data(again)
    except Exception as exc:  # datasets raises many kinds on malformed YAML
        yield f"dataset_info: `datasets` cannot read it ({type(exc).__name__}: {exc})"
        return
    if again.get("dataset_info") != meta["dataset_info"]:
        yield "dataset_info: does not round-trip through datasets' DatasetInfosDict"
    info = infos.get("default")
    files = sorted((root / "data").glob("*.parquet"))
    if info is None or not files:
        return
    actual = Features.from_arrow_schema(pq.read_schema(files[0]))
    if info.features is not None and info.features != actual:
        yield "dataset_info.features: differ from the Parquet schema (re-render the card)"
    rows = sum(pq.read_metadata(f).num_rows for f in files)
    declared = sum(s.num_examples for s in (info.splits or {}).values())
    if declared != rows:
        yield f"dataset_info.splits: num_examples add up to {declared}, the data has {rows} rows"


def _configs(root: Path, meta: dict[str, Any]) -> Iterable[str]:
    configs = meta.get("configs")
    if not configs:
        yield "configs: missing (the Hub needs data_files to find the Parquet shards)"
        return
    for i, config in enumerate(_as_list(configs)):
        if not isinstance(config, dict):
            yield f"configs[{i}]: not a mapping"
            continue
        for j, entry in enumerate(_as_list(config.get("data_files"))):
            patterns = _as_list(entry.get("path")) if isinstance(entry, dict) else [entry]
            for pattern in patterns:
                if not isinstance(pattern, str) or not any(root.glob(pattern)):
                    yield f"configs[{i}].data_files[{j}]: {pattern!r} matches no file"


def _croissant(root: Path) -> Iterable[str]:
    path = root / "croissant.json"
    if not path.is_file():
        yield "croissant.json: missing (re-render with `curate card DATASET`)"
        return
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        yield f"croissant.json: not valid JSON ({exc})"
        return
    for obj in doc.get("distribution", []):
        if (
            obj.get("@type") == "cr:FileObject"
            and not (root / str(obj.get("contentUrl"))).is_file()
        ):
            yield f"croissant.json: file {obj.get('contentUrl')!r} does not exist"


def _mlcroissant(root: Path) -> Iterable[str]:
    import mlcroissant as mlc

    path = root / "croissant.json"
    if not path.is_file():
        return
    # mlcroissant logs every operation and recommendation (through absl and the root logger);
    # only its errors count here, and they are raised.
    before = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        dataset = mlc.Dataset(jsonld=path)
        for record_set in dataset.metadata.record_sets:
            list(itertools.islice(dataset.records(record_set.uuid), 1))
    except Exception as exc:  # mlcroissant raises ValidationError, and more when reading data
        first = " ".join(str(exc).split())[:400]
        yield f"croissant.json: mlcroissant {_version('mlcroissant')} rejects it ({first})"
    finally:
        logging.disable(before)


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "(version unknown)"


def placeholders(readme: str) -> list[str]:
    """Warnings for the author sections still holding their ``_[To be written ...]_`` prompt."""
    keys = prompts.unanswered(readme)
    found = [
        f"README.md: {prompts.QUESTIONS[key][0]!r} still holds the "
        f"`{prompts.PROMPT_PREFIX} ...]_` placeholder (fill it with "
        f"`curate card DATASET --set {key}=...`)"
        for key in keys
        if key in prompts.QUESTIONS
    ]
    stray = readme.count(prompts.PROMPT_PREFIX) - len(keys)
    if stray > 0:
        found.append(f"README.md: {stray} placeholder(s) outside the author markers")
    return found


@dataclass(frozen=True)
class CardCheck:
    """What ``--check`` found: problems fail it, warnings fail it only with ``--strict``, notes
    say what could not be checked."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def check(root: Path) -> CardCheck:
    """Validate ``root/README.md`` and ``croissant.json``; see :class:`CardCheck`."""
    from huggingface_hub import DatasetCard

    root = Path(root)
    readme = root / "README.md"
    if not readme.is_file():
        return CardCheck([f"{readme}: no dataset card (write one with `curate card {root}`)"])
    card_text = readme.read_text(encoding="utf-8")
    front, _body = split_front_matter(card_text)
    if front is None:
        return CardCheck(["README.md: no YAML front matter between '---' lines"])
    try:
        meta = yaml.safe_load(front)
    except yaml.YAMLError as exc:
        return CardCheck([f"README.md: front matter is not valid YAML ({exc})"])
    if not isinstance(meta, dict):
        return CardCheck(["README.md: front matter is not a YAML mapping"])
    problems = [*_tags(meta), *_configs(root, meta), *_dataset_info(root, meta), *_croissant(root)]
    try:
        DatasetCard.load(readme)
    except Exception as exc:  # whatever huggingface_hub refuses is a problem to report
        problems.append(f"README.md: huggingface_hub cannot load it ({exc})")
    notes = []
    if importlib.util.find_spec("mlcroissant") is None:
        notes.append(
            "croissant.json: not validated with mlcroissant, which is not installed "
            "(pip install mlcroissant); only its files were checked"
        )
    else:
        problems += _mlcroissant(root)
    return CardCheck(problems, placeholders(card_text), notes)


def check_card(root: Path) -> list[str]:
    """Problems with ``root/README.md`` (and ``croissant.json``); empty when the card is valid.

    Unanswered author prompts are not problems here; :func:`check` also returns them.
    """
    return check(root).problems
