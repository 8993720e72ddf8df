"""Sections only an author can write, as marked blocks that survive re-rendering the card.

A block looks like::

    <!-- curate:author motivation -->
    text the author wrote (or the prompt, while nobody has)
    <!-- /curate:author -->

Re-rendering keeps whatever the author put between the markers; an unanswered prompt is
recognised by its leading words and replaced by the current prompt text.
"""

from __future__ import annotations

import re

PROMPT_PREFIX = "_[To be written by the dataset author:"

#: Field -> (section heading, the question the author answers).
QUESTIONS: dict[str, tuple[str, str]] = {
    "motivation": (
        "Curation Rationale",
        "why was this dataset created, by whom, and who funded it?",
    ),
    "collection": (
        "Data Collection",
        "where does the source text come from, who produced it, and when was it collected?",
    ),
    "consent": (
        "Personal and Sensitive Information",
        "did the people the text is about or by consent to its collection and use? "
        "Does it contain personal or sensitive information, and what was done about it?",
    ),
    "intended_uses": ("Direct Use", "what is this dataset meant to be used for?"),
    "out_of_scope_uses": (
        "Out-of-Scope Use",
        "what uses is this dataset not suited for, or must it not be used for?",
    ),
    "maintenance": (
        "Maintenance",
        "who maintains the dataset, how are errors reported, and will it be updated?",
    ),
}

_BLOCK = re.compile(
    r"<!-- curate:author (?P<key>[a-z_]+) -->\n(?P<body>.*?)\n?<!-- /curate:author -->",
    re.DOTALL,
)


def prompt(key: str) -> str:
    """The placeholder shown until the author fills a section.

    >>> prompt("maintenance").startswith(PROMPT_PREFIX)
    True
    """
    question = QUESTIONS[key][1]
    return (
        f"{PROMPT_PREFIX} {question} Fill it with `curate card DATASET --set {key}=...`, "
        f"a `card: {{{key}: ...}}` entry in the recipe, or by editing this text between the "
        "markers (it is kept when the card is re-rendered).]_"
    )


def is_prompt(text: str) -> bool:
    return text.strip().startswith(PROMPT_PREFIX)


def block(key: str, text: str | None) -> str:
    """A marked block holding the author's text, or the prompt when there is none."""
    body = text.strip() if text and text.strip() else prompt(key)
    return f"<!-- curate:author {key} -->\n{body}\n<!-- /curate:author -->"


def carried_over(readme: str) -> dict[str, str]:
    """Author text found in an existing card, prompts left out.

    >>> old = block("motivation", "Built to test curate.") + block("consent", None)
    >>> carried_over(old)
    {'motivation': 'Built to test curate.'}
    """
    found: dict[str, str] = {}
    for match in _BLOCK.finditer(readme):
        body = match["body"].strip()
        if body and not is_prompt(body):
            found[match["key"]] = body
    return found
