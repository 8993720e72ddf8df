"""``export_tokens``: a dataset as shuffled, tokenized, EOS-separated binary shards.

Two passes in bounded memory. The first cuts the input into parts (:mod:`curate.tokens.parts`)
that ``workers`` processes tokenize one batch at a time (``tokenizers`` encodes each batch on
its own threads); each document, followed by the EOS token, goes to one of ``B`` bucket files
chosen by a seeded hash of its id, each part writing its own files. The second reads one
bucket at a time, its parts in input order, puts its documents in a seeded random order, and
writes them to shards of about ``shard_tokens`` tokens. Documents sent independently and
uniformly to buckets, then shuffled uniformly within each, come out in a uniformly random
order; the same seed gives the same bytes, whatever the number of workers. ``B`` is chosen from
the input's size so that a bucket is about ``bucket_bytes`` of tokens.

``manifest.json`` is written last: a folder without it is an unfinished export. When the input
is a registry version, the manifest (less its timing) is first recorded in that registry as an
artifact derived from the version (:meth:`curate.registry.core.Registry.derive`). Running the
same export again after an interruption keeps the parts an earlier attempt finished, or the
whole first pass, for the same input, tokenizer and seed (:mod:`curate.tokens.spill`).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from curate import __version__, schema
from curate.errors import DataError
from curate.executor.process_pool import task_pool
from curate.io.atomic import write_json_atomic
from curate.io.dataset import Dataset, open_dataset
from curate.tokens.formats import Format, Shard, ShardFile, token_dtype
from curate.tokens.loader import load_tokenizer
from curate.tokens.mds import MdsOutput
from curate.tokens.parts import Job, describe, plan_parts, tokenize_part
from curate.tokens.spill import Spill

log = logging.getLogger(__name__)
MANIFEST = "manifest.json"
WORK = ".curate-export-work"


def export_tokens(
    source: str,
    *,
    tokenizer: str,
    fmt: Format,
    out: str | Path,
    seed: int = 0,
    eos: str | None = None,
    shard_tokens: int = 1 << 30,
    bucket_bytes: int = 256 << 20,
    text_column: str = schema.TEXT,
    batch_size: int = 1000,
    workers: int = 1,
    part_rows: int | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Export ``source`` (any DATASET) to ``out``; return the manifest (also in the folder).

    ``workers`` processes tokenize the input's parts (:mod:`curate.tokens.parts`;
    ``part_rows`` rows per Parquet read range, default :data:`curate.tokens.parts.PART_ROWS`);
    the files written are the same for any number.

    >>> import json, os, tempfile, pathlib
    >>> from tokenizers import Tokenizer, models, pre_tokenizers
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> tok = Tokenizer(models.WordLevel({"[UNK]": 0, "</s>": 1, "a": 2, "b": 3}, "[UNK]"))
    >>> tok.pre_tokenizer = pre_tokenizers.Whitespace(); tok.save(str(d / "tok.json"))
    >>> _ = (d / "in.jsonl").write_text('{"text": "a b"}\\n{"text": "b"}\\n')
    >>> m = export_tokens(str(d / "in.jsonl"), tokenizer=str(d / "tok.json"), fmt="npy",
    ...     out=d / "out")
    >>> m["documents"], m["tokens"], [f["name"] for f in m["files"]][:2]
    (2, 5, ['tokens-00000.npy', 'tokens-00000.idx.npy'])
    """
    started = time.perf_counter()
    target = Path(out)
    _prepare(target, overwrite=overwrite)
    loaded = load_tokenizer(tokenizer)
    eos_id = loaded.eos_id(eos)
    dtype = token_dtype(fmt, loaded.vocab_size)
    dataset = open_dataset(source, text_column=text_column)
    work = target / WORK
    key = _key(dataset.files, loaded.source, loaded.sha256, seed, eos_id, text_column)
    spill = Spill.finished(work, key)
    if spill is None:
        spill = _tokenize(
            dataset,
            Job(
                tokenizer=tokenizer,
                sha256=loaded.sha256,
                work=str(work),
                buckets=_bucket_count(dataset.files, bucket_bytes),
                seed=seed,
                eos=eos_id,
                batch_size=batch_size,
                text_column=text_column,
                id_column=dataset.id_column,
            ),
            key,
            workers=workers,
            part_rows=part_rows,
        )
    else:
        log.info("export: the tokenized documents of an earlier attempt are reused from %s", work)
    files = _write(target, spill, fmt, dtype, shard_tokens)
    manifest: dict[str, Any] = {
        "format": fmt,
        "dtype": str(dtype),
        "tokenizer": {
            "source": loaded.source,
            "sha256": loaded.sha256,
            "vocab_size": loaded.vocab_size,
        },
        "eos": {"token": loaded.tokenizer.id_to_token(eos_id), "id": eos_id},
        "seed": seed,
        "source": {
            "dataset": source,
            "files": dataset.files,
            "registry_refs": list(dataset.resolved.registry_refs),
        },
        "documents": sum(f["documents"] for f in files if "documents" in f),
        "tokens": sum(f["tokens"] for f in files if "tokens" in f),
        "files": files,
        "curate_version": __version__,
    }
    manifest["registry_artifacts"] = _record(manifest, target)
    manifest["seconds"] = round(time.perf_counter() - started, 3)
    write_json_atomic(target / MANIFEST, manifest)
    shutil.rmtree(work, ignore_errors=True)
    return manifest


