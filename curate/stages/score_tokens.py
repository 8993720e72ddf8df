"""``score.tokens``: how many tokens each document has, for a Hugging Face tokenizer.

Counts are of the text alone (no special tokens around it); the export adds one end-of-sequence
token per document on top. The tokenizer loads lazily, once per worker; ``tokenizers`` encodes a
batch on several threads of its own.

>>> from tokenizers import Tokenizer, models, pre_tokenizers
>>> import pyarrow as pa, tempfile, os
>>> tok = Tokenizer(models.WordLevel({"[UNK]": 0, "hello": 1}, unk_token="[UNK]"))
>>> tok.pre_tokenizer = pre_tokenizers.Whitespace()
>>> path = os.path.join(tempfile.mkdtemp(), "tokenizer.json"); tok.save(path)
>>> b = pa.record_batch({"id": ["1", "2"], "text": ["hello hello world", ""]})
>>> next(iter(ScoreTokens(tokenizer=path)([b]))).column("n_tokens").to_pylist()
[3, 0]
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pyarrow as pa
from pydantic import Field

from curate import schema
from curate.stage import MapStage, set_column
from curate.tokens.loader import LoadedTokenizer, load_tokenizer

N_TOKENS = "n_tokens"


class ScoreTokens(MapStage):
    """Add ``n_tokens``: the document's length in tokens of ``tokenizer``."""

    name: ClassVar[str] = "score.tokens"
    summary: ClassVar[str] = "Tokens per document (n_tokens) for a Hugging Face tokenizer."

    tokenizer: str = Field(
        description="A tokenizer.json file, a folder holding one, or a Hugging Face Hub name "
        "(fetched by `tokenizers` into its cache; needs network the first time)."
    )
    batch_size: int = Field(
        1000, ge=1, description="Documents per encode_batch call (memory for the token ids)."
    )

    def output_fields(self) -> list[pa.Field]:
        return [pa.field(N_TOKENS, pa.int64())]

    def loaded(self) -> LoadedTokenizer:
        return load_tokenizer(self.tokenizer)

    def model_versions(self) -> dict[str, str]:
        loaded = self.loaded()
        return {f"tokenizer:{loaded.source}": loaded.sha256 or "unknown"}

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        texts = batch.column(schema.TEXT).fill_null("").to_pylist()
        loaded = self.loaded()
        counts = [
            loaded.count(texts[i : i + self.batch_size])
            for i in range(0, len(texts), self.batch_size)
        ]
        values = pa.array(np.concatenate(counts) if counts else np.zeros(0, np.int64))
        return set_column(batch, N_TOKENS, values)
