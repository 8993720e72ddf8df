"""The Starlette application: state, run discovery, routes and the read-only guard.

Examples
--------
>>> from pathlib import Path
>>> app = create_app(roots=[Path(".")])
>>> app.state.serve.registry is None
True
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from curate.errors import CurateError

#: Methods a read-only app answers; everything else is 405 before any route runs.
READ_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class ServeState:
    """What every page needs: the served roots, the registry (URL or path) and the templates."""

    roots: tuple[Path, ...]
    registry: str | None
    templates: Jinja2Templates


def find_runs(roots: Sequence[Path], *, max_depth: int = 4) -> list[Path]:
    """Run folders (holding ``curate/run.json``) at or under ``roots``, sorted, each once.

    The walk stops at a run folder (its shards are not searched), skips hidden folders and
    unreadable ones, and goes at most ``max_depth`` levels down, so a root like ``~`` stays cheap.
    Symlinked folders are not followed, so every run found is inside its root.
    """
    found: set[Path] = set()
    for root in roots:
        base_depth = len(root.parts)
        for folder, dirs, _files in os.walk(root, onerror=lambda _err: None):
            here = Path(folder)
            if (here / "curate" / "run.json").is_file():
                found.add(here)
                dirs.clear()
                continue
            if len(here.parts) - base_depth >= max_depth:
                dirs.clear()
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
    return sorted(found)


def make_templates() -> Jinja2Templates:
    """Jinja2 templates with autoescape on for every file (document text is never trusted)."""
    env = Environment(
        loader=PackageLoader("curate.serve", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return Jinja2Templates(env=env)


class ReadOnly:
    """ASGI middleware refusing every method but GET and HEAD with 405."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in READ_METHODS:
            response = PlainTextResponse(
                "405 method not allowed: curate serve is read-only",
                status_code=405,
                headers={"Allow": "GET, HEAD"},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def state_of(request: Request) -> ServeState:
    """The :class:`ServeState` of the app serving ``request``."""
    state = request.app.state.serve
    assert isinstance(state, ServeState)
    return state


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return state_of(request).templates.TemplateResponse(
        request,
        "error.html",
        {"status": exc.status_code, "message": exc.detail, "hint": None},
        status_code=exc.status_code,
        headers=exc.headers,
    )


async def _curate_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CurateError)
    return state_of(request).templates.TemplateResponse(
        request,
        "error.html",
        {"status": 500, "message": exc.message, "hint": exc.hint},
        status_code=500,
    )


#: Headers on every response: no script or style from anywhere but this server, no framing.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class SecurityHeaders:
    """ASGI middleware adding :data:`SECURITY_HEADERS` to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                # A response that sets its own policy (the framed audit page) keeps it: two
                # policies would both apply, and frame-ancestors 'none' would hide the frame.
                own = {name.lower() for name, _ in headers}
                headers += [
                    (k.lower().encode(), v.encode())
                    for k, v in SECURITY_HEADERS.items()
                    if k.lower().encode() not in own
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(*, roots: Sequence[Path], registry: str | None = None) -> Starlette:
    """The app serving run folders under ``roots`` and, when given, the ``registry``."""
    from curate.serve import browse, registry_view, runs, whatif

    state = ServeState(
        roots=tuple(Path(r).resolve() for r in roots),
        registry=registry,
        templates=make_templates(),
    )
    routes: list[BaseRoute] = [
        *runs.routes(state),
        *browse.routes(state),
        *whatif.routes(state),
        Mount("/static", app=StaticFiles(packages=[("curate.serve", "static")]), name="static"),
    ]
    routes.extend(registry_view.routes(state))
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_error, CurateError: _curate_error},
    )
    app.state.serve = state
    app.add_middleware(ReadOnly)
    app.add_middleware(SecurityHeaders)
    return app
