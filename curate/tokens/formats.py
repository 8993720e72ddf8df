"""Writers of tokenized shards in the layouts trainers read.

``megatron``: Megatron-LM's indexed dataset, a ``.bin`` of concatenated token ids and an
``.idx`` holding, after the 9-byte magic ``MMIDIDX\\x00\\x00``, little-endian: version (u64, 1),
dtype code (u8: 4 int32, 8 uint16), sequence count (u64), document count (u64, sequences + 1),
the sequence lengths (int32 each), their byte offsets into the ``.bin`` (int64 each) and the
document index (int64, here 0..sequences since each document is one sequence). Token ids are
uint16 when the vocabulary has fewer than 65,500 entries, as Megatron's preprocessing chooses,
else int32.

``npy``: the flat layout datatrove and Dolma write, as NumPy files: ``.npy`` with the
concatenated token ids (uint16 for vocabularies up to 65,536, else uint32), and ``.idx.npy`` with
the end offset of each document in tokens (uint64), so document ``k`` is
``tokens[ends[k - 1]:ends[k]]``.

``mds``: MosaicML Streaming shards, written by that library (:mod:`curate.tokens.mds`).

The first two also write ``.ids.jsonl``, the id of each document in order, so a token span can be
traced back to its document in the dataset and the ledger. Each document ends with the EOS token.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from curate.io.atomic import temporary_name, write_bytes_atomic

Format = Literal["megatron", "npy", "mds"]
MEGATRON_MAGIC = b"MMIDIDX\x00\x00"
MEGATRON_CODES = {np.dtype(np.uint16): 8, np.dtype(np.int32): 4}


def token_dtype(fmt: Format, vocab_size: int) -> np.dtype[np.integer]:
    """The integer type token ids are stored as."""
    if fmt == "megatron":
        return np.dtype(np.uint16 if vocab_size < 65500 else np.int32)
    return np.dtype(np.uint16 if vocab_size <= 65536 else np.uint32)


@dataclass
class ShardFile:
    """One written file: its name (relative to the output folder), size and sha256."""

    name: str
    bytes: int
    sha256: str


@dataclass
class Shard:
    """A shard being written: documents appended in order, then :meth:`close`."""

    folder: Path
    stem: str
    fmt: Format
    dtype: np.dtype[np.integer]
    lengths: list[int] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        # Created by open(), so with the process umask like every other output file.
        self._tokens_tmp = temporary_name(self.folder / f"{self.stem}.tokens")
        self._out = self._tokens_tmp.open("wb")
        self.tokens = 0

    def add_many(
        self, tokens: npt.NDArray[np.integer], lengths: npt.NDArray[np.int64], ids: list[str]
    ) -> None:
        """Append documents: their concatenated ``tokens``, the length of each, their ids."""
        self._out.write(tokens.astype(self.dtype, copy=False).tobytes())
        self.lengths.extend(lengths.tolist())
        self.ids.extend(ids)
        self.tokens += len(tokens)

    def discard(self) -> None:
        """Drop a shard that got no documents."""
        self._out.close()
        self._tokens_tmp.unlink(missing_ok=True)

    def close(self) -> list[ShardFile]:
        self._out.close()
        data_name = f"{self.stem}.bin" if self.fmt == "megatron" else f"{self.stem}.npy"
        data_path = self.folder / data_name
        if self.fmt == "megatron":
            os.replace(self._tokens_tmp, data_path)
            index_name, index = f"{self.stem}.idx", self._megatron_index()
        else:
            _npy_from_raw(self._tokens_tmp, data_path, self.dtype, self.tokens)
            index_name, index = f"{self.stem}.idx.npy", self._npy_index()
        write_bytes_atomic(self.folder / index_name, index)
        ids_name = f"{self.stem}.ids.jsonl"
        write_bytes_atomic(
            self.folder / ids_name, "".join(json.dumps(i) + "\n" for i in self.ids).encode()
        )
        return [describe(self.folder, n) for n in (data_name, index_name, ids_name)]

    def _megatron_index(self) -> bytes:
        count = len(self.lengths)
        lengths = np.asarray(self.lengths, dtype=np.int32)
        pointers = np.zeros(count, dtype=np.int64)
        if count:
            np.cumsum(lengths[:-1].astype(np.int64) * self.dtype.itemsize, out=pointers[1:])
        documents = np.arange(count + 1, dtype=np.int64)
        head = MEGATRON_MAGIC + struct.pack("<Q", 1) + struct.pack("<B", MEGATRON_CODES[self.dtype])
        head += struct.pack("<Q", count) + struct.pack("<Q", count + 1)
        return head + lengths.tobytes() + pointers.tobytes() + documents.tobytes()

    def _npy_index(self) -> bytes:
        ends = np.cumsum(np.asarray(self.lengths, dtype=np.uint64), dtype=np.uint64)
        return _npy_bytes(ends)


def _npy_bytes(array: npt.NDArray[np.generic]) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _npy_from_raw(raw: Path, target: Path, dtype: np.dtype[np.integer], count: int) -> None:
    """Put a NumPy header in front of raw token bytes, streaming, then rename into place."""
    header = np.lib.format.header_data_from_array_1_0(np.zeros(0, dtype=dtype))
    header["shape"] = (count,)
    tmp = temporary_name(target)
    with tmp.open("wb") as out, raw.open("rb") as src:
        np.lib.format.write_array_header_1_0(out, header)
        while chunk := src.read(1 << 24):
            out.write(chunk)
    os.replace(tmp, target)
    raw.unlink()


def describe(folder: Path, name: str) -> ShardFile:
    digest = hashlib.sha256()
    path = folder / name
    with path.open("rb") as f:
        while chunk := f.read(1 << 24):
            digest.update(chunk)
    return ShardFile(name, path.stat().st_size, digest.hexdigest())
