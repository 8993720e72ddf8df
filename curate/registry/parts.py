"""One rank's part of a dataset for distributed training: disjoint, deterministic, complete.

Every rank computes the same split from the same arguments, so the parts of ranks
``0 .. world_size - 1`` are disjoint and together hold every row exactly once, with no
coordination between the ranks.

- In memory (``datasets.Dataset``): the rows are shuffled with ``shuffle_seed`` (a seeded
  permutation of the whole split), then cut into ``world_size`` contiguous blocks
  (``Dataset.shard(contiguous=True)``); block sizes differ by at most one row.
- Streaming (``IterableDataset``): ``datasets.distributed.split_dataset_by_node`` gives each rank
  whole Parquet files when their number divides by ``world_size``, else every
  ``world_size``-th row of the stream. The shuffle comes after the split, so it only reorders
  a rank's own rows (file order by ``shuffle_seed``, then a seeded buffer of
  :data:`SHUFFLE_BUFFER` rows).
"""

from __future__ import annotations

from typing import Any

from curate.errors import DataError

#: Rows a streaming shuffle holds in memory to draw from.
SHUFFLE_BUFFER = 10_000


def check_rank(rank: int | None, world_size: int | None) -> tuple[int, int] | None:
    """``(rank, world_size)`` when a part was asked for; None when neither was given.

    >>> check_rank(None, None), check_rank(2, 3)
    (None, (2, 3))
    """
    if rank is None and world_size is None:
        return None
    if rank is None or world_size is None:
        raise DataError(
            "rank and world_size go together", hint="pass both, e.g. rank=0, world_size=8"
        )
    if not isinstance(world_size, int) or world_size < 1:
        raise DataError(f"world_size={world_size!r}: must be a positive integer", hint="e.g. 8")
    if not isinstance(rank, int) or not 0 <= rank < world_size:
        raise DataError(
            f"rank={rank!r}: must be an integer from 0 to world_size - 1 ({world_size - 1})",
            hint="use the process's global rank (torch.distributed.get_rank())",
        )
    return rank, world_size


def part_of(
    dataset: Any, *, rank: int, world_size: int, shuffle_seed: int | None, streaming: bool
) -> Any:
    """Rank ``rank``'s part of ``dataset`` (see the module docstring for how it is cut)."""
    if streaming:
        from datasets.distributed import split_dataset_by_node

        part = split_dataset_by_node(dataset, rank=rank, world_size=world_size)
        if shuffle_seed is not None:
            part = part.shuffle(seed=shuffle_seed, buffer_size=SHUFFLE_BUFFER)
        return part
    if shuffle_seed is not None:
        dataset = dataset.shuffle(seed=shuffle_seed)
    return dataset.shard(num_shards=world_size, index=rank, contiguous=True)
