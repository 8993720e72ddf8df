"""Registry pages of ``curate serve``: datasets, versions, manifest, lineage graph and diff.

Each request opens the served registry, reads what the page shows through
:mod:`curate.serve.registry_data` and closes it again (the SQLite catalog is not shared across
the threads Starlette runs pages on). Names and versions in a URL are parsed as registry refs,
so ``..`` or a slash can never reach the file system; an unknown ref is a 404 page carrying the
registry's own message and hint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from curate.card.markdown import human_bytes
from curate.errors import CheckFailed, CurateError
from curate.registry import Ref, Registry, check_name
from curate.serve import registry_data
from curate.serve.app import ServeState

#: Lineage graph geometry, in SVG user units.
BOX_W, BOX_H, GAP_X, GAP_Y, PAD = 210, 46, 70, 18, 12

Page = Callable[[Registry, Request], tuple[str, dict[str, Any]]]


def svg_layout(graph: registry_data.Lineage) -> dict[str, Any]:
    """Boxes in one column per layer and a curve per edge, for the inline SVG."""
    boxes: dict[str, dict[str, Any]] = {}
    for col, nodes in enumerate(graph.layers()):
        for row, node in enumerate(nodes):
            boxes[node.ref] = {
                "node": node,
                "x": PAD + col * (BOX_W + GAP_X),
                "y": PAD + row * (BOX_H + GAP_Y),
                "focus": node.ref == graph.focus,
            }
    curves = []
    for up, down in graph.edges:
        a, b = boxes[up], boxes[down]
        x1, y1 = a["x"] + BOX_W, a["y"] + BOX_H / 2
        x2, y2 = b["x"], b["y"] + BOX_H / 2
        mid = (x1 + x2) / 2
        curves.append(f"M{x1},{y1} C{mid},{y1} {mid},{y2} {x2 - 6},{y2}")
    width = max((b["x"] for b in boxes.values()), default=0) + BOX_W + PAD
    height = max((b["y"] for b in boxes.values()), default=0) + BOX_H + PAD
    return {
        "boxes": list(boxes.values()),
        "curves": curves,
        "width": width,
        "height": height,
        "box_w": BOX_W,
        "box_h": BOX_H,
    }


def _datasets(reg: Registry, request: Request) -> tuple[str, dict[str, Any]]:
    return "registry.html", {"datasets": registry_data.datasets(reg), "location": reg.location}


def _dataset(reg: Registry, request: Request) -> tuple[str, dict[str, Any]]:
    name = request.path_params["name"]
    rows = registry_data.versions(reg, check_name(name))
    return "registry_dataset.html", {"name": name, "versions": rows}


def _version(reg: Registry, request: Request) -> tuple[str, dict[str, Any]]:
    return "registry_version.html", registry_data.manifest(reg, _ref(request))


def _lineage(reg: Registry, request: Request) -> tuple[str, dict[str, Any]]:
    graph = registry_data.lineage(reg, _ref(request))
    return "registry_lineage.html", {"graph": graph, "svg": svg_layout(graph)}


def _verify(reg: Registry, request: Request) -> tuple[str, dict[str, Any]]:
    return "registry_verify.html", registry_data.verify(reg, _ref(request))


def _diff(reg: Registry, request: Request) -> tuple[str, dict[str, Any]]:
    refs = registry_data.all_refs(reg)
    a = request.query_params.get("a") or (refs[-2] if len(refs) > 1 else "")
    b = request.query_params.get("b") or (refs[-1] if refs else "")
    result = registry_data.diff(reg, a, b) if a and b else None
    return "registry_diff.html", {"refs": refs, "a": a, "b": b, "result": result}


def _ref(request: Request) -> str:
    name = check_name(request.path_params["name"])
    return str(Ref.parse(f"{name}@{request.path_params['version']}"))


def _page(state: ServeState, view: Page) -> Callable[[Request], Response]:
    """A sync endpoint (Starlette runs it in a thread) rendering ``view`` or an error page."""

    def endpoint(request: Request) -> Response:
        helpers = {"size": human_bytes, "location": state.registry}
        try:
            reg = registry_data.open_registry(state.registry)
        except CurateError as exc:
            return _error(state, request, exc, 404)
        try:
            template, context = view(reg, request)
        except CheckFailed as exc:
            return _error(state, request, exc, 409)
        except CurateError as exc:
            return _error(state, request, exc, 404)
        finally:
            reg.close()
        return state.templates.TemplateResponse(request, template, {**helpers, **context})

    return endpoint


def _error(state: ServeState, request: Request, exc: CurateError, status: int) -> Response:
    return state.templates.TemplateResponse(
        request,
        "registry_error.html",
        {"message": exc.message, "hint": exc.hint, "location": state.registry},
        status_code=status,
    )


def routes(state: ServeState) -> list[BaseRoute]:
    """The registry pages' routes (``/registry/-/diff`` cannot clash: no name starts with -)."""
    table: list[tuple[str, Page, str]] = [
        ("/registry", _datasets, "registry"),
        ("/registry/-/diff", _diff, "registry_diff"),
        ("/registry/{name}", _dataset, "registry_dataset"),
        ("/registry/{name}/{version}", _version, "registry_version"),
        ("/registry/{name}/{version}/lineage", _lineage, "registry_lineage"),
        ("/registry/{name}/{version}/verify", _verify, "registry_verify"),
    ]
    return [
        Route(path, _page(state, view), name=name, methods=["GET", "HEAD"])
        for path, view, name in table
    ]
