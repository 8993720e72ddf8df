"""Shared fixtures: the reference data in ../shared, and small corpora."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Hypothesis' per-example deadline is a timed assertion, and this machine is shared and noisy:
# a first example that pays for an import would fail at random.
settings.register_profile("curate", deadline=None)
settings.load_profile("curate")

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CURATE_SHARED", ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The ../shared reference data; tests that need it skip with a reason when it is absent."""
    if not (SHARED / "data").is_dir():
        pytest.skip(f"reference data not found at {SHARED} (set CURATE_SHARED to its path)")
    return SHARED


@pytest.fixture(scope="session")
def lid_model(shared_dir: Path) -> Path:
    path = shared_dir / "data" / "fasttext-lid176" / "lid.176.ftz"
    if not path.exists():
        pytest.skip(f"{path} is missing")
    return path


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep every test away from the user's cache and registry."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("CURATE_REGISTRY", str(home / "registry"))
    monkeypatch.setenv("CURATE_CACHE", str(home / "cache"))
