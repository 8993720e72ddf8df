"""Assemble the dataset card: YAML front matter dumped from data, then the Markdown sections."""

from __future__ import annotations

import json
import re
from collections import Counter

import yaml

from curate.card import findings, prompts, sections, stats
from curate.card.facts import DatasetFacts
from curate.card.markdown import code, code_span, percent, text
from curate.card.metadata import front_matter, listed_languages
from curate.card.options import CardOptions
from curate.card.vocab import LICENSE_NAMES


def dump_front_matter(data: dict[str, object]) -> str:
    """The ``---`` delimited YAML header; keys keep the order they were built in.

    The safe dumper quotes whatever YAML would read differently (``yes``, ``#``, ``: ``) and
    indents every continuation line, so no value can end the header early:

    >>> print(dump_front_matter({"pretty_name": "a\\n---\\nb", "tag": "yes"}), end="")
    ---
    pretty_name: 'a
    <BLANKLINE>
      ---
    <BLANKLINE>
      b'
    tag: 'yes'
    ---
    """
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return f"---\n{body}---\n"


def license_text(options: CardOptions) -> str:
    if options.license == "other":
        name = text(options.license_name or "a custom license")
        return f"{name} ({text(options.license_link)})" if options.license_link else name
    if not options.license:
        return "not stated (`unknown`): set `card: {license: ...}` in the recipe"
    full = LICENSE_NAMES.get(options.license)
    lic = code_span(options.license)
    return f"{lic} ({full})" if full else lic


def _partial(facts: DatasetFacts) -> str:
    if facts.run.get("partial") is not True:
        return ""
    return (
        "> **Partial run.** This folder was written by a run limited with `--limit`: it holds "
        "only part of what the recipe would keep from its input. Use it to try the recipe, not "
        "as the dataset (`curate publish` refuses it without `--allow-partial`)."
    )


def _summary(facts: DatasetFacts, options: CardOptions, languages: Counter[str]) -> str:
    description = text(options.description or str(facts.recipe.get("description") or "").strip())
    rows_in = facts.run.get("rows_in")
    sentence = f"It holds {facts.rows:,} documents"
    if isinstance(rows_in, int) and rows_in:
        sentence += f", {percent(facts.rows, rows_in)} of the {rows_in:,} the curation read"
    total = sum(languages.values())
    if total:
        top = ", ".join(
            f"{code_span(lang)} ({percent(n, total)})" for lang, n in languages.most_common(3)
        )
        sentence += f"; main languages: {top}"
    made = (
        f"This dataset was curated with [curate](https://pypi.org/project/llmos-curate/) "
        f"from the recipe {code_span(facts.name)}."
    )
    parts = ["## Dataset Summary", _partial(facts), description, f"{made} {sentence}."]
    return "\n\n".join(p for p in parts if p)


def _load(facts: DatasetFacts, *, ref: str | None, hub_repo: str | None) -> str:
    """Code that loads the data: from the Hub when published there, from the registry for a
    registry version, else from the folder holding this card (paths relative to the card)."""
    split = facts.splits[0].name if facts.splits else "train"
    lines = ["## How to Load"]
    if hub_repo:
        lines += [
            "From the Hugging Face Hub:",
            code(
                "from datasets import load_dataset\n\n"
                f"ds = load_dataset({json.dumps(hub_repo)}, split={json.dumps(split)})\nprint(ds)",
                "python",
            ),
        ]
    if ref:
        lines += [
            "From the curate registry, with checksums verified before anything is read:",
            code(
                "import curate.registry\n\n"
                f"ds = curate.registry.load({json.dumps(ref)}, split={json.dumps(split)})\n"
                "print(ds)",
                "python",
            ),
            f"Any tool that reads Parquet or Hugging Face folders can also read the version "
            f"folder that `curate registry path {text(ref)}` prints.",
        ]
    if not hub_repo and not ref:
        files = {s.name: f"data/{s.name}-*.parquet" for s in facts.splits}
        lines += [
            "From the folder holding this card (the paths are relative to it: run this there, "
            "or put the folder's path in front of them):",
            code(
                "from datasets import load_dataset\n\n"
                f'ds = load_dataset("parquet", data_files={json.dumps(files)}, '
                f"split={json.dumps(split)})\nprint(ds)",
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
    listed = listed_languages(options, languages)
    parts = [
        dump_front_matter(front_matter(facts, options, languages)),
        f"# Dataset Card for {text(options.pretty_name or facts.name)}",
        _summary(facts, options, languages),
        sections.details(facts, options, license_text(options)),
        sections.uses(options),
        sections.structure(facts),
        sections.creation(facts, options, on_hub=hub_repo is not None),
        findings.languages(facts, languages, listed),
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
        who = text(", ".join(options.authors))
        parts.append(
            "## Dataset Card Authors\n\n"
            + who
            + (f"\n\nContact: {text(options.contact)}" if options.contact else "")
        )
    return "\n\n".join(p.strip("\n") for p in parts if p) + "\n"
