"""What a run's processes load: numba's 110-130 MB only where ``score.quality`` runs.

Each case runs in a fresh interpreter, since the test process has long imported everything.
The run is inline (one worker), so the same process plans the input, runs the shards as a
worker does and writes the card: a module it never loads is loaded by neither the driver nor
a worker.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

_PROBE = """
import json, sys
from curate.executor import run_recipe
from curate.recipe import parse_recipe
recipe = parse_recipe(json.loads(sys.argv[1]))
run_recipe(recipe, workers=1)
print(json.dumps({m: m in sys.modules for m in ("numba", "llvmlite")}))
"""


def _loaded(tmp_path: Path, stages: list[dict[str, object]]) -> dict[str, bool]:
    folder = tmp_path / "in"
    folder.mkdir()
    keys = [f"k{i % 900}" for i in range(1000)]
    texts = [None if i % 13 == 0 else f"The cat number {i} sat on the mat." for i in range(1000)]
    pq.write_table(pa.table({"text": texts, "key": keys}), folder / "a.parquet", row_group_size=300)
    recipe = {
        "name": "imports",
        "input": {"path": str(folder), "id_column": "key", "on_error": "skip"},
        "stages": stages,
        "output": {"path": str(tmp_path / "out"), "shard_rows": 400},
    }
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(recipe)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    loaded: dict[str, bool] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize(
    ("stages", "numba"),
    [
        ([], False),
        ([{"use": "normalize"}, {"use": "filter", "with": {"where": "length(text) > 3"}}], False),
        ([{"use": "score.quality"}], True),
    ],
    ids=["no-stage", "normalize-filter", "score-quality"],
)
def test_numba_loads_only_with_score_quality(
    tmp_path: Path, stages: list[dict[str, object]], numba: bool
) -> None:
    assert _loaded(tmp_path, stages) == {"numba": numba, "llvmlite": numba}
