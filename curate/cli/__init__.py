"""The ``curate`` command line: a thin layer over the library.

Library errors (:class:`curate.errors.CurateError`) become messages and exit codes here, at one
boundary; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import importlib
import logging
import sys

import click

from curate.errors import CurateError

#: Every subcommand: name -> ("module:attribute", the line `curate --help` shows for it).
#: One module per command or command group; add a command with one line here. The line is
#: the command's own short help (tests/test_cli_startup.py checks it), kept here so that
#: listing commands imports none of their modules.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": (
        "curate.cli.run:run",
        "Run RECIPE and write the curated dataset, its ledger, report and card.",
    ),
    "check": (
        "curate.cli.run:check",
        "Validate RECIPE and print the plan without reading data.",
    ),
    "stages": (
        "curate.cli.stages:stages",
        "List stages with a one-line summary; with NAME, its parameters, defaults and columns.",
    ),
    "card": (
        "curate.cli.card:card",
        "(Re)write DATASET's README.md card and croissant.json, or validate them with --check.",
    ),
    "publish": (
        "curate.cli.publish:publish",
        "Publish DATASET as an immutable version of NAME and print NAME@X.Y.Z.",
    ),
    "registry": ("curate.cli.registry:registry", "Query and manage the dataset registry."),
    "audit": (
        "curate.cli.audit:audit",
        "Bias audit of DATASET: composition, representation, association, harm, filter impact.",
    ),
    "export": (
        "curate.cli.export:export",
        "Tokenize DATASET into shuffled, EOS-separated binary shards for a trainer.",
    ),
    "mix": (
        "curate.cli.mix:mix",
        "Build the mixture RECIPE describes as a dataset folder (and a registry version).",
    ),
    "models": (
        "curate.cli.models:models",
        "Model assets: where each is, its checksum and license; fetch one into the cache.",
    ),
    "train": ("curate.cli.train:train", "Train models curate can use (a fastText classifier)."),
    "serve": (
        "curate.cli.serve:serve",
        "Start a read-only local web app over runs, ledgers, audits and the registry.",
    ),
}


class _LazyGroup(click.Group):
    """Imports a command's module only when that command runs: ``curate --help`` imports none,
    and ``curate run`` does not pay for the audit's plotting imports."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, _, attr = COMMANDS[cmd_name][0].partition(":")
        command = getattr(importlib.import_module(module), attr)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        from curate import __version__

        click.echo(f"curate, version {__version__}")
        ctx.exit()


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and exit.",
)
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
