"""Start-up: the CLI lists commands without importing them; listing stages and checking a recipe
import no model runtime. Each case runs in a fresh interpreter, which is what a user starts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from curate.cli import COMMANDS, cli

REPO = Path(__file__).resolve().parents[1]

# Imported only where they are used: by the stage or command that needs them, when it runs.
MODEL_RUNTIMES = ("ftfy", "fasttext", "torch", "transformers", "matplotlib", "datasets")


def modules_after(args: list[str]) -> set[str]:
    """The modules loaded by ``curate ARGS`` in a new interpreter."""
    return modules_and_messages(args)[0]


def modules_and_messages(args: list[str]) -> tuple[set[str], str]:
    """The modules loaded by ``curate ARGS`` in a new interpreter, and what it wrote to stderr."""
    code = (
        "import sys, json\n"
        "from curate.cli import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    *messages, last = done.stderr.strip().splitlines()
    loaded: list[str] = json.loads(last)
    return set(loaded), "\n".join(messages)


def test_every_summary_is_the_commands_own_short_help() -> None:
    ctx = click.Context(cli)
    for name, (_, summary) in COMMANDS.items():
        command = cli.get_command(ctx, name)
        assert command is not None, name
        assert command.get_short_help_str(limit=1000) == summary, name
    assert cli.get_command(ctx, "no-such-command") is None


def test_help_imports_no_command_and_no_arrow() -> None:
    loaded = modules_after(["--help"])
    assert not {ref.partition(":")[0] for ref, _ in COMMANDS.values()} & loaded
    assert not {"pyarrow", "pydantic", "numpy", "polars"} & loaded


def test_version_is_read_when_asked() -> None:
    from importlib.metadata import version

    out = subprocess.run(
        [sys.executable, "-m", "curate", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"curate, version {version('llmos-curate')}"


@pytest.mark.parametrize(
    "args",
    [["stages"], ["stages", "score.language"], ["check", "recipes/fineweb-like.yaml"]],
    ids=" ".join,
)
def test_stages_and_check_import_no_model_runtime(args: list[str]) -> None:
    loaded = modules_after(args)
    assert not set(MODEL_RUNTIMES) & loaded
    assert "curate.quality.signals" not in loaded  # the column table is enough
    assert "curate.models.fetch" not in loaded  # downloads need ssl and urllib
    assert "numba" not in loaded and "curate.quality.kernels" not in loaded


# What `curate run` needs and `curate check` does not: the engine, its worker pool and shard reads.
RUNNER = ("curate.executor.engine", "curate.executor.local", "curate.executor.worker")


def test_check_imports_no_runner() -> None:
    loaded = modules_after(["check", "recipes/fineweb-like.yaml"])
    assert not set(RUNNER) & loaded
    assert "curate.executor.plan" in loaded  # the planner did run


def test_check_without_input_imports_no_pandas(tmp_path: Path) -> None:
    # pyarrow imports pandas on its first array or table built from values; the filter's type
    # check builds its empty frame without one.
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "name: t\n"
        f"input: {{path: {tmp_path / 'absent.parquet'}}}\n"
        "stages:\n"
        "  - use: score.quality\n"
        "  - use: filter\n"
        "    with: {where: 'quality_word_count >= 50'}\n"
        f"output: {{path: {tmp_path / 'out'}}}\n"
    )
    loaded = modules_after(["check", str(recipe)])
    assert "polars" in loaded  # the filter's expression was type-checked
    assert "pandas" not in loaded


def test_stage_table_matches_the_stage_classes() -> None:
    from curate.stage_index import STAGES
    from curate.stages import BUILTINS, get_stage

    assert {name: ref for name, (ref, _) in STAGES.items()} == BUILTINS
    for name, (_, summary) in STAGES.items():
        assert get_stage(name).summary == summary, name


def test_listing_stages_imports_no_stage_and_no_arrow() -> None:
    loaded = modules_after(["stages"])
    others = {ref.partition(":")[0] for ref, _ in COMMANDS.values()} - {"curate.cli.stages"}
    assert not others & loaded
    assert not {"pyarrow", "polars", "sqlglot", "pydantic", "numpy", "datasets", "torch"} & loaded
    assert not {m for m in loaded if m.startswith("curate.stages")}


def test_listing_stages_prints_every_stage_with_its_summary() -> None:
    from curate.stages import get_stage, stage_names

    done = subprocess.run(
        [sys.executable, "-m", "curate", "stages", "--json"],
        cwd=REPO, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert json.loads(done.stdout) == {name: get_stage(name).summary for name in stage_names()}


@pytest.mark.parametrize("suffix", ["jsonl", "csv", "parquet"])
def test_check_reading_the_first_rows_imports_no_pandas(tmp_path: Path, suffix: str) -> None:
    # The readers number rows, make ids and bound lengths with arrays built from buffers
    # (curate.io.arrays): from Python values, pyarrow would import pandas (0.16 s CPU).
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    data = tmp_path / f"in.{suffix}"
    table = pa.table({"id": ["a", "b"], "text": ["one two three", "four five"], "src": ["x", "y"]})
    if suffix == "jsonl":
        data.write_text("".join(json.dumps(row) + "\n" for row in table.to_pylist()))
    elif suffix == "csv":
        pcsv.write_csv(table, data)
    else:
        pq.write_table(table, data)
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        f"name: t\ninput: {{path: {data}, max_chars: 1000}}\n"
        "stages:\n  - use: score.quality\n  - use: filter\n"
        "    with: {where: \"quality_word_count >= 2 AND src = 'x'\"}\n"
        f"output: {{path: {tmp_path / 'out'}}}\n"
    )
    loaded, messages = modules_and_messages(["check", str(recipe)])
    assert "error" not in messages  # `src` is known only from the first rows
    assert not {"pandas", "numba"} & loaded


def test_card_of_a_run_without_decontaminate_imports_no_numba(tmp_path: Path) -> None:
    # The card's decontamination section needs the stage's options, not its compiled n-gram
    # index: numba (~90 MB, 0.1 s) loads only when a decontaminate stage runs.
    data = tmp_path / "in.jsonl"
    data.write_text(json.dumps({"id": "a", "text": "one two three"}) + "\n")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        f"name: t\ninput: {{path: {data}}}\nstages:\n  - use: normalize\n"
        f"output: {{path: {tmp_path / 'out'}}}\n"
    )
    loaded = modules_after(["run", str(recipe), "--quiet"])
    assert (tmp_path / "out" / "README.md").is_file()  # the card was written
    assert "curate.card.decontamination" in loaded
    assert "numba" not in loaded and "curate.decontam.kernels" not in loaded