def _tokenize(
    dataset: Dataset, job: Job, key: dict[str, Any], *, workers: int, part_rows: int | None
) -> Spill:
    """The first pass: every part not finished by an earlier attempt, ``workers`` at a time."""
    parts = plan_parts(dataset, job, part_rows=part_rows)
    spill = Spill.start(Path(job.work), key, job.buckets, describe(parts))
    pending = spill.pending()
    if len(pending) < len(parts):
        log.info(
            "export: %d of %d parts were tokenized by an earlier attempt",
            len(parts) - len(pending),
            len(parts),
        )
    workers = min(workers, max(1, len(pending)))
    if workers > 1:
        # Each process's tokenizer would otherwise start a thread per core.
        job = dataclasses.replace(job, threads=max(1, (os.cpu_count() or 1) // workers))
    with task_pool(workers) as pool:
        for p in pending:
            pool.submit(functools.partial(tokenize_part, p, parts[p], job))
        pool.results()
    spill.complete(key)
    return spill


def _record(manifest: dict[str, Any], target: Path) -> list[dict[str, str]]:
    """Attach the export to every registry version it was made from (write-once records in
    that registry, ``records/NAME/derived/X.Y.Z/export-DIGEST.json``)."""
    refs = manifest["source"]["registry_refs"]
    if not refs:
        return []
    from curate.registry import Registry

    registry = Registry()
    recorded = []
    try:
        for ref in refs:
            pinned, key, _ = registry.derive(
                ref, "export", manifest, location=str(target.resolve())
            )
            recorded.append({"version": pinned, "registry": registry.location, "record": key})
    finally:
        registry.close()
    return recorded


def _write(
    target: Path, spill: Spill, fmt: Format, dtype: np.dtype[np.integer], shard_tokens: int
) -> list[dict[str, Any]]:
    """The second pass: the spilled documents in shuffled order into shards of ``fmt``."""
    if fmt == "mds":
        output = MdsOutput(target, dtype, shard_tokens)
        for ids, tokens, lengths in spill.shuffled():
            output.add_many(tokens, lengths, ids)
        return [
            {"name": f.name, "bytes": f.bytes, "sha256": f.sha256, **counts}
            for f, counts in output.close()
        ]
    files: list[dict[str, Any]] = []
    shards = 0
    shard = Shard(target, f"tokens-{shards:05d}", fmt, dtype)
    for ids, tokens, lengths in spill.shuffled():
        ends = np.cumsum(lengths)
        done = 0
        while done < len(lengths):
            # Documents up to and including the one that fills the shard.
            reach = int(ends[done - 1]) if done else 0
            fit = int(np.searchsorted(ends, reach + shard_tokens - shard.tokens, side="left"))
            stop = min(max(fit + 1, done + 1), len(lengths))
            shard.add_many(tokens[reach : int(ends[stop - 1])], lengths[done:stop], ids[done:stop])
            done = stop
            if shard.tokens >= shard_tokens:
                files.extend(_entries(shard, shard.close()))
                shards += 1
                shard = Shard(target, f"tokens-{shards:05d}", fmt, dtype)
    if shard.lengths or not files:
        files.extend(_entries(shard, shard.close()))
    else:
        shard.discard()
    return files


def _entries(shard: Shard, written: list[ShardFile]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, f in enumerate(written):
        entry: dict[str, Any] = {"name": f.name, "bytes": f.bytes, "sha256": f.sha256}
        if i == 0:
            entry.update(documents=len(shard.lengths), tokens=shard.tokens)
        out.append(entry)
    return out


def _prepare(target: Path, *, overwrite: bool) -> None:
    """Refuse a folder holding anything but an earlier export, unless ``overwrite``."""
    if not target.exists() or not any(target.iterdir()):
        return
    manifest = target / MANIFEST
    if not (manifest.exists() or (target / WORK).exists()) and not overwrite:
        raise DataError(
            f"{target} is not empty and holds no earlier export",
            hint="choose an empty folder, or pass --overwrite to replace what is there",
        )
    names: list[str] = []
    if manifest.exists():
        try:
            names = [f["name"] for f in json.loads(manifest.read_text())["files"]]
        except (ValueError, KeyError, TypeError):
            names = []
        manifest.unlink()
    for name in names:
        (target / name).unlink(missing_ok=True)
    # Half-written shards of an interrupted attempt; its work folder is kept for reuse.
    for stale in target.glob(".tokens-*"):
        stale.unlink()


def _key(
    files: list[str], tokenizer: str, sha256: str | None, seed: int, eos: int, column: str
) -> dict[str, Any]:
    """What the tokenized spill depends on: the input files as they are, the tokenizer, seed."""
    stats = []
    for f in files:
        try:
            st = Path(f).stat()
            stats.append([f, st.st_size, st.st_mtime_ns])
        except OSError:
            stats.append([f, None, None])
    return {
        "files": stats,
        "tokenizer": tokenizer,
        "sha256": sha256,
        "seed": seed,
        "eos": eos,
        "text_column": column,
    }


def _bucket_count(files: list[str], bucket_bytes: int) -> int:
    total = 0
    for f in files:
        try:
            size = Path(f).stat().st_size
        except OSError:
            continue
        # Parquet is compressed about 3x; token ids as uint32 take about as many bytes as text.
        total += size * (3 if f.endswith(".parquet") else 1)
    return max(1, -(-total // bucket_bytes))
