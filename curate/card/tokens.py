"""The card's "Tokens" section, when a ``score.tokens`` stage wrote ``n_tokens``: tokens per split
and per language, read from those two columns only.
"""

from __future__ import annotations

from collections import Counter

import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.card.facts import DatasetFacts
from curate.card.markdown import cell, code_span, percent, table, text

COLUMN = "n_tokens"


def counts(facts: DatasetFacts) -> tuple[dict[str, int], Counter[str]]:
    """Tokens per split, and per ``lang`` value (``und`` when missing) over every split."""
    per_split: dict[str, int] = {}
    per_lang: Counter[str] = Counter()
    with_lang = "lang" in facts.schema.names
    for split in facts.splits:
        total = 0
        for f in split.files:
            table_ = pq.read_table(f.path, columns=[COLUMN, *(["lang"] if with_lang else [])])
            total += int(pc.sum(table_.column(COLUMN)).as_py() or 0)
            if with_lang:
                grouped = table_.group_by("lang").aggregate([(COLUMN, "sum")])
                for lang, n in zip(
                    grouped.column("lang").to_pylist(), grouped.column(1).to_pylist()
                ):
                    per_lang[str(lang or "und")] += int(n or 0)
        per_split[split.name] = total
    return per_split, per_lang


def section(facts: DatasetFacts) -> str:
    """Markdown for the token counts; empty without an ``n_tokens`` column."""
    if COLUMN not in facts.schema.names:
        return ""
    per_split, per_lang = counts(facts)
    total = sum(per_split.values())
    tokenizers = [
        s.get("params", {}).get("tokenizer")
        for s in facts.stages
        if s.get("use") == "score.tokens" and isinstance(s.get("params"), dict)
    ]
    source = f" of {code_span(tokenizers[-1])}" if tokenizers else ""
    parts = [
        "### Tokens",
        f"{cell(total)} tokens{source} in all (`{COLUMN}`: the text alone, no special tokens).",
        table(["split", "tokens"], [(text(k), cell(v)) for k, v in per_split.items()]),
    ]
    if per_lang:
        rows = [(code_span(k), cell(v), percent(v, total)) for k, v in per_lang.most_common()]
        parts.append(table(["language", "tokens", "share"], rows))
    return "\n\n".join(parts)
