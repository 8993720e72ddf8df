"""Card sections about the dataset itself and how the run made it."""

from __future__ import annotations

import json

import yaml

from curate.card import decontamination, mixture, prompts, tokens
from curate.card.columns import meanings, prefixes, renamed, writers
from curate.card.facts import DatasetFacts
from curate.card.markdown import cell, code, code_span, human_bytes, percent, table, text
from curate.card.options import CardOptions


def _params(params: object) -> str:
    """Stage parameters on one line, compact JSON (stable and unambiguous)."""
    if not params:
        return ""
    return json.dumps(params, sort_keys=True, separators=(", ", ": "), ensure_ascii=False)


def details(facts: DatasetFacts, options: CardOptions, license_text: str) -> str:
    rows: list[tuple[str, object]] = [
        ("Curated by", text(", ".join(options.authors)) or None),
        ("License", license_text),
        ("Homepage", options.homepage and text(options.homepage)),
        ("Repository", options.repository and text(options.repository)),
        ("Contact", options.contact and text(options.contact)),
        ("Rows", facts.rows),
        ("Size of the Parquet files", human_bytes(sum(s.size for s in facts.splits))),
        ("Created", text(facts.run.get("created") or "") or None),
    ]
    shown = [(k, v) for k, v in rows if v not in (None, "")]
    return "## Dataset Details\n\n" + table(["", ""], shown)


def uses(options: CardOptions) -> str:
    return "\n\n".join(
        [
            "## Uses",
            "### Direct Use",
            prompts.block("intended_uses", options.intended_uses),
            "### Out-of-Scope Use",
            prompts.block("out_of_scope_uses", options.out_of_scope_uses),
        ]
    )


def structure(facts: DatasetFacts) -> str:
    prefixed = prefixes(facts.recipe)
    wrote = writers(facts.stages, facts.schema.names, prefixed=prefixed)
    meaning = meanings(facts.schema, renamed=renamed(facts.stages, prefixed), written=set(wrote))
    columns = table(
        ["column", "type", "written by", "meaning"],
        [
            (
                code_span(f.name),
                code_span(f.type),
                text(wrote.get(f.name, "input")),
                meaning[f.name],
            )
            for f in facts.schema
        ],
    )
    return "\n\n".join(
        [
            "## Dataset Structure",
            "Each row is one document. Columns, their Arrow types, and the stage that wrote them:",
            columns,
            "### Data Splits",
            _splits(facts),
        ]
    )


def _splits(facts: DatasetFacts) -> str:
    """The splits table; with the rows read and removed per split when the run carried several
    (a split whose rows were all removed has no file but keeps its row)."""
    counted = facts.run.get("splits")
    if not isinstance(counted, dict) or not counted:
        return table(
            ["split", "rows", "files", "Parquet size", "in memory"],
            [
                (text(s.name), s.rows, len(s.files), human_bytes(s.size), human_bytes(s.num_bytes))
                for s in facts.splits
            ],
        )
    found = {s.name: s for s in facts.splits}
    rows = []
    for name, n in counted.items():
        s = found.get(name)
        rows.append(
            (
                text(name),
                n.get("rows_in", 0),
                n.get("rows_removed", 0),
                s.rows if s else 0,
                len(s.files) if s else 0,
                human_bytes(s.size if s else 0),
                human_bytes(s.num_bytes if s else 0),
            )
        )
    return table(
        ["split", "rows read", "removed", "rows", "files", "Parquet size", "in memory"], rows
    )


def _inputs(facts: DatasetFacts) -> str:
    source = facts.run.get("input")
    if not isinstance(source, dict):
        return ""
    rows: list[tuple[str, object]] = [
        ("Paths", ", ".join(code_span(p) for p in source.get("paths", [])))
    ]
    if source.get("fingerprint"):
        rows.append(("Fingerprint", code_span(source["fingerprint"])))
    if source.get("registry_refs"):
        rows.append(("Registry versions", ", ".join(code_span(r) for r in source["registry_refs"])))
    rows.append(("Rows read", facts.run.get("rows_in")))
    return "The run read:\n\n" + table(["", ""], rows)


