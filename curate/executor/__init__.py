"""Executors run a recipe's stages over shards; ``run_recipe`` is the library entry point."""

from curate.executor.run import run_recipe

__all__ = ["run_recipe"]
