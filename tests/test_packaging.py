"""What the code reads at run time is package data found through importlib.resources, and the
files of other packages it reads fail with an error naming that package when they move.

The end-to-end check (build, install into a fresh virtualenv, run from an empty folder) is
``.ci/wheel-smoke``; the slow test here builds the wheel and the sdist and lists their files.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from importlib import resources
from pathlib import Path
from types import SimpleNamespace

import pytest

from curate.card import vocab
from curate.errors import MissingDependencyError
from curate.identity import lexicon
from curate.toxicity import linear

ROOT = Path(__file__).resolve().parent.parent
LEXICONS = sorted(p.name for p in (ROOT / "audits" / "lexicons").glob("*.yaml"))


def test_builtin_lexicons_come_from_the_package_mapped_onto_audits() -> None:
    folder = lexicon.builtin_dir()
    assert folder.resolve() == (ROOT / "audits" / "lexicons").resolve()
    assert sorted(p.name for p in folder.glob("*.yaml")) == LEXICONS
    assert str(resources.files("curate._audits")).endswith("audits")
    assert lexicon.lexicon_format_doc().is_file()


def test_no_module_finds_files_relative_to_its_source() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted((ROOT / "curate").rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\b__file__\b", line)
    ]
    assert offenders == [], "use importlib.resources for package data"


def test_missing_lexicon_package_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    def gone(package: str) -> object:
        raise ModuleNotFoundError(f"No module named {package!r}")

    monkeypatch.setattr(lexicon.resources, "files", gone)
    with pytest.raises(MissingDependencyError, match=r"curate\._audits\) are not installed") as e:
        lexicon.load_lexicon("en")
    assert "pip install --force-reinstall llmos-curate" in str(e.value.hint)


def test_empty_lexicon_folder_is_not_an_unknown_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "lexicons").mkdir()
    monkeypatch.setattr(lexicon.resources, "files", lambda package: tmp_path)
    with pytest.raises(MissingDependencyError, match="no built-in lexicon is installed in"):
        lexicon.load_lexicon("en")


def test_unknown_lexicon_lists_the_installed_ones() -> None:
    with pytest.raises(Exception, match=r"unknown lexicon 'xx' \(built-in lexicons: de, en, "):
        lexicon.load_lexicon("xx")


def test_lexicon_format_hint_points_at_an_installed_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("language: en\n")
    with pytest.raises(Exception, match="axes") as e:
        lexicon.load_lexicon(bad)
    hint = str(e.value.hint)  # type: ignore[attr-defined]
    doc = Path(hint.removeprefix("see ").removesuffix(" for the lexicon format"))
    assert doc.is_file() and "## lexicons/" in doc.read_text(encoding="utf-8")


def test_moved_datasets_vocabulary_names_the_release(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vocab, "RESOURCE_FOLDER", "moved-away")
    vocab.language_names.cache_clear()
    try:
        with pytest.raises(MissingDependencyError) as e:
            vocab.language_names()
    finally:
        vocab.language_names.cache_clear()
    message = str(e.value.message)
    assert message.startswith("datasets ") and "moved-away/languages.json" in message
    assert re.match(r"datasets \d+\.\d+", message)
    assert f"datasets=={vocab.TESTED_DATASETS}" in str(e.value.hint)


def test_moved_profanity_check_model_names_the_release(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "vectorizer.joblib").write_bytes(b"")
    real = linear.importlib.util.find_spec

    def find_spec(name: str) -> object:
        if name == linear.PACKAGE:
            return SimpleNamespace(submodule_search_locations=[str(tmp_path)])
        return real(name)

    monkeypatch.setattr(linear.importlib.util, "find_spec", find_spec)
    with pytest.raises(
        MissingDependencyError, match=r"alt-profanity-check \S+: model\.joblib"
    ) as e:
        linear.data_dir()
    assert str(tmp_path / "data") in e.value.message
    assert f"alt-profanity-check=={linear.TESTED_RELEASE}" in str(e.value.hint)


def test_installed_profanity_check_has_the_model_files() -> None:
    folder = linear.data_dir()
    assert all((folder / name).is_file() for name in linear.MODEL_FILES)


@pytest.mark.slow
def test_wheel_and_sdist_carry_the_lexicons(tmp_path: Path) -> None:
    pytest.importorskip("build")
    source = tmp_path / "src"  # a copy, so the build leaves nothing in the working tree
    for name in ("pyproject.toml", "setup.py", "README.md"):
        source.mkdir(exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    for folder in ("curate", "audits"):
        shutil.copytree(
            ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    dist = tmp_path / "dist"
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "is absent from the `packages` configuration" not in done.stdout + done.stderr
    (wheel,) = dist.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"curate/_audits/lexicons/{n}" for n in LEXICONS} <= names
    assert "curate/_audits/README.md" in names
    assert not any(n.startswith(("audits/", "curate/data/")) for n in names)
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as tar:
        members = {m.name.split("/", 1)[1] for m in tar.getmembers() if "/" in m.name}
    assert {f"audits/lexicons/{n}" for n in LEXICONS} <= members
    assert {"setup.py", "audits/README.md"} <= members
