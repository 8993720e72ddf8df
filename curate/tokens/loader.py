"""Loading a Hugging Face ``tokenizers`` tokenizer and encoding batches of texts with it.

A tokenizer is named by a ``tokenizer.json`` file, a folder holding one (a saved model or
tokenizer folder), or a Hugging Face Hub name such as ``gpt2``, which ``tokenizers`` fetches
into the Hub's cache the first time. As for model assets (:mod:`curate.models`),
``CURATE_OFFLINE=1`` forbids the fetch: a Hub name is then read from that cache or refused
with an error saying to pass a local file, rather than left to fail on a network timeout.

>>> from tokenizers import Tokenizer, models, pre_tokenizers, trainers
>>> import tempfile, os
>>> tok = Tokenizer(models.BPE(unk_token="[UNK]"))
>>> tok.pre_tokenizer = pre_tokenizers.Whitespace()
>>> tok.train_from_iterator(["a cat sat", "a cat ran"],
...     trainers.BpeTrainer(vocab_size=40, special_tokens=["[UNK]", "<eos>"], show_progress=False))
>>> path = os.path.join(tempfile.mkdtemp(), "tokenizer.json"); tok.save(path)
>>> loaded = load_tokenizer(path)
>>> loaded.count(["a cat sat", ""]).tolist(), loaded.eos_id("<eos>")
([3, 0], 1)
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from curate.errors import DataError, MissingDependencyError, RecipeError
from curate.models import OFFLINE_ENV

#: Names tried, in order, for the end-of-sequence token when none is given.
EOS_CANDIDATES = ("<|endoftext|>", "</s>", "<eos>", "<|end_of_text|>", "[SEP]", "<|eot_id|>")


@dataclass
class LoadedTokenizer:
    """A tokenizer and where it came from (for run reports and export manifests)."""

    tokenizer: Any
    source: str
    sha256: str | None
    _vocab: int = field(default=0)

    @property
    def vocab_size(self) -> int:
        if not self._vocab:
            self._vocab = int(self.tokenizer.get_vocab_size(with_added_tokens=True))
        return self._vocab

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text, without special tokens added around it."""
        encoded = _fast_encode(self.tokenizer)(list(texts), add_special_tokens=False)
        return [e.ids for e in encoded]

    def count(self, texts: Sequence[str]) -> npt.NDArray[np.int64]:
        """Tokens per text."""
        encoded = _fast_encode(self.tokenizer)(list(texts), add_special_tokens=False)
        return np.fromiter((len(e.ids) for e in encoded), dtype=np.int64, count=len(encoded))

    def eos_id(self, token: str | None) -> int:
        """The id of ``token``, or of the first known end-of-sequence token when None."""
        names = (token,) if token else EOS_CANDIDATES
        for name in names:
            found = self.tokenizer.token_to_id(name)
            if found is not None:
                return int(found)
        raise RecipeError(
            f"tokenizer {self.source} has no end-of-sequence token "
            + (repr(token) if token else f"(tried {', '.join(EOS_CANDIDATES)})"),
            hint="name one it has with --eos TOKEN",
        )


def _fast_encode(tokenizer: Any) -> Any:
    # encode_batch_fast skips offset tracking, which counting and exporting never need.
    return getattr(tokenizer, "encode_batch_fast", tokenizer.encode_batch)


@cache
def load_tokenizer(spec: str) -> LoadedTokenizer:
    """Load ``spec``: a tokenizer.json, a folder with one, or a Hub name."""
    try:
        from tokenizers import Tokenizer
    except ImportError as exc:
        raise MissingDependencyError(
            "tokenizing needs the `tokenizers` package", hint="pip install tokenizers"
        ) from exc
    path = Path(spec).expanduser()
    if path.is_dir():
        path = path / "tokenizer.json"
    if path.is_file():
        data = path.read_bytes()
        try:
            tokenizer = Tokenizer.from_str(data.decode("utf-8"))
        except Exception as exc:
            raise DataError(
                f"{path}: not a tokenizers tokenizer.json ({str(exc).splitlines()[0]})",
                hint="save one with Tokenizer.save() or AutoTokenizer.save_pretrained()",
            ) from exc
        return LoadedTokenizer(tokenizer, str(path), hashlib.sha256(data).hexdigest())
    if spec.startswith((".", "/", "~")) or spec.endswith(".json"):
        raise DataError(f"tokenizer file not found: {spec}", hint="check the path")
    if os.environ.get(OFFLINE_ENV, "") not in ("", "0"):
        return _from_hub_cache(spec)
    try:
        tokenizer = Tokenizer.from_pretrained(spec)
    except Exception as exc:
        raise DataError(
            f"could not load tokenizer {spec!r} from the Hugging Face Hub "
            f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})",
            hint="without network, pass the path of a tokenizer.json (or a folder holding one)",
        ) from exc
    return LoadedTokenizer(tokenizer, f"hf:{spec}", None)


def _from_hub_cache(spec: str) -> LoadedTokenizer:
    """Hub tokenizer ``spec`` from the Hub's local cache only (``CURATE_OFFLINE`` is set)."""
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(spec, "tokenizer.json")
    if not isinstance(cached, str):
        raise MissingDependencyError(
            f"tokenizer {spec!r} is a Hugging Face Hub name, not in the Hub's local cache, and "
            f"${OFFLINE_ENV} is set, so it was not downloaded",
            hint="pass the path of a tokenizer.json (or a folder holding one), or unset "
            f"{OFFLINE_ENV} to fetch it",
        )
    loaded = load_tokenizer(cached)
    return LoadedTokenizer(loaded.tokenizer, f"hf:{spec}", loaded.sha256)
