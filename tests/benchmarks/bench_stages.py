"""Each per-document stage alone against its floor, in documents per CPU-second.

    python tests/benchmarks/bench_stages.py [--docs 50000] [--rounds 3]

The same documents for every measurement: the texts of ../shared/bench/neardup-20k.parquet
(web-like documents of ~2,300 characters, ~380 words), repeated to ``--docs``, in batches of
10,000 rows. One worker, one thread. Each round runs every measurement once, in an order that
rotates from round to round, so drifting machine load hits all alike; figures are the best
round. Measurements (CPU seconds of this process):

* ``io``: the floor of any stage, a bare pyarrow read of the Parquet file and write of it;
* ``normalize``: the stage, and the floor ``ftfy.fix_text`` (the stage's configuration) on every
  document, and on non-ASCII documents only (what the stage did before it filtered); all figures
  are per document of the whole corpus;
* ``score.language``: the stage with its defaults, the stage reading whole documents
  (``max_chars: null``), the floor fastText predict on whole documents, and fastText predict on
  the same ``max_chars`` sample the stage classifies;
* ``score.quality``: the stage (all groups).

With ``PYTHONPATH=<another checkout>`` the same script measures that version of curate (the
"before" figures in docs/performance.md). Run it as a script (not with ``python -c`` or ``-m``
from the repo, which put the working directory ahead of PYTHONPATH).
Prints one JSON line.

    python tests/benchmarks/bench_stages.py --startup [--before TREE] [--runs 10] [--cold-runs 2]

times ``curate --help``, ``curate stages`` and ``curate check recipes/fineweb-like.yaml`` as a
user starts them (a new interpreter each time), and ``check_no_input``: the same recipe with an
input path that does not exist (checking a recipe on a machine without the data, where the plan
assumes ``id`` and ``text`` instead of reading the first rows); interleaved with the same
commands of another checkout when ``--before`` is given; min and median of ``--runs``, as
wall-clock seconds and as the CPU seconds of the child process (the steadier figure on a loaded
machine). ``run10`` is ``curate run`` of normalize, score.language (lid.176.ftz), score.quality
and a filter over the first 10 documents of recipes/sample/web-sample.jsonl with a warm numba
cache (its own ``NUMBA_CACHE_DIR``, filled by one untimed run); ``run10_cold`` the same with an
empty cache, ``--cold-runs`` times, where every kernel the run calls is compiled first;
``run10_normalize`` the same documents through normalize alone (a run that needs no numba).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("POLARS_MAX_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import curate
from curate.stages.normalize import Normalize
from curate.stages.score_language import ScoreLanguage, load_fasttext
from curate.stages.score_quality import ScoreQuality

SHARED = Path(os.environ.get("CURATE_SHARED", Path(__file__).resolve().parents[3] / "shared"))
CORPUS = SHARED / "bench" / "neardup-20k.parquet"
MODEL = SHARED / "data" / "fasttext-lid176" / "lid.176.ftz"
BATCH = 10_000


def documents(n: int) -> pa.Table:
    texts = pq.read_table(CORPUS, columns=["text"]).column("text").combine_chunks()
    reps = -(-n // len(texts))
    text = pa.concat_arrays([texts] * reps).slice(0, n)
    return pa.table({"id": [f"d{i}" for i in range(n)], "text": text})


def cpu(fn: Callable[[], object]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def measurements(table: pa.Table, workdir: Path) -> dict[str, Callable[[], object]]:
    import ftfy

    batches = table.to_batches(max_chunksize=BATCH)
    texts: list[str] = table.column("text").to_pylist()
    non_ascii = [
        t for t, a in zip(texts, pc.string_is_ascii(table.column("text")).to_pylist()) if not a
    ]
    normalize = Normalize()
    config = normalize._config()
    language = ScoreLanguage(model=str(MODEL))
    try:
        whole_language = ScoreLanguage(model=str(MODEL), max_chars=None)
    except ValueError:  # a version of curate that always reads whole documents
        whole_language = language
    quality = ScoreQuality()
    model = load_fasttext(MODEL)
    source = workdir / "in.parquet"
    pq.write_table(table, source)
    lines = [t.replace("\n", " ") + "\n" for t in texts]
    max_chars = getattr(language, "max_chars", None) or 500
    sampled = _samples(table, max_chars)

    def run(stage: Any) -> None:
        for b in batches:
            stage.process(b)

    def predict(lines: list[str] | list[bytes]) -> None:
        for line in lines:
            model.predict(line, 1, 0.0, "strict")

    return {
        "io": lambda: pq.write_table(pq.read_table(source), workdir / "out.parquet"),
        "normalize": lambda: run(normalize),
        "ftfy_all": lambda: [ftfy.fix_text(t, config) for t in texts],
        "ftfy_non_ascii": lambda: [ftfy.fix_text(t, config) for t in non_ascii],
        "score.language": lambda: run(language),
        "score.language_whole": lambda: run(whole_language),
        "fasttext_whole": lambda: predict(lines),
        "fasttext_max_chars": lambda: predict(sampled),
        "score.quality": lambda: run(quality),
    }


def _samples(table: pa.Table, max_chars: int) -> list[bytes]:
    """The lines the current stage classifies (its sample of each long document)."""
    try:
        from curate.lang.lid import sample_lines
    except ImportError:  # a version of curate without sampling: whole documents
        return [(t.replace("\n", " ") + "\n").encode() for t in table.column("text").to_pylist()]
    text = table.column("text").combine_chunks().cast(pa.large_string())
    return sample_lines(text, max_chars=max_chars, sample="windows")[0]


COMMANDS = {
    "help": ["--help"],
    "stages": ["stages"],
    "check": ["check", "recipes/fineweb-like.yaml"],
}


def startup(before: str | None, runs: int, cold_runs: int) -> dict[str, Any]:
    repo = Path(__file__).resolve().parents[2]
    with tempfile.TemporaryDirectory() as tmp:
        text = (repo / "recipes" / "fineweb-like.yaml").read_text()
        given = "path: recipes/sample/web-sample.jsonl"
        assert given in text, "recipes/fineweb-like.yaml: its input path changed; update it here"
        no_input = Path(tmp) / "no-input.yaml"
        no_input.write_text(text.replace(given, f"path: {Path(tmp) / 'absent.jsonl'}"))
        commands = {**COMMANDS, "check_no_input": ["check", str(no_input)]}
        commands["run10"] = ["run", str(_ten_documents(repo, Path(tmp), STAGES)), "--quiet"]
        normalize = _ten_documents(repo, Path(tmp), "  - use: normalize\n", "normalize-only")
        commands["run10_normalize"] = ["run", str(normalize), "--quiet"]
        return _startup(repo, Path(tmp), commands, before, runs, cold_runs)


TEN_DOCUMENTS = """name: ten-documents
input: {{path: {data}, id_column: url}}
stages:
{stages}output: {{path: {out}}}
"""
STAGES = """  - use: normalize
  - use: score.language
  - use: score.quality
  - use: filter
    with: {where: "lang = 'en' AND quality_word_count >= 50", reason: short-or-not-english}
