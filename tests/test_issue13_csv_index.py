"""A CSV's unnamed index column (header ``""``, as pandas writes it) is named and the run says
so, for ``curate check`` and ``curate run`` alike (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from cli_process import run_cli


def test_the_unnamed_column_is_named_and_the_note_names_the_file(tmp_path: Path) -> None:
    data = tmp_path / "in.csv"
    data.write_text(",text,index\n0,a,x\n1,b,y\n")  # "index" taken: the next free name
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        f"name: csv\ninput: {{path: {data}}}\nstages: []\noutput: {{path: {tmp_path / 'out'}}}\n"
    )
    note = f"{data}: the column with an empty header is read as 'index_2'"
    check = run_cli("check", str(recipe))
    assert check.returncode == 0, check.stderr
    assert note in check.stderr
    run = run_cli("run", str(recipe), "--quiet")
    assert run.returncode == 0, run.stderr
    assert run.stderr.count(note) == 1
    table = pq.read_table(tmp_path / "out" / "data")
    assert table.column("index_2").to_pylist() == [0, 1]
    assert table.column("index").to_pylist() == ["x", "y"]
