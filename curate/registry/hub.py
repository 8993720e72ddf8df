"""Pushing a registry version to the Hugging Face Hub (``curate publish ... --hub ORG/NAME``).

Everything that can fail without uploading (the repo id, offline mode, a missing token, an
unreachable Hub) is checked by :func:`ready` before the first byte is sent.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from curate.errors import CurateError, DataError

log = logging.getLogger(__name__)

REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
#: The removal ledger holds the raw text of every removed document (toxic, duplicate, personal
#: data); it stays in the local registry and is not pushed to a public Hub repo.
HUB_IGNORE = ("curate/removed/*",)
LEDGER = "curate/removed/"


def check_repo_id(repo_id: str) -> str:
    """
    >>> check_repo_id("my-org/web-sample")
    'my-org/web-sample'
    """
    if not REPO_ID.match(repo_id) or ".." in repo_id:
        raise DataError(
            f"--hub {repo_id!r}: not a Hub dataset id", hint="write ORG/NAME, e.g. my-org/web-en"
        )
    return repo_id


def ready(repo_id: str, *, api: Any = None) -> Any:
    """Return an ``HfApi`` that can upload to ``repo_id``, or raise saying why it cannot."""
    from huggingface_hub import HfApi, constants, get_token

    check_repo_id(repo_id)
    if constants.is_offline_mode():
        raise CurateError(
            "cannot publish to the Hugging Face Hub: offline mode is on (HF_HUB_OFFLINE)",
            hint="unset HF_HUB_OFFLINE when the network is available; the local registry "
            "works without --hub",
        )
    api = api or HfApi()
    token = get_token()
    if token is None:
        raise CurateError(
            "cannot publish to the Hugging Face Hub: no access token",
            hint="run `hf auth login` or set HF_TOKEN",
        )
    try:
        api.whoami(token=token)
    except Exception as exc:  # network errors come in many types; all mean "not now"
        raise CurateError(
            f"cannot reach the Hugging Face Hub at {constants.ENDPOINT}: {exc}",
            hint="check the network and the token; nothing was uploaded",
        ) from exc
    return api


def _upload_copy(folder: Path, dest: Path) -> None:
    """Link the version's files into ``dest`` so the card there can name the Hub repo.

    The ledger is not linked at all, so no upload of ``dest`` (``ignore_patterns`` or not) can
    carry it."""
    for path in folder.rglob("*"):
        if not path.is_file() or path.name in {"README.md", "croissant.json"}:
            continue
        if path.relative_to(folder).as_posix().startswith(LEDGER):
            continue
        target = dest / path.relative_to(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, target)
        except OSError:
            shutil.copyfile(path, target)
    shutil.copyfile(folder / "README.md", dest / "README.md")


def push(folder: Path, repo_id: str, *, ref: str, tag: str, api: Any) -> str:
    """Upload a version folder to ``repo_id`` and tag the commit; return the commit URL."""
    import json

    from curate.card import write_card

    version = ref.rsplit("@", 1)[-1]
    with tempfile.TemporaryDirectory(prefix="curate-hub-") as tmp:
        upload = Path(tmp)
        _upload_copy(folder, upload)
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        known = {f["path"]: f["sha256"] for f in manifest["files"]}
        write_card(upload, ref=ref, version=version, hub_repo=repo_id, checksums=known)
        api.create_repo(repo_id, repo_type="dataset", exist_ok=True)
        info = api.upload_folder(
            repo_id=repo_id,
            folder_path=upload,
            repo_type="dataset",
            commit_message=f"Publish {ref}",
            ignore_patterns=list(HUB_IGNORE),
        )
    api.create_tag(repo_id, tag=tag, repo_type="dataset", tag_message=f"curate {ref}")
    url = str(getattr(info, "commit_url", "") or f"https://huggingface.co/datasets/{repo_id}")
    log.info("pushed %s to %s (tag %s)", ref, url, tag)
    return url
