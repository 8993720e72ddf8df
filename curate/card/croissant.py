"""Croissant 1.0 JSON-LD metadata (``OUT/croissant.json``) with the Responsible-AI extension.

Files are listed with their sha256, a record set mirrors the Arrow schema column by column, and
the ``rai:`` fields are filled from the run report and the audit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from curate import __version__
from curate.card.columns import meanings, prefixes, renamed, writers
from curate.card.facts import DatasetFacts
from curate.card.findings import audit_findings
from curate.card.options import CardOptions
from curate.card.render import bibtex

CROISSANT = "http://mlcommons.org/croissant/1.0"
CROISSANT_RAI = "http://mlcommons.org/croissant/RAI/1.0"
PARQUET = "application/x-parquet"

#: The Croissant 1.0 JSON-LD context (term -> IRI), as the specification defines it.
CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}


def sha256_file(path: Path, *, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def data_type(kind: pa.DataType) -> tuple[str, bool]:
    """Croissant data type of an Arrow type, and whether the value is a list.

    >>> data_type(pa.list_(pa.string())), data_type(pa.int32())
    (('sc:Text', True), ('sc:Integer', False))
    """
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        inner, _ = data_type(kind.value_type)
        return inner, True
    if pa.types.is_boolean(kind):
        return "sc:Boolean", False
    if pa.types.is_integer(kind):
        return "sc:Integer", False
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return "sc:Float", False
    if pa.types.is_date(kind):
        return "sc:Date", False
    if pa.types.is_timestamp(kind):
        return "sc:DateTime", False
    return "sc:Text", False  # strings, and nested values a reader sees serialised


def _rai(facts: DatasetFacts, options: CardOptions) -> dict[str, Any]:
    stages = facts.stages
    protocol = [
        f"{s.get('label') or s.get('use')} {json.dumps(s.get('params') or {}, sort_keys=True)}: "
        f"{s.get('rows_in')} rows in, {s.get('rows_out')} rows out"
        for s in stages
    ]
    models = facts.versions.get("models")
    models = models if isinstance(models, dict) else {}
    audit = facts.audit
    biases = audit_findings(audit)
    if not audit:
        biases = ["The dataset was not audited for bias (run `curate audit`)."]
    rai: dict[str, Any] = {
        "rai:dataCollection": options.collection or "Not described by the author.",
        "rai:dataPreprocessingProtocol": protocol or ["No run report."],
        "rai:dataAnnotationProtocol": "Scores and labels were added by automatic models and "
        "lexicons during curation; no human annotation.",
        "rai:machineAnnotationTools": [f"{k} (sha256 {v})" for k, v in sorted(models.items())]
        or [f"curate {__version__}"],
        "rai:dataBiases": biases or ["The bias audit found no disparity above its thresholds."],
        "rai:dataLimitations": [
            "Language, toxicity, quality and identity columns are machine-generated and carry "
            "the errors of the models and word lists that produced them.",
            "Filtering on these scores can remove text unevenly across dialects and groups; "
            "removed documents are kept in the removal ledger.",
        ],
    }
    if options.intended_uses:
        rai["rai:dataUseCases"] = options.intended_uses
    if options.consent:
        rai["rai:personalSensitiveInformation"] = options.consent
    if options.maintenance:
        rai["rai:dataReleaseMaintenancePlan"] = options.maintenance
    return rai


def croissant(
    facts: DatasetFacts,
    options: CardOptions,
    *,
    languages: list[str] | None = None,
    url: str | None = None,
    version: str | None = None,
    checksums: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The Croissant document for a dataset folder, as JSON-able data.

    ``checksums`` maps a data file's relative path to its sha256 when the caller already knows
    it (the registry does), saving a second read of every file. ``version`` is the registry
    version and ``url`` the dataset's page (the Hub's once uploaded there); without them the
    author's ``homepage`` (or ``repository``) is the URL and no version is claimed.
    """
    known = checksums or {}
    files: list[dict[str, Any]] = [
        {
            "@type": "cr:FileObject",
            "@id": f.path.relative_to(facts.root).as_posix(),
            "name": f.path.relative_to(facts.root).as_posix(),
            "contentUrl": f.path.relative_to(facts.root).as_posix(),
            "contentSize": f"{f.size} B",
            "encodingFormat": PARQUET,
            "sha256": known.get(f.path.relative_to(facts.root).as_posix()) or sha256_file(f.path),
        }
        for f in facts.files
    ]
    file_set = {
        "@type": "cr:FileSet",
        "@id": "parquet-files",
        "name": "parquet-files",
        "description": "Every Parquet shard of the dataset.",
        "encodingFormat": PARQUET,
        "includes": "data/*.parquet",
    }
    fields = []
    # Croissant drops an empty column name, so an unnamed column (a CSV's index with header "")
    # cannot be extracted; it is left out and the record set says so.
    unnamed = [f.name for f in facts.schema if not f.name.strip()]
    prefixed = prefixes(facts.recipe)
    wrote = writers(facts.stages, facts.schema.names, prefixed=prefixed)
    described = meanings(facts.schema, renamed=renamed(facts.stages, prefixed), written=set(wrote))
    for f in facts.schema:
        if not f.name.strip():
            continue
        kind, repeated = data_type(f.type)
        entry: dict[str, Any] = {
            "@type": "cr:Field",
            "@id": f"default/{f.name}",
            "name": f.name,
            "description": described[f.name],
            "dataType": kind,
            "source": {"fileSet": {"@id": "parquet-files"}, "extract": {"column": f.name}},
        }
        if repeated:
            entry["repeated"] = True
        fields.append(entry)
    record_set: dict[str, Any] = {
        "@type": "cr:RecordSet",
        "@id": "default",
        "name": "default",
        "description": f"One record per document ({facts.rows} records)."
        + (
            f" {len(unnamed)} unnamed column(s) of the Parquet files are not described: "
            "Croissant cannot refer to a column without a name."
            if unnamed
            else ""
        ),
        "field": fields,
    }
    if "id" in facts.schema.names:
        record_set["key"] = {"@id": "default/id"}
    description = options.description or str(facts.recipe.get("description") or "")
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": [CROISSANT, CROISSANT_RAI],
        "name": facts.name,
        "alternateName": options.pretty_name or facts.name,
        "description": description or f"Text corpus curated with curate ({facts.rows} documents).",
        "license": license_url(options),
        "url": url or options.homepage or options.repository,
        "version": version,
        "datePublished": str(facts.run.get("created") or "")[:10] or None,
        "citeAs": bibtex(facts, options),
        "creator": [{"@type": "sc:Person", "name": a} for a in options.authors] or None,
        "keywords": ["curate", *options.tags],
        "inLanguage": languages or None,
        "distribution": [*files, file_set],
        "recordSet": [record_set],
        **_rai(facts, options),
    }
    if facts.run.get("partial") is True:
        doc["rai:dataLimitations"] = [
            "Partial run: written by a run limited with --limit, so it holds only part of what "
            "the recipe keeps from its input.",
            *doc["rai:dataLimitations"],
        ]
    return {k: v for k, v in doc.items() if v not in (None, [], "")}


