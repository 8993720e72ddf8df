"""``hf://datasets/ORG/NAME`` inputs, streamed through the ``datasets`` library."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa

from curate.errors import DataError
from curate.io.formats import Chunk, _split_null_text, check_text_column
from curate.io.sources import Source


def _parse(spec: str) -> tuple[str, str | None, str]:
    """``ORG/NAME[/CONFIG][:SPLIT]`` -> (repo, config, split)."""
    body, _, split = spec.partition(":")
    parts = body.split("/")
    repo = "/".join(parts[:2])
    config = parts[2] if len(parts) > 2 else None
    return repo, config, split or "train"


def read_hub(source: Source, *, text_column: str, batch_rows: int) -> Iterator[Chunk]:
    """Stream a Hub dataset; any failure to reach it becomes a clear :class:`DataError`."""
    import datasets

    repo, config, split = _parse(source.name)
    try:
        stream = datasets.load_dataset(repo, config, split=split, streaming=True)
        rows = iter(stream.iter(batch_size=batch_rows))
        first_rows = next(rows, None)
    except Exception as exc:
        raise DataError(
            f"{source.path}: cannot load {repo!r} split {split!r} from the Hugging Face Hub "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})",
            hint="check the name and your network (HF_HUB_OFFLINE must be unset), or download "
            "the dataset's files and pass their local paths",
        ) from exc
    first = 0
    current = first_rows
    while current is not None:
        batch = pa.RecordBatch.from_pydict(current)
        if first == 0:
            check_text_column(source, batch.schema, text_column)
        yield _split_null_text(source, batch, text_column, first)
        first += batch.num_rows
        current = next(rows, None)
