"""Token totals of a run's output, for its run report: overall, per split and per language.

>>> import pyarrow as pa, pyarrow.parquet as pq, tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> pq.write_table(pa.table({"n_tokens": [3, 4, 5], "lang": ["en", "fr", "en"]}),
...     d / "train-00000-of-00001.parquet")
>>> token_totals([d / "train-00000-of-00001.parquet"])
{'total': 12, 'by_split': {'train': 12}, 'by_language': {'en': 8, 'fr': 4}}
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq

COLUMN = "n_tokens"


def token_totals(files: Sequence[Path]) -> dict[str, Any]:
    """Sum ``n_tokens`` over the Parquet ``files`` (``SPLIT-...parquet``), by split and ``lang``."""
    by_split: Counter[str] = Counter()
    by_lang: Counter[str] = Counter()
    for path in files:
        names = pq.read_schema(path).names
        if COLUMN not in names:
            continue
        table = pq.read_table(path, columns=[COLUMN, *(["lang"] if "lang" in names else [])])
        by_split[path.name.split("-", 1)[0]] += int(pc.sum(table.column(COLUMN)).as_py() or 0)
        if "lang" in names:
            grouped = table.group_by("lang").aggregate([(COLUMN, "sum")])
            for lang, n in zip(grouped.column("lang").to_pylist(), grouped.column(1).to_pylist()):
                by_lang[str(lang or "und")] += int(n or 0)
    out: dict[str, Any] = {"total": sum(by_split.values()), "by_split": dict(by_split)}
    if by_lang:
        out["by_language"] = dict(by_lang.most_common())
    return out