def _processing(facts: DatasetFacts, *, on_hub: bool) -> str:
    stages = facts.stages
    if isinstance(facts.run.get("mixture"), dict):
        return mixture.section(facts)
    if not stages:
        return "No run report (`curate/run.json`) was found, so the processing is not described."
    head = ["#", "stage", "parameters", "rows in", "rows out", "removed", "seconds"]
    body = [
        (
            i,
            code_span(s.get("label") or s.get("use")),
            code_span(_params(s.get("params"))) if s.get("params") else "",
            s.get("rows_in"),
            s.get("rows_out"),
            s.get("removed"),
            round(float(s.get("seconds") or 0.0), 2),
        )
        for i, s in enumerate(stages, 1)
    ]
    reasons = [
        (
            code_span(s.get("label") or s.get("use")),
            code_span(reason),
            n,
            percent(n, s.get("rows_in") or 0),
        )
        for s in stages
        for reason, n in sorted((s.get("removed_by_reason") or {}).items(), key=lambda kv: -kv[1])
    ]
    rows_in, rows_out = facts.run.get("rows_in"), facts.run.get("rows_out")
    seconds = cell(round(float(facts.run.get("seconds") or 0), 2))
    parts = [
        f"The recipe ran {len(stages)} {'stage' if len(stages) == 1 else 'stages'} in {seconds} s, "
        f"keeping {cell(rows_out)} of {cell(rows_in)} documents "
        f"({percent(float(rows_out or 0), float(rows_in or 0))}). "
        + (
            "Every removed document was recorded in the removal ledger with its stage and "
            "reason; the ledger is not part of this repository (below)."
            if on_hub
            else "Every removed document is kept in the removal ledger "
            "(`curate/removed/*.parquet`) with its stage and reason."
        ),
        table(head, body),
    ]
    if reasons:
        parts += [
            "Removals by reason (share of the stage's input):",
            table(["stage", "reason", "rows", "share"], reasons),
        ]
    parts.append(ledger(facts, on_hub=on_hub))
    return "\n\n".join(parts)


#: What the ledger's text column holds, as the run report's ``output.ledger_text`` states it.
LEDGER_TEXT = {
    "as read": "the **raw text** of every removed document, as the stage that removed it saw it; "
    "personal data in it was not redacted",
    "redacted": "the text of every removed document with the personal data the recipe's "
    "`redact.pii` stage recognises redacted (pattern-based redaction misses some)",
    "dropped": "no text: only each removed document's id, stage and reason",
}


def ledger_holds(facts: DatasetFacts) -> str:
    """A key of :data:`LEDGER_TEXT`: the run report's statement, else what the recipe's
    ``output.ledger_text`` did (``redact`` redacts only when the recipe has ``redact.pii``)."""
    output = facts.run.get("output")
    stated = output.get("ledger_text") if isinstance(output, dict) else None
    if stated in LEDGER_TEXT:
        return str(stated)
    recipe_output = facts.recipe.get("output")
    mode = recipe_output.get("ledger_text") if isinstance(recipe_output, dict) else None
    if mode == "drop":
        return "dropped"
    if mode == "redact" and any(s.get("use") == "redact.pii" for s in facts.stages):
        return "redacted"
    return "as read"


def ledger(facts: DatasetFacts, *, on_hub: bool = False) -> str:
    """What the removal ledger holds, and how to keep it out of an upload to the Hub; on the
    Hub, that it was kept out (``curate publish --hub`` never uploads it)."""
    holds = LEDGER_TEXT[ledger_holds(facts)]
    if on_hub:
        return (
            f"The removal ledger (`curate/removed/`, which holds {holds}) was not uploaded to "
            "this repository: it stays with the publisher's copy of this version."
        )
    return (
        f"The removal ledger (`curate/removed/`) holds {holds}. It "
        "is part of this folder but not of the dataset: the card's `configs` point only at "
        "`data/`. Leave it out when uploading the folder anywhere, e.g. to the Hugging Face Hub "
        'with `HfApi().upload_folder(..., ignore_patterns=["curate/removed/*"])` or '
        "`hf upload ORG/NAME . --repo-type dataset --exclude 'curate/removed/*'`."
    )


def _software(facts: DatasetFacts) -> str:
    versions = facts.versions
    if not versions:
        return ""
    models = versions.get("models")
    models = models if isinstance(models, dict) else {}
    libs = [(k, v) for k, v in versions.items() if k != "models"]
    parts = [
        "### Software and Models",
        table(["software", "version"], [(text(k), code_span(v)) for k, v in libs]),
    ]
    if models:
        found = [(text(k), code_span(v)) for k, v in sorted(models.items())]
        parts.append(table(["model", "sha256"], found))
    return "\n\n".join(parts)


def _recipe(facts: DatasetFacts) -> str:
    if not facts.recipe:
        return ""
    dumped = yaml.safe_dump(facts.recipe, sort_keys=False, allow_unicode=True)
    return "\n\n".join(
        [
            "### Recipe",
            "The fully resolved recipe (defaults filled); `curate run` on it reproduces this "
            "dataset:",
            code(dumped, "yaml"),
        ]
    )


def creation(facts: DatasetFacts, options: CardOptions, *, on_hub: bool = False) -> str:
    parts = [
        "## Dataset Creation",
        "### Curation Rationale",
        prompts.block("motivation", options.motivation),
        "### Source Data",
        "#### Data Collection",
        prompts.block("collection", options.collection),
        _inputs(facts),
        "#### Processing",
        _processing(facts, on_hub=on_hub),
        decontamination.section(facts),
        tokens.section(facts),
        _software(facts),
        _recipe(facts),
        "### Personal and Sensitive Information",
        prompts.block("consent", options.consent),
    ]
    if "pii_count" in facts.schema.names:
        parts.append(
            "The `redact.pii` stage replaced personal data it recognised; `pii_count` says how "
            "many spans each document lost. Pattern-based redaction misses some personal data."
        )
    return "\n\n".join(p for p in parts if p)
