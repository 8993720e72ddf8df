"""Cached model files are verified by sha256 once per cache entry; damaged files are refused.

Issue 12: a same-size random file in the cache was listed as good, and corrupted copies of
lid.176 loaded and gave wrong languages. The corruptions here are made from the real lid.176.ftz
in ../shared.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from curate import models
from curate.cli import cli
from curate.errors import DataError, MissingDependencyError
from curate.models import verify


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]


CORRUPTIONS: dict[str, Callable[[bytes], bytes]] = {
    "same-size random": lambda d: os.urandom(len(d)),
    "one byte flipped in the middle": lambda d: _flip(d, len(d) // 2),
    "one byte flipped near the end": lambda d: _flip(d, len(d) - 10),
    "header flipped": lambda d: _flip(d, 0),
    "tail zeroed": lambda d: d[:-1000] + b"\0" * 1000,
    "truncated": lambda d: d[: len(d) // 2],
    "one byte appended": lambda d: d + b"\0",
}


@pytest.fixture
def cached_lid(monkeypatch: pytest.MonkeyPatch, lid_model: Path) -> Path:
    """lid.176's cache path, offline, with no environment override."""
    monkeypatch.delenv("CURATE_LID_MODEL", raising=False)
    monkeypatch.setenv("CURATE_OFFLINE", "1")
    target = models.cache_path(models.ASSETS["lid.176"])
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def test_good_copy_is_accepted_and_stamped(cached_lid: Path, lid_model: Path) -> None:
    shutil.copyfile(lid_model, cached_lid)
    assert models.locate("lid.176").origin == "cache"
    assert models.resolve("lid.176") == cached_lid
    stamp = json.loads(models.stamp_path(cached_lid).read_text())
    assert stamp["sha256"] == models.ASSETS["lid.176"].sha256
    assert stamp["size"] == cached_lid.stat().st_size


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_corrupted_lid176_in_cache_is_refused(cached_lid: Path, lid_model: Path, kind: str) -> None:
    cached_lid.write_bytes(CORRUPTIONS[kind](lid_model.read_bytes()))
    loc = models.locate("lid.176")
    assert loc.origin == "corrupt" and loc.path is None
    assert "instead of" in loc.problem
    with pytest.raises(MissingDependencyError) as err:
        models.resolve("lid.176")
    assert f"the cached {cached_lid} is damaged" in err.value.message
    assert models.ASSETS["lid.176"].sha256 in (err.value.hint or "")
    assert cached_lid.is_file(), "a damaged file is reported, not deleted while offline"


def test_listing_shows_a_damaged_cache_entry(cached_lid: Path, lid_model: Path) -> None:
    cached_lid.write_bytes(os.urandom(lid_model.stat().st_size))
    rows = json.loads(CliRunner().invoke(cli, ["models", "list", "--json"]).output)
    lid = next(r for r in rows if r["name"] == "lid.176")
    assert lid["status"] == "corrupt" and "sha256" in lid["problem"]
    text = CliRunner().invoke(cli, ["models", "list"]).output
    assert "damaged" in text


def test_stamp_avoids_rehashing_until_size_or_mtime_change(
    cached_lid: Path, lid_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copyfile(lid_model, cached_lid)
    calls: list[Path] = []
    real = verify.sha256_file
    monkeypatch.setattr(verify, "sha256_file", lambda p: calls.append(p) or real(p))
    for _ in range(3):
        assert models.locate("lid.176").origin == "cache"
    assert len(calls) == 1
    # Same size, new content and a new mtime: hashed again and refused.
    cached_lid.write_bytes(_flip(lid_model.read_bytes(), 1000))
    stat = cached_lid.stat()
    os.utime(cached_lid, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert models.locate("lid.176").origin == "corrupt"
    assert len(calls) == 2


def test_damaged_cache_entry_is_replaced_by_a_verified_download(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    payload = b"model bytes\n" * 50
    src = tmp_path / "src.bin"
    src.write_bytes(payload)
    asset = models.ModelAsset(
        "fake", "fake.bin", (src.as_uri(),), verify.hashlib.sha256(payload).hexdigest(),
        len(payload), "CC0-1.0", "a test asset",
    )  # fmt: skip
    monkeypatch.setitem(models.ASSETS, "fake", asset)
    monkeypatch.delenv("CURATE_OFFLINE", raising=False)
    target = models.cache_path(asset)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"X" * len(payload))
    assert models.resolve("fake") == target
    assert target.read_bytes() == payload
    assert models.locate("fake").origin == "cache"


@pytest.mark.parametrize("kind", ["same-size random", "header flipped", "truncated"])
def test_fasttext_load_failure_names_the_file(tmp_path: Path, lid_model: Path, kind: str) -> None:
    bad = tmp_path / f"{kind.replace(' ', '-')}.ftz"
    bad.write_bytes(CORRUPTIONS[kind](lid_model.read_bytes()))
    with pytest.raises(DataError) as err:
        models.load_fasttext(bad)
    assert str(bad) in err.value.message
    assert err.value.hint


def test_tiny_file_is_refused_before_fasttext_reads_it(tmp_path: Path) -> None:
    # fastText crashes the process (SIGFPE) on some tiny files instead of raising.
    bad = tmp_path / "tiny.ftz"
    bad.write_bytes(b"\x01\x02")
    with pytest.raises(DataError, match="not a fastText model file"):
        models.load_fasttext(bad)


def test_good_model_loads_once(lid_model: Path) -> None:
    first = models.load_fasttext(lid_model)
    assert models.load_fasttext(lid_model) is first
    _, label = first.predict("the cat sat on the mat\n", 1, 0.0, "strict")[0]
    assert label == "__label__en"


def test_score_language_refuses_a_damaged_model_file(tmp_path: Path, lid_model: Path) -> None:
    import pyarrow as pa

    from curate.stages.score_language import ScoreLanguage

    bad = tmp_path / "lid.176.ftz"
    bad.write_bytes(CORRUPTIONS["header flipped"](lid_model.read_bytes()))
    batch = pa.record_batch({"id": ["1"], "text": ["hello world"]})
    with pytest.raises(DataError, match="not a fastText model file") as err:
        next(iter(ScoreLanguage(model=str(bad))([batch])))
    assert str(bad) in err.value.message
