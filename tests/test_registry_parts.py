"""Distributed loading (issue 17): ``load(REF, rank=r, world_size=w, ...)`` parts are disjoint,
deterministic and cover every row exactly once, in memory and streaming."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_card_fixture import make_run

import curate.registry as registry
from curate.errors import DataError

ROWS = 23


@pytest.fixture
def ref(tmp_path: Path) -> str:
    return registry.publish(make_run(tmp_path / "run", n=ROWS, shards=3), "web").ref


def _ids(ref: str, **kwargs: object) -> list[str]:
    dataset = registry.load(ref, columns=["id"], **kwargs)  # type: ignore[arg-type]
    return [row["id"] for row in dataset]


@pytest.mark.parametrize("streaming", [False, True])
@pytest.mark.parametrize("world_size", [1, 2, 3, 7])
@pytest.mark.parametrize("seed", [None, 5])
def test_parts_are_disjoint_deterministic_and_complete(
    ref: str, streaming: bool, world_size: int, seed: int | None
) -> None:
    everything = _ids(ref)
    assert len(everything) == ROWS == len(set(everything))
    parts = [
        _ids(ref, rank=r, world_size=world_size, shuffle_seed=seed, streaming=streaming)
        for r in range(world_size)
    ]
    flat = [i for part in parts for i in part]
    assert sorted(flat) == sorted(everything)  # every row once: no loss, no duplicate
    again = _ids(
        ref, rank=world_size - 1, world_size=world_size, shuffle_seed=seed, streaming=streaming
    )
    assert again == parts[-1]
    if not streaming:
        assert max(map(len, parts)) - min(map(len, parts)) <= 1


def test_a_seed_changes_the_order_deterministically(ref: str) -> None:
    plain = _ids(ref)
    shuffled = _ids(ref, shuffle_seed=1)
    assert sorted(shuffled) == sorted(plain) and shuffled != plain
    assert _ids(ref, shuffle_seed=1) == shuffled
    assert _ids(ref, shuffle_seed=2) != shuffled


@pytest.mark.parametrize(
    ("rank", "world_size", "message"),
    [(0, None, "go together"), (2, 2, "from 0 to world_size - 1"), (0, 0, "positive integer")],
)
def test_bad_rank_arguments_are_clear_errors(
    ref: str, rank: int, world_size: int | None, message: str
) -> None:
    with pytest.raises(DataError, match=message):
        registry.load(ref, rank=rank, world_size=world_size)


@pytest.mark.parametrize("seed", [None, 5])
def test_a_streaming_part_resumes_from_its_state_dict(ref: str, seed: int | None) -> None:
    def part() -> object:
        return registry.load(
            ref, columns=["id"], rank=1, world_size=2, shuffle_seed=seed, streaming=True
        )

    whole = [row["id"] for row in part()]  # type: ignore[attr-defined]
    first = part()
    seen: list[str] = []
    state = None
    for i, row in enumerate(first):  # type: ignore[attr-defined]
        seen.append(row["id"])
        if i == 4:
            state = first.state_dict()  # type: ignore[attr-defined]
            break
    resumed = part()
    resumed.load_state_dict(state)  # type: ignore[attr-defined]
    rest = [row["id"] for row in resumed]  # type: ignore[attr-defined]
    assert seen + rest == whole


def test_a_streaming_part_is_a_torch_iterable_dataset(ref: str) -> None:
    torch_data = pytest.importorskip("torch.utils.data")
    dataset = registry.load(ref, rank=0, world_size=3, streaming=True, columns=["id"])
    assert isinstance(dataset, torch_data.IterableDataset)
    loader = torch_data.DataLoader(dataset, batch_size=4)  # type: ignore[arg-type]
    ids = [i for batch in loader for i in batch["id"]]
    assert ids == [row["id"] for row in dataset]