"""


def _ten_documents(repo: Path, tmp: Path, stages: str, name: str = "ten") -> Path:
    lines = (repo / "recipes" / "sample" / "web-sample.jsonl").read_text().splitlines()[:10]
    data = tmp / "ten.jsonl"
    data.write_text("\n".join(lines) + "\n")
    recipe = tmp / f"{name}.yaml"
    # One output folder a recipe for every run: a previous curate output's files are replaced.
    recipe.write_text(TEN_DOCUMENTS.format(data=data, stages=stages, out=tmp / f"{name}-out"))
    return recipe


def _startup(
    repo: Path,
    tmp: Path,
    commands: dict[str, list[str]],
    before: str | None,
    runs: int,
    cold_runs: int,
) -> dict[str, Any]:
    # `python -P`: without it the working directory (the repo) would come ahead of PYTHONPATH
    # and both versions would be this one.
    common = {**os.environ, "NUMBA_CACHE_DIR": str(tmp / "numba-warm")}
    common.setdefault("CURATE_LID_MODEL", str(MODEL))
    versions = {"after": {**common, "PYTHONPATH": str(repo)}}
    if before:
        versions["before"] = {**common, "PYTHONPATH": before}
    wall: dict[str, list[float]] = {f"{v}_{c}": [] for v in versions for c in commands}
    wall.update({f"{v}_run10_cold": [] for v in versions if cold_runs})
    cpu_s: dict[str, list[float]] = {key: [] for key in wall}

    def timed(key: str, args: list[str], env: dict[str, str]) -> None:
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-P", "-m", "curate", *args],
            cwd=repo, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wall[key].append(time.perf_counter() - start)
        now = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_s[key].append(now.ru_utime + now.ru_stime - used.ru_utime - used.ru_stime)

    for version, env in versions.items():
        timed(f"{version}_run10", commands["run10"], env)  # fills the warm cache
        wall[f"{version}_run10"].clear()
        cpu_s[f"{version}_run10"].clear()
    for _ in range(runs):
        for version, env in versions.items():
            for name, args in commands.items():
                timed(f"{version}_{name}", args, env)
    for i in range(cold_runs):
        for version, env in versions.items():
            cold = {**env, "NUMBA_CACHE_DIR": str(tmp / f"numba-cold-{version}-{i}")}
            timed(f"{version}_run10_cold", commands["run10"], cold)
    return {
        "runs": runs,
        "cold_runs": cold_runs,
        "wall_min_s": {k: round(min(v), 3) for k, v in wall.items()},
        "wall_median_s": {k: round(statistics.median(v), 3) for k, v in wall.items()},
        "cpu_min_s": {k: round(min(v), 3) for k, v in cpu_s.items()},
        "cpu_median_s": {k: round(statistics.median(v), 3) for k, v in cpu_s.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="measure only these (names as in the output)")
    parser.add_argument("--startup", action="store_true", help="time CLI start-up instead")
    parser.add_argument("--before", help="a checkout of another version, for --startup")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--cold-runs", type=int, default=2, help="run10 with an empty cache")
    args = parser.parse_args()
    if args.startup:
        print(json.dumps(startup(args.before, args.runs, args.cold_runs)))
        return
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    table = documents(args.docs)
    with tempfile.TemporaryDirectory() as tmp:
        todo = measurements(table, Path(tmp))
        if args.only:
            todo = {k: v for k, v in todo.items() if k in args.only}
        names = list(todo)
        seconds: dict[str, list[float]] = {name: [] for name in names}
        for r in range(args.rounds):
            shift = r % len(names)
            for name in names[shift:] + names[:shift]:
                seconds[name].append(cpu(todo[name]))
    result = {
        "curate": os.path.dirname(curate.__file__),
        "docs": args.docs,
        "mean_chars": round(float(pc.mean(pc.utf8_length(table.column("text"))).as_py())),
        "rounds": args.rounds,
        "docs_per_cpu_s": {k: round(args.docs / min(v)) for k, v in seconds.items()},
        "cpu_s_best": {k: round(min(v), 2) for k, v in seconds.items()},
        "cpu_s_all": {k: [round(x, 2) for x in v] for k, v in seconds.items()},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
