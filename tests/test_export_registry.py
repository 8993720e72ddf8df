"""An export of a registry version is recorded in that registry as a derived artifact:
write-once, listed by ``curate registry show``, readable through ``curate.registry.derived``;
on a local folder, ``memory://`` and S3 (moto on loopback, the fixtures of the registry tests).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from test_registry_shared import backend, s3_endpoint  # noqa: F401  (fixtures)
from tokenizers import Tokenizer, models, pre_tokenizers

import curate.registry as registry
from curate.cli import main
from curate.registry import Registry
from curate.tokens.export import export_tokens

WORDS = ["the", "cat", "sat", "on", "a", "mat", "</s>"]


def _inputs(folder: Path) -> tuple[Path, Path]:
    vocab = {"[UNK]": 0, **{w: i + 1 for i, w in enumerate(WORDS)}}
    tok = Tokenizer(models.WordLevel(vocab, "[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.save(str(folder / "tok.json"))
    rows = [
        {"id": f"d{i}", "text": " ".join(WORDS[j % 6] for j in range(i, i + 3 + i % 4))}
        for i in range(40)
    ]
    (folder / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder / "in.jsonl", folder / "tok.json"


def test_export_of_a_version_is_a_derived_artifact(
    backend: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    docs, tok = _inputs(tmp_path)
    registry.publish(str(docs), "tiny")
    other = registry.publish(str(docs), "other")
    assert registry.derived("tiny@1.0.0") == []
    manifest = export_tokens("tiny", tokenizer=str(tok), fmt="npy", out=tmp_path / "out", seed=3)
    [artifact] = manifest["registry_artifacts"]
    assert artifact["version"] == "tiny@1.0.0" and artifact["registry"] == backend
    on_disk = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert on_disk["registry_artifacts"] == manifest["registry_artifacts"]

    [record] = registry.derived("tiny@1.0.0")
    content = record["content"]
    assert record["kind"] == "export" and record["location"] == str((tmp_path / "out").resolve())
    assert content["format"] == "npy" and content["seed"] == 3
    assert content["tokenizer"]["sha256"] == hashlib.sha256(tok.read_bytes()).hexdigest()
    assert content["tokens"] == manifest["tokens"] and content["files"] == manifest["files"]
    assert {k: v for k, v in on_disk.items() if k not in ("registry_artifacts", "seconds")} == (
        content
    )
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    assert record["sha256"] == hashlib.sha256(canonical).hexdigest()
    assert registry.derived(other.ref) == []

    # Write-once: the same export again finds the first record, unchanged.
    reg = Registry(backend)
    before = reg.records.store.read(artifact["record"])
    again = export_tokens("tiny", tokenizer=str(tok), fmt="npy", out=tmp_path / "out", seed=3)
    assert again["registry_artifacts"] == manifest["registry_artifacts"]
    assert registry.derived("tiny@1.0.0") == [record]
    assert reg.records.store.read(artifact["record"]) == before
    _, _, created = reg.derive("tiny@1.0.0", "export", content, location="elsewhere")
    assert not created and registry.derived("tiny@1.0.0") == [record]
    reg.close()

    # Another seed is another artifact.
    export_tokens("tiny@1.0.0", tokenizer=str(tok), fmt="npy", out=tmp_path / "out7", seed=7)
    assert [r["content"]["seed"] for r in registry.derived("tiny")] in ([3, 7], [7, 3])

    capsys.readouterr()
    main(["registry", "show", "tiny@1.0.0"])
    shown = capsys.readouterr().out
    assert "derived artifacts:" in shown
    assert f"export npy {manifest['tokens']:,} tokens, 40 documents, seed 3" in shown
    assert str((tmp_path / "out7").resolve()) in shown


def test_export_of_files_records_nothing(tmp_path: Path) -> None:
    docs, tok = _inputs(tmp_path)
    manifest = export_tokens(str(docs), tokenizer=str(tok), fmt="npy", out=tmp_path / "out")
    assert manifest["registry_artifacts"] == []
