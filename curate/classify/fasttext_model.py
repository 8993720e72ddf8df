"""fastText supervised classifiers (``.bin`` / ``.ftz``): every label's probability per text.

The compiled model's per-line ``predict`` is called directly (fastText-wheel's Python wrapper
is broken under NumPy 2 and its list form returns wrong probabilities for k > 1), asking for
every label, so the probabilities of a document's labels are all known after one call.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from curate.models import load_fasttext

LABEL_PREFIX = "__label__"


def strip_label(label: str) -> str:
    """``__label__hq`` -> ``hq``."""
    return label[len(LABEL_PREFIX) :] if label.startswith(LABEL_PREFIX) else label


@dataclass
class FastTextClassifier:
    """A loaded fastText model and its labels (without ``__label__``), in the model's order."""

    path: Path
    model: Any
    labels: list[str]

    @classmethod
    def load(cls, path: Path) -> FastTextClassifier:
        """The model at ``path``, loaded once per process."""
        return cls.wrap(path, load_fasttext(path))

    @classmethod
    def wrap(cls, path: Path, model: Any) -> FastTextClassifier:
        """A classifier around a compiled model already in memory (e.g. just trained)."""
        return cls(path, model, [strip_label(x) for x in model.getLabels("strict")[0]])

    def probabilities(self, lines: list[str]) -> np.ndarray:
        """``len(lines) x len(labels)`` probabilities; each line must hold no newline."""
        index = {LABEL_PREFIX + name: j for j, name in enumerate(self.labels)}
        k = len(self.labels)
        out = np.zeros((len(lines), k), dtype=np.float64)
        predict = self.model.predict
        for i, line in enumerate(lines):
            for prob, label in predict(line + "\n", k, 0.0, "strict"):
                out[i, index[label]] = prob
        return out
