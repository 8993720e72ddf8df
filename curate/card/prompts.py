"""Sections only an author can write, as marked blocks that survive re-rendering the card.

A block looks like::

    <!-- curate:author motivation -->
    text the author wrote (or the prompt, while nobody has)
    <!-- /curate:author -->

Re-rendering keeps whatever the author put between the markers; an unanswered prompt is
recognised by its leading words and replaced by the current prompt text.
"""

from __future__ import annotations

import html
import re

from curate.card.markdown import text

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


def block(key: str, answer: str | None) -> str:
    """A marked block holding the author's text (HTML escaped, so it can neither inject markup
    nor close the block), or the prompt when there is none.

    >>> block("consent", "<b>yes</b>").splitlines()[1]
    '&lt;b&gt;yes&lt;/b&gt;'
    """
    body = text(answer.strip()) if answer and answer.strip() else prompt(key)
    return f"<!-- curate:author {key} -->\n{body}\n<!-- /curate:author -->"


def unanswered(readme: str) -> list[str]:
    """Author sections of a card that still hold their prompt, in card order.

    >>> unanswered(block("motivation", "Because.") + block("consent", None))
    ['consent']
    """
    return [m["key"] for m in _BLOCK.finditer(readme) if is_prompt(m["body"])]


def carried_over(readme: str) -> dict[str, str]:
    """Author text found in an existing card, prompts left out; entities are decoded, so text
    escaped by :func:`block` comes back as written and re-rendering does not escape it twice.

    >>> old = block("motivation", "Built to test <curate>.") + block("consent", None)
    >>> carried_over(old)
    {'motivation': 'Built to test <curate>.'}
    """
    found: dict[str, str] = {}
    for match in _BLOCK.finditer(readme):
        body = html.unescape(match["body"].strip())
        if body and not is_prompt(body):
            found[match["key"]] = body
    return found
