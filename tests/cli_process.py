"""``curate`` run as a user runs it: a fresh interpreter, its stdout and stderr captured."""

from __future__ import annotations

import subprocess
import sys

CURATE = [sys.executable, "-c", "from curate.cli import main; main()"]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``curate ARGS`` in a new process (``env`` replaces the environment when given)."""
    return subprocess.run(
        [*CURATE, *args], capture_output=True, text=True, timeout=300, env=env, check=False
    )
