"""``curate serve [PATH_OR_REGISTRY] [--host 127.0.0.1] [--port 8765]``: the read-only web app."""

from __future__ import annotations

import errno
import socket
from pathlib import Path

import click

from curate.errors import DataError, MissingDependencyError


def _is_registry(path: Path) -> bool:
    """A registry folder: its catalog or its ``datasets/`` folder, and no run report."""
    if (path / "curate" / "run.json").is_file():
        return False
    return (path / "catalog.sqlite").is_file() or (path / "datasets").is_dir()


def served(target: str) -> tuple[list[Path], str | None]:
    """The folders to serve and the registry for PATH_OR_REGISTRY.

    A URL is a registry; a local folder is a registry when it holds one (its version folders
    are then served as runs too), otherwise a run folder or a folder of runs, served with the
    default registry (``$CURATE_REGISTRY``) when that exists.
    """
    from curate.registry.core import is_remote

    if is_remote(target):
        return [], target
    path = Path(target.removeprefix("file://")).expanduser()
    if not path.is_dir():
        raise DataError(
            f"{target}: no such folder",
            hint="pass a run folder (the output of `curate run`), a folder of runs, "
            "or a registry folder or URL",
        )
    if _is_registry(path):
        return [path], str(path)
    return [path], _default_registry()


def _default_registry() -> str | None:
    """``$CURATE_REGISTRY`` or the default registry folder, when there is one to show."""
    from curate.registry.core import default_location, is_remote

    location = default_location()
    if is_remote(location) or (Path(location).expanduser() / "datasets").is_dir():
        return location
    return None


def _check_port(host: str, port: int) -> None:
    """Fail before starting when the address cannot be listened on, naming it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as exc:
            busy = exc.errno == errno.EADDRINUSE
            raise DataError(
                f"--host {host} --port {port}: cannot listen there ({exc.strerror})",
                hint="choose another --port" if busy else "give an address of this machine",
            ) from exc


def url_of(host: str, port: int) -> str:
    """The URL a browser opens for ``host:port``.

    >>> url_of("127.0.0.1", 8765), url_of("::1", 80)
    ('http://127.0.0.1:8765/', 'http://[::1]:80/')
    """
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}/"


@click.command()
@click.argument("target", metavar="[PATH_OR_REGISTRY]", default=".")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Anything but a loopback address lets other machines read "
    "the served documents, and a warning says so.",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8765,
    show_default=True,
    help="TCP port to listen on.",
)
@click.pass_context
def serve(ctx: click.Context, target: str, host: str, port: int) -> None:
    """Start a read-only local web app over runs, ledgers, audits and the registry.

    PATH_OR_REGISTRY is a run folder (the output of `curate run`), a folder of runs, or a
    registry (a folder or an fsspec URL); it defaults to the current folder. The app shows each
    run's report as a funnel, its card and audit, a ledger and data browser with filters and
    search, each document beside the near-duplicate kept in its place, and a what-if page for a
    score threshold. It only answers GET and HEAD and never writes.
    """
    try:
        import uvicorn

        from curate.serve.app import create_app
        from curate.serve.security import is_loopback
    except ImportError as exc:
        raise MissingDependencyError(
            f"curate serve needs {exc.name}", hint='pip install "llmos-curate[serve]"'
        ) from exc
    roots, registry = served(target)
    if not is_loopback(host):
        click.echo(
            f"warning: listening on {host}, not a loopback address: anyone who can reach this "
            "machine can read the served documents, ledgers and audits",
            err=True,
        )
    _check_port(host, port)
    app = create_app(roots=roots, registry=registry)
    click.echo(f"curate serve: {url_of(host, port)} (Ctrl+C to stop)")
    debug = bool((ctx.obj or {}).get("debug"))
    uvicorn.run(app, host=host.strip("[]"), port=port, log_level="info" if debug else "warning")