#: Hub license ids whose SPDX id is not simply the upper-cased Hub id.
_SPDX = {
    "apache-2.0": "Apache-2.0",
    "mit": "MIT",
    "odc-by": "ODC-By-1.0",
    "odbl": "ODbL-1.0",
    "pddl": "PDDL-1.0",
    "mpl-2.0": "MPL-2.0",
    "gpl-3.0": "GPL-3.0-only",
    "gpl-2.0": "GPL-2.0-only",
    "lgpl-3.0": "LGPL-3.0-only",
    "agpl-3.0": "AGPL-3.0-only",
    "bsd-3-clause": "BSD-3-Clause",
    "bsd-2-clause": "BSD-2-Clause",
    "unlicense": "Unlicense",
}


def license_url(options: CardOptions) -> str:
    """A URL for the license: SPDX's page where one exists, the author's link for ``other``.

    >>> license_url(CardOptions(license="cc-by-4.0"))
    'https://spdx.org/licenses/CC-BY-4.0.html'
    """
    lic = options.license
    if lic == "other":
        return options.license_link or options.license_name or "other"
    if not lic or lic == "unknown":
        return "unknown"
    spdx = _SPDX.get(lic) or (lic.upper() if lic.startswith("cc") else None)
    return f"https://spdx.org/licenses/{spdx}.html" if spdx else lic


def write_croissant(
    facts: DatasetFacts,
    options: CardOptions,
    *,
    languages: list[str] | None = None,
    url: str | None = None,
    version: str | None = None,
    checksums: Mapping[str, str] | None = None,
) -> Path:
    """Write ``croissant.json`` next to the card; return its path."""
    from curate.card import atomic_write

    doc = croissant(
        facts, options, languages=languages, url=url, version=version, checksums=checksums
    )
    path = facts.root / "croissant.json"
    atomic_write(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    return path
