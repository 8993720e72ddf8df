"""The FineWeb-like filter pipeline, curate against datatrove, on the same documents.

    python tests/benchmarks/bench_datatrove.py --datatrove-python /work/dt-venv/bin/python \
        [--docs 50000] [--workers 1 2] [--rounds 3] [--work DIR]

The datatrove virtualenv needs, besides ``datatrove==0.10.1``, the parts of its optional
extras these blocks use: ``pyarrow fasttext-numpy2-wheel fasteners regex spacy`` (English words
are split by spaCy), and ``requests aiohttp`` for fsspec's HTTP file system (the model's cache
name is derived from its URL)::

    python3 -m venv /work/dt-venv && /work/dt-venv/bin/pip install datatrove==0.10.1 pyarrow \
        fasttext-numpy2-wheel fasteners regex spacy requests aiohttp

curate runs ``recipes/fineweb-like.yaml`` (input and id column pointed at the bench files);
datatrove runs the pipeline FineWeb ran after text extraction, each block with the settings
FineWeb used: ``LanguageFilter(languages=["en"])`` (English, score 0.65),
``GopherRepetitionFilter()``, ``GopherQualityFilter()``,
``C4QualityFilter(filter_no_terminal_punct=False)`` and ``FineWebQualityFilter()``, between a
``ParquetReader`` and a ``ParquetWriter``, on its ``LocalPipelineExecutor`` with one task per
input file. Both tools use the same fastText model, ``../shared/data/fasttext-lid176/lid.176.ftz``
(datatrove's download cache is pre-filled with it). In 0.10.1 a bare ``LanguageFilter()``, which
this file ran before issue 21, keeps a document in any language scoring above 0.65 (134 French
documents among datatrove's 38,684 kept); ft176's labels are ISO 639-1, so ``Languages.english``
(``"eng"``) would match none and drop every document.

Both tools run as their users get them, and they do not do the same work (issue 21: one task on
5,000 of these documents under cProfile in the side virtualenv; the per-block times of a
50,000-document ``stats.json`` rank the blocks alike). datatrove 0.10.1 splits English with
spaCy (``tokenizer_assignment.csv``: ``spacy.blank("en")`` and a sentencizer); FineWeb ran an
older datatrove with NLTK's tokenizer, which a 0.10.1 user does not get and this file does not
reproduce. spaCy is 85% of the profiled time: word splits (56%) for the Gopher blocks (shared
through ``split_into_parts``' cache) and again for ``FineWebQualityFilter``, because
``C4QualityFilter`` rewrote the text in between; a sentence split of every kept line, only to
count C4's five sentences (29%). Each split runs in a spaCy ``memory_zone``, which frees the
lexemes it made, so every document builds its vocabulary again (39% in ``Vocab._new_lexeme``;
3.7 against 1.3 CPU s on 750 documents with and without the zone). fastText is 3%, the Gopher
n-gram counting 6%. No option of these blocks changes any of that. curate does less work: it
keeps documents whole (no C4 line removal, no sentence count) and classifies a 500-character
sample of each text (``score.language``'s default) where datatrove reads all of it. The CPU
ratio compares the tools as used, not equal work; docs/performance.md tabulates the rules that
part the kept sets.

Documents: ``../shared/bench/make_neardup.py`` with seed 5 (web-like prose from public-domain
books, ~380 words on average, 30% in near-duplicate clusters), written as ``--files`` Parquet
files so that datatrove, which splits work by file, can use every worker.

Each round runs every (tool, workers) pair once; the order alternates between rounds so a
drifting machine load hits both tools alike. Each run is a fresh process tree, sampled every
``--interval`` seconds from /proc: CPU is the sum over every process ever seen in the tree of
its last utime + stime (datatrove's workers are not waited for by their parent, so the root's
``RUSAGE_CHILDREN`` under-counts it; that figure is printed too), peak RSS is the maximum over
samples of the summed RSS of the live processes of the tree. Kept-document agreement: the
Jaccard index of the kept ids and both counts; ``jaccard_without_exact_dups`` leaves out the
documents curate's ``dedup.exact`` removed (datatrove's pipeline has no such step). Each run's
line also has ``dropped``: curate's ledger by stage, datatrove's filters by reason (from its
``stats.json`` after the run, so datatrove writes no excluded documents).

Prints one JSON line per run and a final JSON line with every run and the per-round ratios.
The datatrove side runs this same file under the datatrove virtualenv (``--run-datatrove``);
curate is not imported there.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("CURATE_SHARED", ROOT.parent / "shared"))
MODEL = SHARED / "data" / "fasttext-lid176" / "lid.176.ftz"
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


def run_datatrove(args: argparse.Namespace) -> None:
    """The datatrove pipeline; runs in datatrove's virtualenv."""
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.io import cached_assets_path
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
        LanguageFilter,
    )
    from datatrove.pipeline.readers import ParquetReader
    from datatrove.pipeline.writers import ParquetWriter
    from datatrove.utils.lid import FT176LID
    from fsspec.core import strip_protocol

    # the file name and ".completed" marker datatrove's cached_asset_path_or_download looks for
    cache = Path(cached_assets_path(library_name="datatrove", namespace="lid", subfolder="ft176"))
    target = cache / strip_protocol(FT176LID.MODEL_URL).replace("/", "_")
    if not target.exists():
        target.symlink_to(Path(args.model).resolve())
        Path(f"{target}.completed").touch()
    files = sorted(Path(args.input).glob("*.parquet"))
    pipeline = [
        ParquetReader(str(args.input), glob_pattern="*.parquet", text_key="text", id_key="id"),
        # 0.10.1's default, languages=None, keeps any language scoring above 0.65 (FineWeb ran when
        # the default was English); ft176 labels are ISO 639-1: Languages.english, "eng", matches
        # no label and would drop every document
        LanguageFilter(languages=["en"]),
        GopherRepetitionFilter(),
        GopherQualityFilter(),
        C4QualityFilter(filter_no_terminal_punct=False),
        FineWebQualityFilter(),
        ParquetWriter(str(args.output)),
    ]
    LocalPipelineExecutor(
        pipeline=pipeline,
        tasks=len(files),
        workers=args.workers[0],
        logging_dir=str(args.logs),
        skip_completed=False,
    ).run()


