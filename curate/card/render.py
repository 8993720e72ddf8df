"""Assemble the dataset card: YAML front matter dumped from data, then the Markdown sections."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import PurePosixPath

import yaml

from curate.card import findings, prompts, sections, stats
from curate.card.facts import DatasetFacts
from curate.card.markdown import code, percent
from curate.card.metadata import front_matter
from curate.card.options import CardOptions
from curate.card.vocab import LICENSE_NAMES


def dump_front_matter(data: dict[str, object]) -> str:
    """The ``---`` delimited YAML header; keys keep the order they were built in."""
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return f"---\n{body}---\n"


def license_text(options: CardOptions) -> str:
    if options.license == "other":
        name = options.license_name or "a custom license"
        return f"{name} ({options.license_link})" if options.license_link else name
    if not options.license:
        return "not stated (`unknown`): set `card: {license: ...}` in the recipe"
    full = LICENSE_NAMES.get(options.license)
    return f"`{options.license}` ({full})" if full else f"`{options.license}`"


def _summary(facts: DatasetFacts, options: CardOptions, languages: Counter[str]) -> str:
    description = options.description or str(facts.recipe.get("description") or "").strip()
    rows_in = facts.run.get("rows_in")
    sentence = f"It holds {facts.rows:,} documents"
    if isinstance(rows_in, int) and rows_in:
        sentence += f", {percent(facts.rows, rows_in)} of the {rows_in:,} the curation read"
    total = sum(languages.values())
    if total:
        top = ", ".join(f"`{lang}` ({percent(n, total)})" for lang, n in languages.most_common(3))
        sentence += f"; main languages: {top}"
    made = (
        f"This dataset was curated with [curate](https://pypi.org/project/llmos-curate/) "
        f"from the recipe `{facts.name}`."
    )
    parts = ["## Dataset Summary", description, f"{made} {sentence}."]
    return "\n\n".join(p for p in parts if p)


def _load(facts: DatasetFacts, *, ref: str | None, hub_repo: str | None) -> str:
    output = facts.recipe.get("output")
    folder = output.get("path") if isinstance(output, dict) else None
    folder = str(folder or facts.root.name)
    lines = ["## How to Load"]
    if ref:
        lines += [
            "From the curate registry, with checksums verified before anything is read:",
            code(
                "import curate.registry\n\n"
                f'ds = curate.registry.load("{ref}", split="train")\nprint(ds)',
                "python",
            ),
        ]
    if hub_repo:
        lines += [
            "From the Hugging Face Hub:",
            code(
                "from datasets import load_dataset\n\n"
                f'ds = load_dataset("{hub_repo}", split="train")\nprint(ds)',
                "python",
            ),
        ]
    if ref:
        lines.append(
            f"Any tool that reads Parquet or Hugging Face folders can also read the version "
            f"folder that `curate registry path {ref}` prints."
        )
    else:
        lines += [
            "From this folder (the path is relative to the directory the recipe ran in):",
            code(
                "from datasets import load_dataset\n\n"
                f'ds = load_dataset("{PurePosixPath(folder)}", split="train")\nprint(ds)',
                "python",
            ),
        ]
    return "\n\n".join(lines)


def _bibtex_key(name: str, year: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower() + year


def bibtex(facts: DatasetFacts, options: CardOptions) -> str:
    """The author's citation, or a ``@misc`` entry generated from the card's fields."""
    if options.citation:
        return options.citation.strip()
    year = str(facts.run.get("created") or "")[:4]
    fields = {
        "title": options.pretty_name or facts.name,
        "author": " and ".join(options.authors) or None,
        "year": year or None,
        "howpublished": options.homepage or options.repository,
        "note": "Curated with curate",
    }
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields.items() if v)
    return f"@misc{{{_bibtex_key(facts.name, year)},\n{body}\n}}"


def _citation(facts: DatasetFacts, options: CardOptions) -> str:
    entry = code(bibtex(facts, options), "bibtex")
    if options.citation:
        return "## Citation\n\n" + entry
    return (
        "## Citation\n\nNo citation was provided; this entry was generated from the card's fields "
        "(set `card: {citation: ...}` to replace it):\n\n" + entry
    )


def render(
    facts: DatasetFacts,
    options: CardOptions,
    *,
    languages: Counter[str] | None = None,
    ref: str | None = None,
    hub_repo: str | None = None,
) -> str:
    """The full README.md text for a dataset folder (``languages``: counts, if already known)."""
    if languages is None:
        languages = stats.language_counts(facts)
    threshold = facts.audit.get("toxicity_threshold")
    parts = [
        dump_front_matter(front_matter(facts, options, languages)),
        f"# Dataset Card for {options.pretty_name or facts.name}",
        _summary(facts, options, languages),
        sections.details(facts, options, license_text(options)),
        sections.uses(options),
        sections.structure(facts),
        sections.creation(facts, options),
        findings.languages(facts, languages),
        findings.duplicates(facts),
        findings.scores(facts, float(threshold) if isinstance(threshold, (int, float)) else None),
        findings.bias(facts),
        _load(facts, ref=ref, hub_repo=hub_repo),
        "## Maintenance\n\n" + prompts.block("maintenance", options.maintenance),
        "## License\n\n" + f"The dataset is released under {license_text(options)}. The source "
        "texts keep the terms their authors published them under.",
        _citation(facts, options),
    ]
    if options.authors or options.contact:
        who = ", ".join(options.authors) or ""
        parts.append(
            "## Dataset Card Authors\n\n"
            + who
            + (f"\n\nContact: {options.contact}" if options.contact else "")
        )
    return "\n\n".join(p.strip("\n") for p in parts if p) + "\n"
