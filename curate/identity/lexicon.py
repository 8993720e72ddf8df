"""Identity lexicons: which surface forms mention which ``axis/group``.

A lexicon is a flat list of :class:`Term`. Lexicons come from three places:

* the built-in YAML files in ``audits/lexicons/`` (``en``, ``de``, ``fr``, ``es``, ``zh``),
  installed as ``curate/_audits/lexicons/`` and referred to by name;
* a user's YAML file in the same format, by path;
* a HolisticBias ``descriptors.json`` file, by path.

The YAML format (described in ``audits/README.md``) nests terms under axis and group; a term is
a string, a list ``[lemma, form, ...]`` or a mapping with ``term`` and optional ``forms``,
``plural``, ``flag`` (``slur`` or ``ambiguous``), ``note`` and ``language``. English terms get
their regular plurals generated (``woman`` -> ``women``, ``lady`` -> ``ladies``).

>>> english_plurals("woman"), english_plurals("lady"), english_plurals("african american")
(['women'], ['ladies'], ['african americans'])
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from curate.errors import DataError, MissingDependencyError

log = logging.getLogger(__name__)

Flag = Literal["slur", "ambiguous"]
FLAGS: tuple[Flag, ...] = ("slur", "ambiguous")

#: Axes every built-in English lexicon covers (other lexicons may add more).
CORE_AXES = (
    "gender",
    "sexual_orientation",
    "gender_identity",
    "religion",
    "race_ethnicity",
    "nationality",
    "disability",
    "age",
)

#: HolisticBias axis names mapped onto curate's where they mean the same thing.
HOLISTICBIAS_AXES = {"ability": "disability", "gender_and_sex": "gender"}
#: HolisticBias axes that are not identity groups (``nonce`` holds made-up words by design).
HOLISTICBIAS_SKIP = frozenset({"nonce"})

_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")
#: libyaml's safe loader when PyYAML was built with it (several times faster), else PyYAML's.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: The package holding the built-in lexicons (``audits/`` of the source tree, mapped by the build).
LEXICON_PACKAGE = "curate._audits"
_REINSTALL = (
    "reinstall llmos-curate: `pip install --force-reinstall llmos-curate`, or `pip install -e .` "
    "in a source checkout"
)


@dataclass(frozen=True)
class Term:
    """One lexicon entry: a lemma, every surface form that counts as it, and what it means."""

    term: str
    axis: str
    group: str
    language: str
    forms: tuple[str, ...]
    flag: Flag | None = None
    note: str | None = None
    source: str = ""

    @property
    def label(self) -> str:
        """The ``axis/group`` string written to ``identities``."""
        return f"{self.axis}/{self.group}"


@dataclass(frozen=True)
class Lexicon:
    """A set of terms, possibly merged from several files."""

    terms: tuple[Term, ...]
    sources: tuple[str, ...] = field(default=())

    def labels(self) -> list[str]:
        """Every ``axis/group`` this lexicon can produce, sorted."""
        return sorted({t.label for t in self.terms})

    def languages(self) -> list[str]:
        return sorted({t.language for t in self.terms})

    def without(self, flags: Iterable[str]) -> Lexicon:
        """The same lexicon minus terms carrying any of ``flags``."""
        drop = set(flags)
        return Lexicon(tuple(t for t in self.terms if t.flag not in drop), self.sources)

    def __add__(self, other: Lexicon) -> Lexicon:
        return Lexicon(self.terms + other.terms, self.sources + other.sources)


def english_plurals(term: str) -> list[str]:
    """Regular English plurals of a term's last word (irregular ones go in ``forms``)."""
    head, _, last = term.rpartition(" ")
    low = last.lower()
    if low.endswith("man") and not low.endswith(("human", "german", "roman", "shaman")):
        plural = last[:-3] + "men"
    elif low.endswith(("s", "x", "z", "ch", "sh")):
        plural = last + "es"
    elif low.endswith("y") and len(low) > 1 and low[-2] not in "aeiou":
        plural = last[:-1] + "ies"
    else:
        plural = last + "s"
    return [f"{head} {plural}" if head else plural]


