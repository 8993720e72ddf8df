"""The card's "Tokens" section, when a ``score.tokens`` stage wrote ``n_tokens``: tokens per split
and per language, summed as the run report sums them (:func:`curate.tokens.totals.token_totals`).
"""

from __future__ import annotations

from curate.card.facts import DatasetFacts
from curate.card.markdown import cell, code_span, percent, table, text
from curate.tokens.totals import token_totals

COLUMN = "n_tokens"


def section(facts: DatasetFacts) -> str:
    """Markdown for the token counts; empty without an ``n_tokens`` column."""
    if COLUMN not in facts.schema.names:
        return ""
    totals = token_totals([f.path for f in facts.files])
    total = int(totals["total"])
    per_split: dict[str, int] = totals["by_split"]
    per_lang: dict[str, int] = totals.get("by_language", {})
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
        rows = [(code_span(k), cell(v), percent(v, total)) for k, v in per_lang.items()]
        parts.append(table(["language", "tokens", "share"], rows))
    return "\n\n".join(parts)
