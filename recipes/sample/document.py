"""Read the hand-written sample documents in ``recipes/sample/texts/*.txt``.

Each file holds records in a small plain-text format, so the texts stay readable and free of
escaping. A record starts with ``@@ SOURCE SLUG``; optional ``key: value`` lines follow; a blank
line ends them and the body runs until the next ``@@`` line. The language is the file name's part
before ``_`` (``en_news.txt`` is English); ``mixed.txt`` records name theirs with ``langs:``.

>>> text = "@@ news a/b\\ngroups: gender/female\\n\\nShe won.\\n\\n@@ wiki C\\n\\nBody.\\n"
>>> [(d.slug, d.groups, d.text) for d in parse_records(text, lang="en", origin="x.txt")]
[('a/b', ('gender/female',), 'She won.'), ('C', (), 'Body.')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

TEXTS = Path(__file__).resolve().parent / "texts"

#: Identity axes the ``groups:`` header may use; a group is written ``axis/group``.
AXES = (
    "gender",
    "sexual_orientation",
    "gender_identity",
    "religion",
    "race",
    "nationality",
    "disability",
    "age",
)
BOILERPLATE_NAMES = ("navigation", "cookie_banner", "cookie_banner_de", "newsletter")
DAMAGE_KINDS = ("mojibake", "whitespace")
_KEYS = ("groups", "offensive", "pii", "near", "quality", "boilerplate", "damage", "langs")
_HEADER = re.compile(r"^([a-z_]+): (.*)$")


@dataclass(frozen=True)
class Doc:
    """One hand-written document with the truth about it."""

    source: str
    slug: str
    text: str
    langs: tuple[str, ...]
    groups: tuple[str, ...] = ()
    offensive: bool = False
    pii: tuple[tuple[str, str], ...] = ()
    near_misses: tuple[tuple[str, str], ...] = ()
    quality: str = "ok"
    boilerplate: tuple[str, ...] = ()
    damage: tuple[str, ...] = ()

    @property
    def lang(self) -> str:
        """The main language (the first one for a mixed-language document)."""
        return self.langs[0]


def _split_list(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _split_pairs(value: str, where: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in value.split(";"):
        kind, sep, found = item.strip().partition("=")
        if not sep or not kind or not found:
            raise ValueError(f"{where}: expected 'type=value; ...', got {item!r}")
        pairs.append((kind, found))
    return tuple(pairs)


def _check(doc: Doc, where: str) -> None:
    for group in doc.groups:
        axis, _, name = group.partition("/")
        if axis not in AXES or not name:
            raise ValueError(f"{where}: group {group!r} is not 'axis/group' with axis in {AXES}")
    unknown = [b for b in doc.boilerplate if b not in BOILERPLATE_NAMES]
    unknown += [d for d in doc.damage if d not in DAMAGE_KINDS]
    if unknown:
        raise ValueError(f"{where}: unknown boilerplate or damage {unknown}")
    for _, value in doc.pii + doc.near_misses:
        if value not in doc.text:
            raise ValueError(f"{where}: {value!r} is listed but not in the text")
    if not doc.text:
        raise ValueError(f"{where}: empty body")


def _make(head: str, fields: dict[str, str], body: list[str], lang: str, where: str) -> Doc:
    source, _, slug = head.partition(" ")
    if not source or not slug or " " in slug:
        raise ValueError(f"{where}: expected '@@ SOURCE SLUG', got '@@ {head}'")
    langs = _split_list(fields.get("langs", "")) or (lang,)
    if lang == "mixed" and len(langs) < 2:
        raise ValueError(f"{where}: a mixed-language record needs 'langs: a, b'")
    doc = Doc(
        source=source,
        slug=slug,
        text="\n".join(body).strip("\n"),
        langs=langs,
        groups=_split_list(fields.get("groups", "")),
        offensive=fields.get("offensive", "no") == "yes",
        pii=_split_pairs(fields["pii"], where) if "pii" in fields else (),
        near_misses=_split_pairs(fields["near"], where) if "near" in fields else (),
        quality=fields.get("quality", "ok"),
        boilerplate=_split_list(fields.get("boilerplate", "")),
        damage=_split_list(fields.get("damage", "")),
    )
    _check(doc, where)
    return doc


def parse_records(text: str, *, lang: str, origin: str) -> list[Doc]:
    """Every record in ``text`` (the contents of ``origin``), in file order."""
    docs: list[Doc] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines) and not lines[i].startswith("@@ "):
        if lines[i].strip() and not lines[i].startswith("#"):
            raise ValueError(f"{origin}:{i + 1}: text before the first '@@' record")
        i += 1
    while i < len(lines):
        where = f"{origin}:{i + 1}"
        head = lines[i][3:].strip()
        i += 1
        fields: dict[str, str] = {}
        while i < len(lines) and (match := _HEADER.match(lines[i])) and match[1] in _KEYS:
            fields[match[1]] = match[2].strip()
            i += 1
        if i < len(lines) and lines[i].strip():
            raise ValueError(f"{origin}:{i + 1}: expected a blank line after the record header")
        body: list[str] = []
        while i < len(lines) and not lines[i].startswith("@@ "):
            body.append(lines[i])
            i += 1
        docs.append(_make(head, fields, body, lang, where))
    return docs


def load_texts(folder: Path = TEXTS) -> list[Doc]:
    """All records of all ``*.txt`` files in ``folder``, files in name order."""
    docs: list[Doc] = []
    for path in sorted(folder.glob("*.txt")):
        lang = path.stem.split("_")[0]
        docs.extend(parse_records(path.read_text(encoding="utf-8"), lang=lang, origin=path.name))
    return docs