def _entry(raw: Any, where: str) -> dict[str, Any]:
    """Normalise one YAML term entry (string, list or mapping) into a mapping."""
    if isinstance(raw, str):
        return {"term": raw}
    if isinstance(raw, list) and raw and all(isinstance(x, str) for x in raw):
        return {"term": raw[0], "forms": raw[1:]}
    if isinstance(raw, dict) and isinstance(raw.get("term"), str):
        unknown = set(raw) - {"term", "forms", "plural", "flag", "note", "language"}
        if unknown:
            raise DataError(
                f"{where}: unknown key {sorted(unknown)[0]!r}",
                hint="term keys are term, forms, plural, flag, note and language",
            )
        return dict(raw)
    raise DataError(
        f"{where}: a term must be a string, a list of strings or a mapping with 'term'",
        hint="write e.g. `- woman`, `- [Frau, Frauen]` or `- {term: black, flag: ambiguous}`",
    )


def _make_term(entry: dict[str, Any], *, axis: str, group: str, language: str, where: str) -> Term:
    term = " ".join(str(entry["term"]).split())
    if not term:
        raise DataError(f"{where}: empty term", hint="remove the entry or give it a word")
    lang = str(entry.get("language") or language)
    flag = entry.get("flag")
    if flag is not None and flag not in FLAGS:
        raise DataError(
            f"{where}: flag {flag!r} is not one of {', '.join(FLAGS)}",
            hint="use `flag: slur` or `flag: ambiguous`, and explain it in `note`",
        )
    extra = entry.get("forms") or []
    if not isinstance(extra, list) or not all(isinstance(f, str) for f in extra):
        raise DataError(f"{where}: forms must be a list of strings", hint="e.g. forms: [women]")
    forms = [term, *(" ".join(f.split()) for f in extra)]
    if entry.get("plural", lang == "en") and lang == "en":
        forms += [p for f in list(forms) for p in english_plurals(f)]
    note = entry.get("note")
    return Term(
        term=term,
        axis=axis,
        group=group,
        language=lang,
        forms=tuple(dict.fromkeys(f for f in forms if f)),
        flag=flag,
        note=str(note) if note is not None else None,
        source=where.split(":", 1)[0],
    )


def parse_yaml_lexicon(data: Any, *, source: str) -> Lexicon:
    """Build a :class:`Lexicon` from the parsed YAML of a lexicon file."""
    if not isinstance(data, dict) or not isinstance(data.get("axes"), dict):
        raise DataError(
            f"{source}: a lexicon needs a mapping `axes: {{axis: {{group: [terms]}}}}`",
            hint=f"see {lexicon_format_doc()} for the lexicon format",
        )
    language = data.get("language")
    if not isinstance(language, str) or not language:
        raise DataError(f"{source}: `language` is missing", hint="add e.g. `language: en`")
    terms: list[Term] = []
    for axis, groups in data["axes"].items():
        if not isinstance(groups, dict) or not _NAME.match(str(axis)):
            raise DataError(
                f"{source}: axes.{axis}: must be a lower-case name mapping groups to terms",
                hint="e.g. `religion: {muslim: [muslim, islam]}`",
            )
        for group, entries in groups.items():
            where = f"{source}: axes.{axis}.{group}"
            if not _NAME.match(str(group)) or not isinstance(entries, list):
                raise DataError(
                    f"{where}: a group is a lower-case name with a list of terms",
                    hint="e.g. `female: [woman, girl]`",
                )
            for i, raw in enumerate(entries):
                entry = _entry(raw, f"{where}[{i}]")
                terms.append(
                    _make_term(
                        entry,
                        axis=str(axis),
                        group=str(group),
                        language=language,
                        where=f"{where}[{i}]",
                    )
                )
    return Lexicon(tuple(terms), (source,))


