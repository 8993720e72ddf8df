"""Log lines appear once per run, not once per worker, and name files relative to the current
folder: ``curate run --workers 2`` with decontaminate, score.identity and dedup, read from stderr
as a user sees it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

CLI = [sys.executable, "-c", "from curate.cli import main; main()"]
QUESTION = "which river flows through the city of vienna in austria and then on to budapest"


def _corpus(folder: Path) -> None:
    lines = []
    for i in range(400):
        text = f"document {i} says the women and the men of the town met on day {i % 17}"
        if i % 50 == 7:
            text = f"quiz copy {i}: {QUESTION}?"
        lines.append(json.dumps({"text": text}))
    (folder / "in.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "evals").mkdir()
    (folder / "evals" / "quiz.jsonl").write_text(json.dumps({"id": "q1", "text": QUESTION}) + "\n")


@pytest.fixture(scope="module")
def stderr(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("logonce")
    _corpus(folder)
    (folder / "r.yaml").write_text(
        "name: log-once\ninput: {path: in.jsonl}\nstages:\n"
        "  - use: dedup.exact\n"
        "  - use: decontaminate\n    with: {against: [evals/quiz.jsonl], n: 8}\n"
        "  - use: score.identity\n"
        "  - use: score.quality\n"
        "output: {path: out, shard_rows: 50}\n"
    )
    done = subprocess.run(
        [*CLI, "run", "r.yaml", "--workers", "2", "--quiet"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    # The run used both workers: more shards than one worker would take.
    assert len(list((folder / "out" / "data").glob("*.parquet"))) > 2
    return folder, done.stderr


def test_the_decontaminate_summary_appears_once(stderr: tuple[Path, str]) -> None:
    _, err = stderr
    # One 8-gram per position of the 15-word question.
    assert err.count("decontaminate: 8 distinct n-grams from quiz.jsonl: 1 items\n") == 1
    assert err.count("decontaminate: ") == 1
    assert err.count("score.identity: ") == 1


def test_no_line_repeats_across_workers(stderr: tuple[Path, str]) -> None:
    _, err = stderr
    repeated = {line: n for line, n in Counter(err.splitlines()).items() if n > 1 and line}
    assert repeated == {}


def test_files_are_named_relative_to_the_current_folder(stderr: tuple[Path, str]) -> None:
    folder, err = stderr
    assert str(folder) not in err
    assert "/" not in err.replace("evals/quiz.jsonl", "")
