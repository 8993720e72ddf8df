"""The ``curate`` command line: a thin layer over the library.

Library errors (:class:`curate.errors.CurateError`) become messages and exit codes here, at one
boundary; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import importlib
import logging
import sys

import click

from curate import __version__
from curate.errors import CurateError

#: Every subcommand, as "module:attribute". One module per command or command group.
COMMANDS: list[str] = [
    "curate.cli.run:run",
    "curate.cli.run:check",
    "curate.cli.stages:stages",
    "curate.cli.card:card",
    "curate.cli.publish:publish",
    "curate.cli.registry:registry",
    "curate.cli.audit:audit",
    "curate.cli.models:models",
]


class _LazyGroup(click.Group):
    """Imports a command's module only when that command runs, so ``curate run`` does not pay
    for the audit's plotting imports."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(ref.partition(":")[2].replace("_", "-") for ref in COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        for ref in COMMANDS:
            module, _, attr = ref.partition(":")
            if attr.replace("_", "-") == cmd_name:
                command = getattr(importlib.import_module(module), attr)
                assert isinstance(command, click.Command)
                return command
        return None


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="curate")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.option("-q", "--quiet", is_flag=True, help="Only print warnings and errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool, quiet: bool) -> None:
    """Curate text corpora for LLM training: dedup, score, filter, audit, card, publish."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    level = logging.DEBUG if debug else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the CLI and map errors to exit codes."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        cli.main(args=args, prog_name="curate", standalone_mode=False)
    except CurateError as exc:
        if debug:
            raise
        click.echo(f"error: {exc.message}", err=True)
        if exc.hint:
            click.echo(f"  hint: {exc.hint}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2 if exc.exit_code == 2 else exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
