"""One flat error tree. Every error carries a message and a hint saying how to fix it.

The CLI turns these into an exit code and one or two lines of text; library users catch
:class:`CurateError` or a subclass.
"""

from __future__ import annotations


class CurateError(Exception):
    """Base of every error curate raises on purpose.

    Examples
    --------
    >>> err = RecipeError("recipes/x.yaml: stages[2].with.threshold: must be between 0 and 1")
    >>> isinstance(err, CurateError), err.exit_code
    (True, 2)
    """

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class RecipeError(CurateError):
    """A recipe or a stage parameter is invalid (file, field path, fix)."""


class DataError(CurateError):
    """Input data cannot be read or violates a contract (file, row, fix)."""


class PluginError(CurateError):
    """A stage broke its contract: a declared column's type, or a broken ``curate.stages`` entry."""


class MissingDependencyError(CurateError):
    """An optional package or a model file is not available."""


class CheckFailed(CurateError):
    """A verification ran and found problems (``card --check``, ``registry verify``)."""

    exit_code = 1
