"""Registry pages of ``curate serve`` (placeholder until the registry pages land)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from curate.serve.app import ServeState


def routes(state: ServeState) -> list[BaseRoute]:
    """The registry pages' routes; none yet."""
    del state
    return []
