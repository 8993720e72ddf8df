"""``build_mixture``: write a mixture of datasets as a dataset folder, and publish it if asked.

Two passes over each component: the first reads only the columns the sampling needs (size,
language, those of the ``where`` filter) to decide how many copies of each document to take (see
:mod:`curate.mix.sample`); the second writes the chosen documents, each copy with its own id
``<component>:<epoch>:<id>``. The output holds every column of any component, null where a
component lacks it and with types reconciled (:mod:`curate.mix.columns`), then
``mix_component``, ``mix_epoch`` and ``source_id``. The
report, ``curate/run.json``, holds the mixture table (requested and achieved shares) and, as
``input.registry_refs``, the exact version of every registry component, so a published mixture's
lineage names them. Rows come out grouped by component; ``curate export`` shuffles them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from curate import __version__, schema
from curate.errors import DataError
from curate.io.atomic import write_json_atomic, write_parquet_atomic
from curate.io.dataset import Dataset, open_dataset
from curate.mix.columns import OWN, conform, polars_types, union_schema
from curate.mix.recipe import Component, Mixture
from curate.mix.sample import language_weights, take
from curate.sqlexpr import parse_where

LANG = "lang"


@dataclass
class _Picked:
    component: Component
    dataset: Dataset
    copies: npt.NDArray[np.int64]
    sizes: npt.NDArray[np.int64]
    pinned: str | None


def build_mixture(mixture: Mixture, *, out: str | Path | None = None) -> dict[str, Any]:
    """Sample and write ``mixture``; return its report (also ``OUT/curate/run.json``)."""
    started = time.perf_counter()
    target = Path(out or mixture.output.path)
    _refuse_foreign(target)
    shares = mixture.shares()
    opened = [_open(c) for c in mixture.components]
    sizes = [_sizes(mixture, c, ds) for c, (ds, _) in zip(mixture.components, opened)]
    groups = [_groups(c, s, langs) for c, (s, langs) in zip(mixture.components, sizes)]
    total = mixture.total or _largest_total(mixture, shares, [s for s, _ in sizes], groups)
    picked: list[_Picked] = []
    for i, (c, (ds, pinned), (s, _), parts) in enumerate(
        zip(mixture.components, opened, sizes, groups)
    ):
        copies = np.zeros(len(s), dtype=np.int64)
        for g, (rows, weight) in enumerate(parts):
            wanted = shares[i] * weight * total
            available = int(s[rows].sum()) * c.max_epochs
            if wanted > available * (1 + 1e-9):
                raise DataError(
                    f"mixture {mixture.name}: component {c.label!r} would need "
                    f"{wanted / max(available / c.max_epochs, 1):.2f} epochs of its rows, "
                    f"more than max_epochs {c.max_epochs:g}",
                    hint="raise its max_epochs, lower its weight or the total, or leave total "
                    "unset for the largest mixture the limits allow",
                )
            copies[rows] = take(s[rows], wanted, seed=[mixture.seed, i, g])
        picked.append(_Picked(c, ds, copies, s, pinned))
    rows_out = _write(mixture, picked, target)
    if rows_out == 0:
        raise DataError(
            f"mixture {mixture.name}: no documents were chosen",
            hint="check the components' `where` filters and the total",
        )
    achieved = [int((p.copies * p.sizes).sum()) for p in picked]
    report = {
        "kind": "mixture",
        "recipe": mixture.model_dump(mode="json"),
        "input": {
            "paths": [f for p in picked for f in p.dataset.files],
            "registry_refs": [p.pinned for p in picked if p.pinned],
        },
        "rows_in": int(sum(len(p.sizes) for p in picked)),
        "rows_out": rows_out,
        "mixture": {
            "weight_by": mixture.weight_by,
            "total_requested": total,
            "total_achieved": sum(achieved),
            "components": [
                {
                    "name": p.component.label,
                    "ref": p.pinned or p.component.ref,
                    "weight": p.component.weight,
                    "requested_share": shares[i],
                    "achieved_share": achieved[i] / max(sum(achieved), 1),
                    "size": achieved[i],
                    "available": int(p.sizes.sum()),
                    "epochs": achieved[i] / max(int(p.sizes.sum()), 1),
                    "documents": int(p.copies.sum()),
                }
                for i, p in enumerate(picked)
            ],
        },
        "versions": {"curate": __version__},
        "seconds": round(time.perf_counter() - started, 3),
    }
    write_json_atomic(target / "curate" / "run.json", report)
    from curate.card import write_card

    write_card(target)
    return report


def _refuse_foreign(target: Path) -> None:
    if target.exists() and any(target.iterdir()):
        report = target / "curate" / "run.json"
        if not report.exists():
            raise DataError(
                f"{target} is not empty and is not a curate output",
                hint="choose an empty folder for the mixture",
            )
        for old in (target / "data").glob("*.parquet"):
            old.unlink()


def _open(component: Component) -> tuple[Dataset, str | None]:
    """The component's dataset and, for a registry ref, the exact version it names."""
    dataset = open_dataset(component.ref)
    if Path(component.ref).exists() or "://" in component.ref:
        return dataset, None
    from curate.registry import Registry

    reg = Registry()
    try:
        entry = reg.entry(component.ref)
    except DataError:
        return dataset, None
    finally:
        reg.close()
    return dataset, f"{entry.name}@{entry.version}"