def _stat(pid: int) -> tuple[int, int, int, int] | None:
    """(ppid, start time, utime + stime ticks, rss pages) of a process, None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read().decode()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    # fields[0] is the state (field 3 of proc(5)): ppid is field 4, utime 14, stime 15,
    # starttime 22, rss 24
    return int(fields[1]), int(fields[19]), int(fields[11]) + int(fields[12]), int(fields[21])


def monitored(cmd: list[str], env: dict[str, str], interval: float, cwd: Path) -> dict[str, float]:
    """Run cmd; sample its whole process tree until the root exits and the tree is empty."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    root_start = _stat(proc.pid)
    cpu_ticks: dict[tuple[int, int], int] = {}
    peak_of: dict[tuple[int, int], int] = {}
    names: dict[tuple[int, int], str] = {}
    tree = {proc.pid}
    peak_rss = 0
    while True:
        stats = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                s = _stat(int(entry))
                if s is not None:
                    stats[int(entry)] = s
        # descendants: processes whose parent is in the tree (adopted orphans keep their pid in
        # the tree once seen)
        grown = True
        while grown:
            grown = False
            for pid, s in stats.items():
                if pid not in tree and s[0] in tree:
                    tree.add(pid)
                    grown = True
        live = [pid for pid in tree if pid in stats]
        rss = 0
        for pid in live:
            _ppid, started, ticks, pages = stats[pid]
            if pid == proc.pid and root_start is not None and started != root_start[1]:
                continue
            key = (pid, started)
            cpu_ticks[key] = ticks
            peak_of[key] = max(peak_of.get(key, 0), pages * PAGE)
            if key not in names:
                names[key] = _name(pid)
            rss += pages * PAGE
        peak_rss = max(peak_rss, rss)
        if proc.poll() is not None and not any(p != proc.pid for p in live):
            break
        time.sleep(interval)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[:3]} failed with exit code {proc.returncode}:\n{err[-3000:]}")
    waited = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(sum(cpu_ticks.values()) / TICKS, 2),
        "cpu_waited_s": round(waited, 2),
        "peak_rss_mb": round(peak_rss / 2**20, 1),
        "processes": len(cpu_ticks),
        "process_peaks_mb": sorted(
            ([names[k], round(v / 2**20, 1)] for k, v in peak_of.items()), key=lambda x: -x[1]
        )[:6],
    }


