"""Executors run a recipe's stages over shards; ``run_recipe`` is the library entry point."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from curate.executor.run import run_recipe

__all__ = ["run_recipe"]


def __getattr__(name: str) -> Any:
    # Imported on first use: `curate check` needs only the planner (curate.executor.plan), and
    # importing a submodule runs this package first; the runner pulls in every executor module.
    if name != "run_recipe":
        raise AttributeError(f"module 'curate.executor' has no attribute {name!r}")
    from curate.executor.run import run_recipe

    return run_recipe
