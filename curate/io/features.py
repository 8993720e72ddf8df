"""Hugging Face features carried from a run's input to its output shards.

``datasets`` keeps a column's feature (a ``ClassLabel``'s names, a ``Sequence``, a ``Value``'s
dtype) in the Arrow schema metadata under the ``huggingface`` key, in both the Arrow files of a
``save_to_disk`` folder and the Parquet files it writes. Stages rebuild batches and lose that
metadata, so the reader keeps the input's features and the output shards get them back: each
output column keeps its input feature when its Arrow type still matches it, and every other
column (one a stage added or changed) is described by its Arrow type, as ``datasets`` would.

>>> import pyarrow as pa
>>> from datasets import ClassLabel, Features, Value
>>> given = Features({"label": ClassLabel(names=["neg", "pos"]), "text": Value("string")})
>>> kept = input_features(given.arrow_schema)
>>> out = pa.schema([("text", pa.string()), ("label", pa.int64()), ("score", pa.float64())])
>>> meta = output_metadata(kept, out)
>>> Features.from_arrow_schema(out.with_metadata(meta))["label"].names
['neg', 'pos']
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

#: The schema metadata key ``datasets`` reads features from.
KEY = b"huggingface"


def input_features(schema: pa.Schema) -> dict[str, Any] | None:
    """The features ``datasets`` recorded in ``schema`` (as a plain dict), or None."""
    raw = (schema.metadata or {}).get(KEY)
    if raw is None:
        return None
    try:
        info = json.loads(raw).get("info") or {}
    except (ValueError, AttributeError):
        return None
    found = info.get("features") if isinstance(info, dict) else None
    return dict(found) if isinstance(found, dict) else None


def _plain(field: pa.Field) -> Any:
    """The feature ``datasets`` infers from a field's Arrow type alone."""
    from datasets import Features

    return Features.from_arrow_schema(pa.schema([field.remove_metadata()]))[field.name]


def output_metadata(features: Mapping[str, Any] | None, schema: pa.Schema) -> dict[bytes, bytes]:
    """Schema metadata giving ``schema``'s columns the input's features where they still fit.

    Empty when the input had no features, so outputs of plain inputs stay as they were. The
    columns are listed in ``schema``'s order, so equal inputs give byte-equal metadata.
    """
    if not features:
        return {}
    # ``datasets`` takes a second to import; only runs over its outputs need it.
    from datasets import Features

    given = Features.from_dict(dict(features))
    out: dict[str, Any] = {}
    for field in schema:
        plain = _plain(field)
        feature = given.get(field.name)
        if feature is not None:
            expected = Features({field.name: feature}).arrow_schema.field(field.name)
            if _plain(expected) == plain:
                out[field.name] = feature
                continue
        out[field.name] = plain
    encoded = Features(out).to_dict()
    return {KEY: json.dumps({"info": {"features": encoded}}).encode("utf-8")}
