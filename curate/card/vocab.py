"""Vocabularies card metadata is checked against.

Languages, multilinguality, size categories and creator kinds come from the resource files that
``datasets`` ships; the Hub's license ids and task categories are not shipped by any installed
library, so they are listed here (from the Hub's documented lists).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import metadata, resources

from curate.errors import MissingDependencyError

#: The ``datasets`` release whose resource files these lookups were written against.
TESTED_DATASETS = "5.2.0"

#: License ids the Hub accepts in ``license:`` (``other`` needs ``license_name``/``license_link``).
LICENSES: frozenset[str] = frozenset(
    {
        "apache-2.0",
        "mit",
        "openrail",
        "bigscience-openrail-m",
        "creativeml-openrail-m",
        "bigscience-bloom-rail-1.0",
        "bigcode-openrail-m",
        "afl-3.0",
        "artistic-2.0",
        "bsl-1.0",
        "bsd",
        "bsd-2-clause",
        "bsd-3-clause",
        "bsd-3-clause-clear",
        "c-uda",
        "cc",
        "cc0-1.0",
        "cc-by-2.0",
        "cc-by-2.5",
        "cc-by-3.0",
        "cc-by-4.0",
        "cc-by-sa-3.0",
        "cc-by-sa-4.0",
        "cc-by-nc-2.0",
        "cc-by-nc-3.0",
        "cc-by-nc-4.0",
        "cc-by-nd-4.0",
        "cc-by-nc-nd-3.0",
        "cc-by-nc-nd-4.0",
        "cc-by-nc-sa-2.0",
        "cc-by-nc-sa-3.0",
        "cc-by-nc-sa-4.0",
        "cdla-sharing-1.0",
        "cdla-permissive-1.0",
        "cdla-permissive-2.0",
        "wtfpl",
        "ecl-2.0",
        "epl-1.0",
        "epl-2.0",
        "etalab-2.0",
        "eupl-1.1",
        "eupl-1.2",
        "agpl-3.0",
        "gfdl",
        "gpl",
        "gpl-2.0",
        "gpl-3.0",
        "lgpl",
        "lgpl-2.1",
        "lgpl-3.0",
        "isc",
        "h-research",
        "intel-research",
        "lppl-1.3c",
        "ms-pl",
        "apple-ascl",
        "apple-amlr",
        "mpl-2.0",
        "odc-by",
        "odbl",
        "openrail++",
        "osl-3.0",
        "postgresql",
        "ofl-1.1",
        "ncsa",
        "unlicense",
        "zlib",
        "pddl",
        "lgpl-lr",
        "deepfloyd-if-license",
        "fair-noncommercial-research-license",
        "llama2",
        "llama3",
        "llama3.1",
        "llama3.2",
        "llama3.3",
        "llama4",
        "gemma",
        "unknown",
        "other",
    }
)

#: Dataset task categories on the Hub.
TASK_CATEGORIES: frozenset[str] = frozenset(
    {
        "text-classification",
        "token-classification",
        "table-question-answering",
        "question-answering",
        "zero-shot-classification",
        "translation",
        "summarization",
        "feature-extraction",
        "text-generation",
        "text2text-generation",
        "fill-mask",
        "sentence-similarity",
        "text-to-speech",
        "text-to-audio",
        "automatic-speech-recognition",
        "audio-to-audio",
        "audio-classification",
        "audio-text-to-text",
        "voice-activity-detection",
        "depth-estimation",
        "image-classification",
        "object-detection",
        "image-segmentation",
        "text-to-image",
        "image-to-text",
        "image-to-image",
        "image-to-video",
        "unconditional-image-generation",
        "video-classification",
        "reinforcement-learning",
        "robotics",
        "tabular-classification",
        "tabular-regression",
        "tabular-to-text",
        "table-to-text",
        "multiple-choice",
        "text-ranking",
        "text-retrieval",
        "time-series-forecasting",
        "text-to-video",
        "image-text-to-text",
        "visual-question-answering",
        "document-question-answering",
        "zero-shot-image-classification",
        "graph-ml",
        "mask-generation",
        "zero-shot-object-detection",
        "text-to-3d",
        "image-to-3d",
        "image-feature-extraction",
        "video-text-to-text",
        "keypoint-detection",
        "visual-document-retrieval",
        "any-to-any",
        "video-to-video",
        "other",
    }
)

#: Licenses whose terms the card's license section spells out by name.
LICENSE_NAMES: dict[str, str] = {
    "apache-2.0": "Apache License 2.0",
    "mit": "MIT License",
    "cc0-1.0": "Creative Commons Zero v1.0 Universal",
    "cc-by-4.0": "Creative Commons Attribution 4.0",
    "cc-by-sa-4.0": "Creative Commons Attribution Share Alike 4.0",
    "cc-by-nc-4.0": "Creative Commons Attribution Non Commercial 4.0",
    "odc-by": "Open Data Commons Attribution License",
    "odbl": "Open Database License",
    "pddl": "Open Data Commons Public Domain Dedication and License",
}


#: Where ``datasets`` keeps its vocabularies: package data, not a documented API.
RESOURCE_PACKAGE = "datasets.utils"
RESOURCE_FOLDER = "resources"


def _resource(name: str) -> object:
    """A vocabulary file of ``datasets``; a release that moved or changed it is named."""
    try:
        resource = resources.files(RESOURCE_PACKAGE) / RESOURCE_FOLDER / name
        return json.loads(resource.read_text(encoding="utf-8"))
    except (ModuleNotFoundError, OSError, ValueError) as exc:
        raise MissingDependencyError(
            f"datasets {_datasets_version()}: cannot read its vocabulary file "
            f"{RESOURCE_PACKAGE}/{RESOURCE_FOLDER}/{name} ({type(exc).__name__}: {exc}); "
            "card metadata is checked against it",
            hint=f"pip install 'datasets=={TESTED_DATASETS}' (the release curate's card checks "
            "are tested with)",
        ) from exc


def _datasets_version() -> str:
    try:
        return metadata.version("datasets")
    except metadata.PackageNotFoundError:
        return "(not installed)"


@cache
def language_names() -> dict[str, str]:
    """Language code -> English name, as ``datasets`` lists them."""
    data = _resource("languages.json")
    assert isinstance(data, dict)
    return {str(k): str(v) for k, v in data.items()}


@cache
def languages() -> frozenset[str]:
    """Language codes ``datasets`` knows (ISO 639-1/2/3 and a few specials)."""
    return frozenset(language_names())


@cache
def multilinguality() -> frozenset[str]:
    data = _resource("multilingualities.json")
    assert isinstance(data, dict)
    return frozenset(data)


@cache
def size_categories() -> tuple[str, ...]:
    """Size buckets in increasing order, as ``datasets`` lists them."""
    data = _resource("size_categories.json")
    assert isinstance(data, list)
    return tuple(str(x) for x in data)


@cache
def creators(kind: str) -> frozenset[str]:
    """``language`` or ``annotations`` creator kinds."""
    data = _resource("creators.json")
    assert isinstance(data, dict)
    return frozenset(data[kind])


def size_category(rows: int) -> str:
    """The Hub size bucket for a row count.

    >>> size_category(999), size_category(1000), size_category(2_500_000)
    ('n<1K', '1K<n<10K', '1M<n<10M')
    """
    bounds = [10**k for k in range(3, 13)]  # 1K .. 1T
    names = [c for c in size_categories() if c not in {"unknown"}]
    for bound, name in zip(bounds, names, strict=False):
        if rows < bound:
            return name
    return names[-1]