def _name(pid: int) -> str:
    """A short label for a process: its command line without the interpreter's path."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            parts = f.read().decode(errors="replace").split("\0")
    except OSError:
        return "?"
    return " ".join(Path(parts[0]).name.split() + parts[1:3])[:60]


def prepare(args: argparse.Namespace) -> Path:
    """Bench documents as --files Parquet files in WORK/input, and the curate recipe."""
    import pyarrow.parquet as pq
    import yaml

    work: Path = args.work
    inputs = work / "input"
    if not inputs.exists():
        corpus = work / f"neardup-{args.docs}.parquet"
        if not corpus.exists():
            subprocess.run(
                [
                    sys.executable,
                    str(SHARED / "bench" / "make_neardup.py"),
                    "--sources",
                    str(SHARED / "bench" / "sources"),
                    "--n-docs",
                    str(args.docs),
                    "--seed",
                    "5",
                    "--out",
                    str(corpus),
                ],
                check=True,
            )
        table = pq.read_table(corpus, columns=["id", "text"])
        inputs.mkdir(parents=True)
        step = -(-table.num_rows // args.files)
        for i in range(args.files):
            part = table.slice(i * step, step)
            pq.write_table(part, inputs / f"part-{i:02d}.parquet", row_group_size=len(part))
    recipe = yaml.safe_load((ROOT / "recipes" / "fineweb-like.yaml").read_text())
    recipe["input"] = {"path": str(inputs / "*.parquet"), "id_column": "id"}
    path = work / "fineweb-like.yaml"
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return path


def kept_ids(folder: Path) -> set[str]:
    import pyarrow.parquet as pq

    ids: set[str] = set()
    for f in sorted(folder.rglob("*.parquet")):
        ids.update(pq.read_table(f, columns=["id"]).column("id").to_pylist())
    return ids


def exact_dup_removed(out: Path) -> set[str]:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    removed = pq.read_table(out / "curate" / "removed", columns=["id", "stage"])
    return set(removed.filter(pc.equal(removed["stage"], "dedup.exact"))["id"].to_pylist())


def dropped_curate(out: Path) -> dict[str, int]:
    """Documents the ledger holds, by stage: which rule removed how many."""
    import pyarrow.parquet as pq

    stages = pq.read_table(out / "curate" / "removed", columns=["stage"]).column("stage")
    counts: dict[str, int] = {}
    for stage in stages.to_pylist():
        counts[stage] = counts.get(stage, 0) + 1
    return counts


def dropped_datatrove(out: Path) -> dict[str, int]:
    """Documents each datatrove filter dropped, by its reason, from the merged stats.json.

    Read after the run, so that knowing the reasons costs datatrove no exclusion writer.
    LanguageFilter gives no reason: its total is under "Language ID: dropped".
    """
    counts: dict[str, int] = {}
    for block in json.loads((out / "logs" / "stats.json").read_text()):
        if "FILTER" not in block["name"]:
            continue
        # names carry emoji prefixes: "🔻 - FILTER: 🌍 Language ID" is "Language ID"
        name = block["name"].split(": ", 1)[-1].split(" ", 1)[-1]
        stats = block["stats"]
        reasons = {
            k.removeprefix("dropped_"): v for k, v in stats.items() if k.startswith("dropped_")
        }
        for reason, n in (reasons or {"dropped": stats.get("dropped", 0)}).items():
            counts[f"{name}: {reason}"] = n
    return counts


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def one_run(
    tool: str, workers: int, args: argparse.Namespace, recipe: Path, tag: str
) -> dict[str, Any]:
    import shutil

    out = args.work / f"{tool}-w{workers}-{tag}"
    shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ)
    if tool == "curate":
        env["CURATE_LID_MODEL"] = str(MODEL)
        cmd = [
            sys.executable,
            "-m",
            "curate",
            "run",
            str(recipe),
            "-o",
            str(out),
            "--workers",
            str(workers),
            "--quiet",
        ]
    else:
        env["HF_HOME"] = str(args.work / "hf-home")
        cmd = [
            args.datatrove_python,
            __file__,
            "--run-datatrove",
            "--input",
            str(args.work / "input"),
            "--output",
            str(out / "data"),
            "--logs",
            str(out / "logs"),
            "--workers",
            str(workers),
            "--model",
            str(MODEL),
        ]
    # cwd outside the repository: `python -m curate` puts the working folder first on sys.path
    figures = monitored(cmd, env, args.interval, args.work)
    figures.update(tool=tool, workers=workers, round=tag)
    ids = kept_ids(out / "data")
    figures["kept"] = len(ids)
    figures["dropped"] = dropped_curate(out) if tool == "curate" else dropped_datatrove(out)
    print(json.dumps(figures), flush=True)
    return {"figures": figures, "ids": ids, "out": out}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datatrove-python", help="python of the virtualenv with datatrove")
    ap.add_argument("--docs", type=int, default=50_000)
    ap.add_argument("--files", type=int, default=8, help="input Parquet files")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument(
        "--datatrove-workers", type=int, nargs="+", help="datatrove's worker counts (--workers)"
    )
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--interval", type=float, default=0.2, help="seconds between /proc samples")
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench-datatrove"))
    ap.add_argument("--skip", choices=["curate", "datatrove"], action="append", default=[])
    ap.add_argument("--run-datatrove", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--logs", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--model", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run_datatrove:
        run_datatrove(args)
        return
    if not MODEL.exists():
        raise SystemExit(f"missing {MODEL}: the shared data folder is needed")
    tools = [t for t in ("curate", "datatrove") if t not in args.skip]
    if "datatrove" in tools and not args.datatrove_python:
        raise SystemExit("--datatrove-python is needed (or --skip datatrove)")
    args.datatrove_workers = args.datatrove_workers or args.workers
    args.work.mkdir(parents=True, exist_ok=True)
    recipe = prepare(args)
    runs: list[dict[str, Any]] = []
    ratios: list[dict[str, Any]] = []
    for r in range(args.rounds):
        order = tools if r % 2 == 0 else tools[::-1]
        by_key: dict[tuple[str, int], dict[str, Any]] = {}
        for workers in args.workers:
            for tool in order:
                if tool == "datatrove" and workers not in args.datatrove_workers:
                    continue
                by_key[(tool, workers)] = one_run(tool, workers, args, recipe, f"r{r}")
                runs.append(by_key[(tool, workers)]["figures"])
        for workers in args.workers:
            cu, dt = by_key.get(("curate", workers)), by_key.get(("datatrove", workers))
            if cu is None or dt is None:
                continue
            exact = exact_dup_removed(cu["out"])
            c, d = cu["figures"], dt["figures"]
            ratios.append(
                {
                    "round": r,
                    "workers": workers,
                    "cpu_ratio": round(c["cpu_s"] / d["cpu_s"], 3),
                    "peak_rss_ratio": round(c["peak_rss_mb"] / d["peak_rss_mb"], 3),
                    "wall_ratio": round(c["wall_s"] / d["wall_s"], 3),
                    "kept_curate": len(cu["ids"]),
                    "kept_datatrove": len(dt["ids"]),
                    "kept_both": len(cu["ids"] & dt["ids"]),
                    "jaccard": round(jaccard(cu["ids"], dt["ids"]), 4),
                    "jaccard_without_exact_dups": round(
                        jaccard(cu["ids"] - exact, dt["ids"] - exact), 4
                    ),
                }
            )
            print(json.dumps(ratios[-1]), flush=True)
        for tool in tools:
            one, two = by_key.get((tool, 1)), by_key.get((tool, 2))
            if one and two:
                print(
                    json.dumps(
                        {
                            "round": r,
                            "tool": tool,
                            "wall_2_over_1": round(
                                two["figures"]["wall_s"] / one["figures"]["wall_s"], 3
                            ),
                        }
                    ),
                    flush=True,
                )
    print(json.dumps({"docs": args.docs, "files": args.files, "runs": runs, "ratios": ratios}))


if __name__ == "__main__":
    main()
