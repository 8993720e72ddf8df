"""Built-in stages by name, with their one-line summaries, without importing any stage module.

``curate stages`` lists from this table, so listing costs no pyarrow, polars, sqlglot or model
runtime; ``curate stages NAME`` and recipes import the one module they need. The table must match
the stage classes (tests/test_cli_startup.py checks every reference and summary against
:data:`curate.stages.BUILTINS` and the classes themselves).

>>> STAGES["score.quality"][0]
'curate.stages.score_quality:ScoreQuality'
"""

from __future__ import annotations

from importlib.metadata import entry_points

#: Built-in stage name -> ("module:Class", the class's ``summary``).
STAGES: dict[str, tuple[str, str]] = {
    "normalize": (
        "curate.stages.normalize:Normalize",
        "Unicode normalisation (NFC), mojibake repair with ftfy, whitespace.",
    ),
    "filter": (
        "curate.stages.filter:Filter",
        "Keep rows where a SQL boolean expression over columns is true.",
    ),
    "dedup.exact": (
        "curate.stages.dedup_exact:DedupExact",
        "Remove exact duplicates after normalisation (NFKC, lowercase, whitespace), keep "
        "the first.",
    ),
    "dedup.paragraphs": (
        "curate.stages.dedup_paragraphs:DedupParagraphs",
        "Remove paragraphs or lines repeated in many documents (boilerplate), as CCNet and Dolma.",
    ),
    "dedup.minhash": (
        "curate.stages.dedup_minhash:DedupMinhash",
        "Near-duplicate removal: MinHash LSH over word (or character) n-grams, "
        "union-find clusters.",
    ),
    "score.language": (
        "curate.stages.score_language:ScoreLanguage",
        "Language of each document with a fastText LID model (lid.176 by default): lang "
        "(ISO 639) and lang_score.",
    ),
    "score.quality": (
        "curate.stages.score_quality:ScoreQuality",
        "Quality signals of Gopher, C4 and FineWeb (word, line, repetition) as quality_* columns.",
    ),
    "score.toxicity": (
        "curate.stages.score_toxicity:ScoreToxicity",
        "Toxicity probability per document (default linear model, Detoxify, or any HF classifier).",
    ),
    "score.classifier": (
        "curate.stages.score_classifier:ScoreClassifier",
        "Score documents with a fastText (.bin/.ftz) or hf: text classifier: <prefix>_score.",
    ),
    "score.identity": (
        "curate.stages.score_identity:ScoreIdentity",
        "Identity groups each document mentions (identities: axis/group list) from lexicons.",
    ),
    "redact.pii": (
        "curate.stages.redact_pii:RedactPii",
        "Replace e-mails, IPs, phone and card numbers with typed placeholders; pii_count.",
    ),
    "decontaminate": (
        "curate.stages.decontaminate:Decontaminate",
        "Remove documents that share word n-grams with evaluation sets (benchmark leakage).",
    ),
    "score.tokens": (
        "curate.stages.score_tokens:ScoreTokens",
        "Tokens per document (n_tokens) for a Hugging Face tokenizer.",
    ),
}


def summaries() -> dict[str, str]:
    """Every stage name with its summary: built-ins from the table, plugins by loading them.

    Plugins (entry point group ``curate.stages``) have no table, so each one is imported here;
    a broken plugin is reported as :func:`curate.stages.get_stage` reports it.
    """
    out = {name: summary for name, (_, summary) in STAGES.items()}
    plugins = sorted(ep.name for ep in entry_points(group="curate.stages"))
    if plugins:
        from curate.stages import get_stage, stage_names

        stage_names()  # refuses a plugin that reuses a name, as recipes do
        out.update({name: get_stage(name).summary for name in plugins})
    return out
