"""MosaicML Streaming (MDS) output for ``curate export --format mds``, written by the
``mosaicml-streaming`` library's own ``MDSWriter``.

Each document is one sample with two columns: ``tokens`` (``ndarray:uint16`` or
``ndarray:uint32``, ending with EOS) and ``id`` (``str``), so a trainer's ``StreamingDataset``
reads the documents in the exported (shuffled) order and every sample traces back to its row.
Shards are ``shard.NNNNN.mds`` of about ``shard_tokens`` tokens with the library's
``index.json``.

Installing: every ``mosaicml-streaming`` release on PyPI (0.1 to 0.13) requires
``transformers<5`` and ``xxhash<4`` (0.11 and later also ``numpy<2.2``) and
``torchvision``, whose PyPI build fails to import beside the CPU build of torch 2.13.0
(``operator torchvision::nms does not exist``). So the project installs it with
``pip install --no-deps mosaicml-streaming==0.13.0`` beside the ``export`` extra (its
compression libraries), and, when ``import streaming`` fails on its image and text
subpackages, loads ``streaming.base`` (the writer and the reader) without them.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import shutil
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt

from curate.errors import MissingDependencyError
from curate.tokens.formats import ShardFile, describe

INSTALL = (
    "pip install 'llmos-curate[export]' && pip install --no-deps mosaicml-streaming==0.13.0 "
    "(its declared requirements would replace torch, transformers and numpy)"
)
STAGING = ".mds-staging"


def streaming_base() -> types.ModuleType:
    """``streaming.base`` of ``mosaicml-streaming`` (``MDSWriter``, ``StreamingDataset``)."""
    try:
        return importlib.import_module("streaming.base")
    except (ImportError, RuntimeError) as exc:
        first = exc
    for name in [m for m in sys.modules if m == "streaming" or m.startswith("streaming.")]:
        del sys.modules[name]
    spec = importlib.util.find_spec("streaming")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            "--format mds needs the mosaicml-streaming package, which is not installed",
            hint=INSTALL,
        ) from first
    # The package's __init__ imports its vision and text datasets (torchvision, transformers);
    # MDS needs neither, so the package is entered without running that __init__.
    package = types.ModuleType("streaming")
    package.__path__ = list(spec.submodule_search_locations)
    sys.modules["streaming"] = package
    try:
        return importlib.import_module("streaming.base")
    except ImportError as exc:
        del sys.modules["streaming"]
        raise MissingDependencyError(
            f"mosaicml-streaming is installed but cannot be imported: {exc}", hint=INSTALL
        ) from exc


class MdsOutput:
    """Documents appended in order to ``MDSWriter`` shards in ``folder``; then :meth:`close`."""

    def __init__(self, folder: Path, dtype: np.dtype[np.integer], shard_tokens: int) -> None:
        self.folder = folder
        self.staging = folder / STAGING
        shutil.rmtree(self.staging, ignore_errors=True)
        base = streaming_base()
        self.dtype = dtype
        self._lengths: list[npt.NDArray[np.int64]] = []
        self._writer = base.MDSWriter(
            out=str(self.staging),
            columns={"tokens": f"ndarray:{dtype.name}", "id": "str"},
            size_limit=max(1 << 12, shard_tokens * dtype.itemsize),
            progress_bar=False,
        )

    def add_many(
        self, tokens: npt.NDArray[np.integer], lengths: npt.NDArray[np.int64], ids: list[str]
    ) -> None:
        """Append documents: their concatenated ``tokens``, the length of each, their ids."""
        self._lengths.append(np.asarray(lengths, dtype=np.int64))
        cast = tokens.astype(self.dtype, copy=False)
        ends = np.cumsum(lengths)
        for i, doc_id in enumerate(ids):
            stop = int(ends[i])
            self._writer.write({"tokens": cast[stop - int(lengths[i]) : stop], "id": doc_id})

    def close(self) -> Iterator[tuple[ShardFile, dict[str, int]]]:
        """Finish the shards, move them into the folder; yield each file with its counts.

        ``index.json`` comes last, moved last, so a folder with it has every shard it names.
        """
        self._writer.finish()
        index = json.loads((self.staging / "index.json").read_text())
        lengths = np.concatenate([np.zeros(0, np.int64), *self._lengths])
        done = 0
        for shard in index["shards"]:
            name = shard["raw_data"]["basename"]
            os.replace(self.staging / name, self.folder / name)
            samples = int(shard["samples"])
            tokens = int(lengths[done : done + samples].sum())
            done += samples
            yield describe(self.folder, name), {"documents": samples, "tokens": tokens}
        os.replace(self.staging / "index.json", self.folder / "index.json")
        shutil.rmtree(self.staging, ignore_errors=True)
        yield describe(self.folder, "index.json"), {}
