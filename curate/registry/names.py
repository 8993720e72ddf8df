"""Dataset names, semantic versions, aliases and refs (``NAME``, ``NAME@X.Y.Z``, ``NAME@ALIAS``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from curate.errors import DataError

#: Lower-case slug, 1-100 characters, starting and ending with a letter or digit. No slash or
#: leading dot can appear, so a name is always one plain folder inside the registry.
NAME = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,98}[a-z0-9])?$")
VERSION = re.compile(r"^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})$")

#: The largest value of one version part: nine digits, which :data:`VERSION` accepts back.
MAX_PART = 999_999_999

Bump = Literal["major", "minor", "patch"]


@dataclass(frozen=True, order=True)
class Version:
    """A semantic version ``major.minor.patch``.

    >>> Version.parse("1.2.3").bump("minor")
    Version(major=1, minor=3, patch=0)
    >>> str(Version.parse("2.0.0")), Version.parse("1.10.0") > Version.parse("1.9.9")
    ('2.0.0', True)
    """

    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> Version:
        match = VERSION.match(text.strip())
        if not match:
            raise DataError(
                f"{text!r}: not a version X.Y.Z",
                hint="use three non-negative integers without leading zeros, e.g. 1.0.0",
            )
        return cls(int(match[1]), int(match[2]), int(match[3]))

    def bump(self, part: Bump) -> Version:
        """The next version; a part already at :data:`MAX_PART` cannot grow and is refused.

        >>> try:
        ...     Version(999999999, 1, 0).bump("major")
        ... except DataError as exc:
        ...     print(exc.message)
        cannot bump the major part of 999999999.1.0: 999999999 is the largest version part
        """
        current = {"major": self.major, "minor": self.minor, "patch": self.patch}[part]
        if current >= MAX_PART:
            raise DataError(
                f"cannot bump the {part} part of {self}: {MAX_PART} is the largest version part",
                hint="publish under a new name, or pick a free version with --version",
            )
        if part == "major":
            return Version(self.major + 1, 0, 0)
        if part == "minor":
            return Version(self.major, self.minor + 1, 0)
        return Version(self.major, self.minor, self.patch + 1)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


def check_name(name: str) -> str:
    """Return ``name`` if it is a valid dataset name, else raise :class:`DataError`.

    >>> check_name("web-en.v2")
    'web-en.v2'
    >>> try:
    ...     check_name("../etc")
    ... except DataError as exc:
    ...     print(exc.message)
    '../etc': not a valid dataset name
    """
    if not isinstance(name, str) or not NAME.match(name):
        raise DataError(
            f"{name!r}: not a valid dataset name",
            hint="use 1-100 lower-case letters, digits, '.', '_' or '-', starting and ending "
            "with a letter or digit",
        )
    return name


#: An alias (``stable``, ``prod-2025``): starts with a letter, so it never looks like a version.
ALIAS = re.compile(r"^[a-z](?:[a-z0-9._-]{0,62}[a-z0-9])?$")


def check_alias(alias: str) -> str:
    """Return ``alias`` if it is a valid alias name, else raise :class:`DataError`.

    >>> check_alias("stable")
    'stable'
    """
    if not isinstance(alias, str) or not ALIAS.match(alias) or alias == "latest":
        raise DataError(
            f"{alias!r}: not a valid alias",
            hint="use 1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter "
            "('latest' is reserved: NAME alone means the latest version)",
        )
    return alias


@dataclass(frozen=True)
class Ref:
    """A parsed registry ref; ``version`` and ``alias`` both None mean "the latest"."""

    name: str
    version: Version | None = None
    alias: str | None = None

    @classmethod
    def parse(cls, text: str) -> Ref:
        """
        >>> Ref.parse("web@1.2.0"), str(Ref.parse("web"))
        (Ref(name='web', version=Version(major=1, minor=2, patch=0), alias=None), 'web')
        >>> Ref.parse("web@stable").alias
        'stable'
        """
        name, sep, version = str(text).strip().partition("@")
        if sep and not version:
            raise DataError(
                f"{text!r}: empty version after '@'", hint="write NAME, NAME@X.Y.Z or NAME@ALIAS"
            )
        check_name(name)
        if sep and version[:1].isalpha():
            return cls(name, alias=check_alias(version))
        return cls(name, Version.parse(version) if sep else None)

    def __str__(self) -> str:
        if self.alias is not None:
            return f"{self.name}@{self.alias}"
        return self.name if self.version is None else f"{self.name}@{self.version}"
