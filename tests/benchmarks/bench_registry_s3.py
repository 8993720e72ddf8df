"""Loading from a shared registry on S3 against ``datasets.load_dataset`` of the same files.

Starts moto's S3 server on 127.0.0.1 (single-threaded, in this process), publishes a version
of ``--rows`` rows to ``s3://bench/registry``, uploads the same Parquet files to
``s3://bench/plain/``, then times, interleaved three times, each from cold caches:

- ``load``: ``curate.registry.load`` from the S3 registry (download the split, hash every byte,
  then ``datasets`` builds its Arrow cache),
- ``hf_load``: ``datasets.load_dataset("parquet", data_files=s3://...)`` through s3fs,

and once ``load_warm``: a second ``curate.registry.load`` with the download cache kept (only the
Arrow cache removed). Bytes are counted as the server sends them (response bodies).

Prints one JSON line. Usage: ``python tests/benchmarks/bench_registry_s3.py [--rows N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_registry import build

SENT = {"bytes": 0}


def counting(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterator[bytes]]:
    """WSGI middleware adding every response body byte to ``SENT``."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        for chunk in app(environ, start_response):
            SENT["bytes"] += len(chunk)
            yield chunk

    return wrapped


def measure(fn: Callable[[], object]) -> tuple[float, int]:
    before = SENT["bytes"]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start, SENT["bytes"] - before


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=400_000)
    parser.add_argument("--shards", type=int, default=4)
    args = parser.parse_args()
    import logging

    import boto3
    import fsspec.config
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = make_server(
        "127.0.0.1", 0, counting(DomainDispatcherApplication(create_backend_app)), threaded=False
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_port}"
    keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **keys)
    s3.create_bucket(Bucket="bench")
    fsspec.config.conf["s3"] = {"endpoint_url": endpoint, "key": "testing", "secret": "testing"}
    work = Path(tempfile.mkdtemp(prefix="bench-registry-s3-"))
    os.environ["CURATE_REGISTRY"] = "s3://bench/registry"
    os.environ["CURATE_CACHE"] = str(work / "cache")
    import datasets

    import curate.registry as registry

    datasets.disable_progress_bars()
    try:
        source = work / "run"
        size = build(source, args.rows, args.shards)
        publish_s, _ = measure(lambda: registry.publish(source, "bench"))
        plain = []
        for path in sorted((source / "data").glob("*.parquet")):
            s3.upload_file(str(path), "bench", f"plain/{path.name}")
            plain.append(f"s3://bench/plain/{path.name}")

        def hf_load() -> None:
            datasets.load_dataset(
                "parquet", data_files={"train": plain}, split="train", cache_dir=str(work / "hf")
            )

        def load() -> None:
            registry.load("bench@1.0.0")

        hf_load()  # warm-up: imports and builder set-up, so no contender pays them
        runs: dict[str, list[tuple[float, int]]] = {"load": [], "hf_load": []}
        for _ in range(3):
            for cache in (work / "hf", work / "cache"):
                shutil.rmtree(cache, ignore_errors=True)
            runs["hf_load"].append(measure(hf_load))
            runs["load"].append(measure(load))
        shutil.rmtree(work / "cache" / "datasets", ignore_errors=True)
        warm_s, warm_bytes = measure(load)
        med = {k: float(np.median([t for t, _ in v])) for k, v in runs.items()}
        sent = {k: int(np.median([b for _, b in v])) for k, v in runs.items()}
        print(
            json.dumps(
                {
                    "bench": "registry_s3",
                    "rows": args.rows,
                    "parquet_mb": round(size / 1e6, 1),
                    "publish_s": round(publish_s, 3),
                    "load_s": round(med["load"], 3),
                    "hf_load_s": round(med["hf_load"], 3),
                    "load_vs_hf_load": round(med["load"] / med["hf_load"], 2),
                    "load_mb": round(sent["load"] / 1e6, 1),
                    "hf_load_mb": round(sent["hf_load"] / 1e6, 1),
                    "load_bytes_vs_hf": round(sent["load"] / sent["hf_load"], 3),
                    "load_warm_s": round(warm_s, 3),
                    "load_warm_mb": round(warm_bytes / 1e6, 3),
                }
            )
        )
    finally:
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