def _filtered(component: Component, dataset: Dataset, columns: list[str]) -> Iterator[pl.DataFrame]:
    where = parse_where(component.where) if component.where else None
    wanted = list(dict.fromkeys([*columns, *(where.columns if where else ())]))
    for batch in dataset.iter_batches(columns=wanted):
        frame = pl.from_arrow(batch)
        assert isinstance(frame, pl.DataFrame)
        if where is not None:
            missing = [c for c in where.columns if c not in frame.columns]
            if missing:
                raise DataError(
                    f"component {component.label!r}: where reads column {missing[0]!r}, which "
                    f"{component.ref} does not have",
                    hint=f"its columns: {', '.join(frame.columns)}",
                )
            frame = frame.filter(where.compile(dict(frame.schema)).fill_null(False))
        yield frame


def _sizes(
    mixture: Mixture, component: Component, dataset: Dataset
) -> tuple[npt.NDArray[np.int64], list[str] | None]:
    by_tokens = mixture.weight_by == "tokens"
    columns = [schema.ID, *([mixture.tokens_column] if by_tokens else [])]
    if component.temperature is not None:
        columns.append(LANG)
    sizes: list[npt.NDArray[np.int64]] = []
    langs: list[str] = []
    for frame in _filtered(component, dataset, columns):
        if by_tokens:
            if mixture.tokens_column not in frame.columns:
                raise DataError(
                    f"component {component.label!r} ({component.ref}) has no column "
                    f"{mixture.tokens_column!r} to weigh by tokens",
                    hint="run score.tokens on it first, or use weight_by: documents",
                )
            sizes.append(frame[mixture.tokens_column].fill_null(0).to_numpy().astype(np.int64))
        else:
            sizes.append(np.ones(frame.height, dtype=np.int64))
        if component.temperature is not None:
            if LANG not in frame.columns:
                raise DataError(
                    f"component {component.label!r}: temperature needs a `lang` column",
                    hint="run score.language on it first, or drop temperature",
                )
            langs.extend(str(x) for x in frame[LANG].fill_null("und").to_list())
    joined = np.concatenate(sizes) if sizes else np.zeros(0, dtype=np.int64)
    return joined, (langs if component.temperature is not None else None)


def _groups(
    component: Component, sizes: npt.NDArray[np.int64], langs: list[str] | None
) -> list[tuple[npt.NDArray[np.int64], float]]:
    """Row indices and weight (share of the component) of each group."""
    if langs is None or component.temperature is None:
        return [(np.arange(len(sizes), dtype=np.int64), 1.0)]
    codes = np.array(langs, dtype=object)
    names = sorted(set(langs))
    rows = {n: np.flatnonzero(codes == n) for n in names}
    weights = language_weights(
        {n: int(sizes[r].sum()) for n, r in rows.items()}, component.temperature
    )
    return [(rows[n], weights[n]) for n in names]


def _largest_total(
    mixture: Mixture,
    shares: list[float],
    sizes: list[npt.NDArray[np.int64]],
    groups: list[list[tuple[npt.NDArray[np.int64], float]]],
) -> float:
    """The largest total at which no group needs more than its component's max_epochs."""
    limits = [
        float(sizes[i][rows].sum()) * c.max_epochs / (shares[i] * weight)
        for i, c in enumerate(mixture.components)
        for rows, weight in groups[i]
        if shares[i] * weight > 0
    ]
    if not limits or max(limits) == 0:
        raise DataError(f"mixture {mixture.name}: its components have no rows (after `where`)")
    return min(limits)


def _write(mixture: Mixture, picked: list[_Picked], target: Path) -> int:
    """Write every chosen copy as ``data/train-K-of-N.parquet``; return the rows written."""
    union = union_schema(
        [(p.component.label, p.dataset.schema) for p in picked], mixture=mixture.name
    )
    types = polars_types(union)
    data = target / "data"
    parts: list[Path] = []
    pending: list[pl.DataFrame] = []
    pending_rows = rows = 0

    def flush(*, last: bool = False) -> None:
        nonlocal pending, pending_rows
        if not pending:
            return
        frame = pl.concat(pending)
        size = mixture.output.shard_rows
        start = 0
        while frame.height - start >= size or (last and start < frame.height):
            parts.append(data / f".part-{len(parts):05d}.parquet")
            write_parquet_atomic(frame.slice(start, size).to_arrow(), parts[-1])
            start += size
        pending = [frame.slice(start)] if start < frame.height else []
        pending_rows = frame.height - start

    for p in picked:
        offset = 0
        for frame in _filtered(p.component, p.dataset, union.names):
            copies = p.copies[offset : offset + frame.height]
            offset += frame.height
            chosen = (
                conform(frame, types, mixture=mixture.name, component=p.component.label)
                .with_columns(pl.Series("__copies", copies))
                .filter(pl.col("__copies") > 0)
            )
            if not chosen.height:
                continue
            expanded = (
                chosen.with_columns(pl.int_ranges(0, pl.col("__copies")).alias("mix_epoch"))
                .explode("mix_epoch")
                .drop("__copies")
                .with_columns(
                    pl.col(schema.ID).alias("source_id"),
                    pl.lit(p.component.label).alias("mix_component"),
                    pl.col("mix_epoch").cast(pl.Int64),
                )
                .with_columns(
                    pl.format("{}:{}:{}", "mix_component", "mix_epoch", "source_id").alias(
                        schema.ID
                    )
                )
                .select(*types, *OWN)
            )
            pending.append(expanded)
            pending_rows += expanded.height
            rows += expanded.height
            if pending_rows >= mixture.output.shard_rows:
                flush()
    flush(last=True)
    for i, part in enumerate(parts):
        part.rename(data / f"train-{i:05d}-of-{len(parts):05d}.parquet")
    return rows