def parse_holisticbias(data: Any, *, source: str) -> Lexicon:
    """Build a :class:`Lexicon` from HolisticBias ``descriptors.json`` (axis -> bucket -> items).

    Items are strings or ``{"descriptor": ..., "preference": ...}``; ``dispreferred`` and
    ``polarizing`` descriptors keep that preference as their note. Terms are English.
    """
    if not isinstance(data, dict):
        raise DataError(
            f"{source}: expected HolisticBias descriptors (a JSON object of axes)",
            hint="pass descriptors.json from the HolisticBias dataset, or a YAML lexicon",
        )
    terms: list[Term] = []
    for axis_raw, buckets in data.items():
        if axis_raw in HOLISTICBIAS_SKIP or not isinstance(buckets, dict):
            continue
        axis = HOLISTICBIAS_AXES.get(str(axis_raw), str(axis_raw))
        for bucket, items in buckets.items():
            for i, item in enumerate(items if isinstance(items, list) else []):
                where = f"{source}: {axis_raw}.{bucket}[{i}]"
                if isinstance(item, str):
                    entry: dict[str, Any] = {"term": item}
                elif isinstance(item, dict) and isinstance(item.get("descriptor"), str):
                    pref = item.get("preference")
                    entry = {"term": item["descriptor"]}
                    if pref in ("dispreferred", "polarizing"):
                        entry["note"] = f"HolisticBias preference: {pref}"
                else:
                    raise DataError(f"{where}: not a descriptor", hint="check the file format")
                terms.append(
                    _make_term(entry, axis=axis, group=str(bucket), language="en", where=where)
                )
    return Lexicon(tuple(terms), (source,))


def builtin_dir() -> Path:
    """The folder of built-in lexicons.

    They live in ``audits/lexicons`` of the source tree; the build ships ``audits/`` as the
    package ``curate._audits`` (see ``setup.py``), so importlib.resources finds them in an
    editable install and in an installed wheel alike.
    """
    try:
        root = resources.files(LEXICON_PACKAGE)
    except ModuleNotFoundError as exc:
        raise MissingDependencyError(
            f"the built-in lexicons (package {LEXICON_PACKAGE}) are not installed",
            hint=_REINSTALL,
        ) from exc
    return Path(str(root / "lexicons"))


def lexicon_format_doc() -> Path:
    """The installed description of the lexicon format (``audits/README.md`` in the source)."""
    return builtin_dir().parent / "README.md"


def builtin_names() -> list[str]:
    """Names of the built-in lexicons (file stems in :func:`builtin_dir`)."""
    folder = builtin_dir()
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def load_lexicon(name_or_path: str | Path) -> Lexicon:
    """Load one lexicon: a built-in name, a YAML file or a HolisticBias ``descriptors.json``."""
    text = str(name_or_path)
    path = Path(text).expanduser()
    if not path.is_file() and _NAME.match(text):
        path = builtin_dir() / f"{text}.yaml"
        if not path.is_file():
            names = builtin_names()
            if not names:
                raise MissingDependencyError(
                    f"unknown lexicon {text!r}: no built-in lexicon is installed in "
                    f"{builtin_dir()}",
                    hint=_REINSTALL,
                )
            raise DataError(
                f"unknown lexicon {text!r} (built-in lexicons: {', '.join(names)})",
                hint="give a built-in name, or the path of a YAML lexicon or descriptors.json",
            )
    if not path.is_file():
        raise DataError(f"{path}: lexicon file not found", hint="check the path")
    try:
        raw = path.read_text(encoding="utf-8")
        if path.suffix.lower() == ".json":
            return parse_holisticbias(json.loads(raw), source=str(path))
        return parse_yaml_lexicon(yaml.load(raw, Loader=_SAFE_LOADER), source=str(path))
    except (json.JSONDecodeError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot parse lexicon: {exc}", hint="fix the file syntax") from exc


def load_lexicons(names_or_paths: Sequence[str | Path] | str | Path) -> Lexicon:
    """Load and merge lexicons; the argument of ``--lexicon`` and of ``score.identity``.

    >>> lex = load_lexicons(["en"])
    >>> "religion/muslim" in lex.labels()
    True
    """
    items = [names_or_paths] if isinstance(names_or_paths, (str, Path)) else names_or_paths
    if not items:
        raise DataError("no lexicon given", hint="name at least one, e.g. `en`")
    merged = Lexicon(())
    for item in items:
        merged = merged + load_lexicon(item)
    log.debug("loaded %d identity terms from %s", len(merged.terms), ", ".join(merged.sources))
    return merged
