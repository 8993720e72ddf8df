"""The default toxicity model: the linear classifier that ``alt-profanity-check`` ships.

It is a TF-IDF bag of words (``\\w\\w+`` tokens, lower-cased, English stop words dropped, about
15,000 terms) fed to five linear SVMs, each with a sigmoid calibration, whose probabilities are
averaged (scikit-learn's ``CalibratedClassifierCV``). It was trained on the Kaggle Jigsaw Toxic
Comment Classification data (Wikipedia talk pages) and the Davidson et al. (2017) hate speech and
offensive language tweets, so it mostly recognises profanity and insults in English.

The weights are read once per process from the installed package's joblib files, then scored
here with Polars and NumPy: tokenising a whole column at once is several times faster than
scikit-learn's per-document Python tokenizer, and gives the same probabilities (tests compare
the two). Importing ``profanity_check`` itself is avoided because it loads the model at import.

>>> model = LinearToxicity.load()
>>> scores = model.score(["have a lovely day", "shut up you stupid idiot"])["toxicity"]
>>> bool(scores[0] < 0.2 < 0.8 < scores[1])
True
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from curate.errors import MissingDependencyError
from curate.toxicity import chunks
from curate.toxicity.chunks import Aggregate, aggregate

log = logging.getLogger(__name__)

PACKAGE = "profanity_check"
#: The files of the model inside the package's ``data`` folder, and the release they were read from.
MODEL_FILES = ("vectorizer.joblib", "model.joblib")
TESTED_RELEASE = "1.9.1"
#: Default chunk length in word tokens. With ``aggregate: mean`` 64 words kept false positives
#: on clean book paragraphs lowest at no cost in ROC AUC on labelled comments (the measurement
#: is in docs/toxicity-identity.md, from tests/benchmarks/measure_toxicity_default.py).
DEFAULT_CHUNK_WORDS = 64
_TOKEN = r"\w\w+"
_LOADED: dict[str, LinearToxicity] = {}


def data_dir() -> Path:
    """The folder holding ``vectorizer.joblib`` and ``model.joblib``, found without importing.

    These are files inside alt-profanity-check's install folder, not a documented API, so a
    release that moves them gets an error naming that release rather than a FileNotFoundError.
    """
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            "the default toxicity model needs the package alt-profanity-check",
            hint="pip install alt-profanity-check (it is a dependency of llmos-curate)",
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    missing = [name for name in MODEL_FILES if not (folder / name).is_file()]
    if missing:
        raise MissingDependencyError(
            f"alt-profanity-check {_installed_version()}: {' and '.join(missing)} not found in "
            f"{folder} (curate reads the model files that package ships; this release keeps "
            "them elsewhere)",
            hint=f"pip install 'alt-profanity-check=={TESTED_RELEASE}' (the release curate is "
            "tested with), or choose another toxicity model with `score.toxicity` `model:`",
        )
    return folder


def _installed_version() -> str:
    try:
        return importlib.metadata.version("alt-profanity-check")
    except importlib.metadata.PackageNotFoundError:
        return "(version unknown)"


@dataclass(frozen=True)
class LinearToxicity:
    """TF-IDF + calibrated linear SVMs, as arrays."""

    vocab: pl.DataFrame  # tok -> col
    idf: np.ndarray  # (V,)
    weights: np.ndarray  # (folds, V): idf * coef, so a token's raw count can be used directly
    intercepts: np.ndarray  # (folds,)
    calib_a: np.ndarray  # (folds,)
    calib_b: np.ndarray  # (folds,)
    max_length: int = DEFAULT_CHUNK_WORDS
    name: str = "default"

    @classmethod
    def load(cls, *, max_length: int | None = None) -> LinearToxicity:
        """Read the installed model (once per process and chunk length)."""
        length = max_length or DEFAULT_CHUNK_WORDS
        key = str(length)
        if key not in _LOADED:
            vectorizer, model = _read_joblib(data_dir())
            _LOADED[key] = cls.from_sklearn(vectorizer, model, max_length=length)
        return _LOADED[key]

    @classmethod
    def from_sklearn(cls, vectorizer: Any, model: Any, *, max_length: int) -> LinearToxicity:
        """Arrays from a fitted ``TfidfVectorizer`` and sigmoid ``CalibratedClassifierCV``."""
        params = vectorizer.get_params()
        expected = {"lowercase": True, "token_pattern": r"(?u)\b\w\w+\b", "norm": "l2"}
        odd = {k: params.get(k) for k, v in expected.items() if params.get(k) != v}
        if odd or params.get("ngram_range") != (1, 1) or params.get("sublinear_tf"):
            raise MissingDependencyError(
                f"alt-profanity-check's vectorizer has settings curate does not reproduce: {odd}",
                hint="install an alt-profanity-check release whose model is a unigram TF-IDF",
            )
        terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)
        folds = model.calibrated_classifiers_
        coef = np.stack([np.asarray(c.estimator.coef_, dtype=np.float64).ravel() for c in folds])
        idf = np.asarray(vectorizer.idf_, dtype=np.float64)
        return cls(
            vocab=pl.DataFrame({"tok": terms, "col": np.arange(len(terms), dtype=np.int64)}),
            idf=idf,
            weights=coef * idf,
            intercepts=np.array([float(c.estimator.intercept_[0]) for c in folds]),
            calib_a=np.array([float(c.calibrators[0].a_) for c in folds]),
            calib_b=np.array([float(c.calibrators[0].b_) for c in folds]),
            max_length=max_length,
        )

    def columns(self) -> list[str]:
        return ["toxicity"]

    def score(self, texts: list[str], *, how: Aggregate = "mean") -> dict[str, np.ndarray]:
        """Probability of toxic per text, scoring chunks of ``max_length`` word tokens.

        Texts are tokenized in groups of at most :data:`~curate.toxicity.chunks.PIECE_CHARS`
        characters and a longer text piece by piece, so memory follows that size, not the batch
        or the document; the chunks, and so the scores, are those of tokenizing all at once.
        """
        probs: list[np.ndarray] = []
        weights: list[np.ndarray] = []
        owners: list[np.ndarray] = []
        for first, group in chunks.groups(texts):
            if len(group) == 1 and len(group[0]) > chunks.PIECE_CHARS:
                p, w = self._stream(group[0])
                owner = np.full(len(p), first)
            else:
                tokens = (
                    pl.Series(group, dtype=pl.String).str.to_lowercase().str.extract_all(_TOKEN)
                )
                per_doc = tokens.list.len().fill_null(0).to_numpy().astype(np.int64)
                p, w, chunks_per_doc = self._chunk_scores(tokens.explode().drop_nulls(), per_doc)
                owner = first + np.repeat(np.arange(len(group)), chunks_per_doc)
            probs.append(p)
            weights.append(w)
            owners.append(owner)
        if not probs:
            return {"toxicity": np.zeros(0)}
        per = aggregate(
            np.concatenate(probs),
            np.concatenate(owners),
            np.concatenate(weights),
            n_docs=len(texts),
            how=how,
        )
        return {"toxicity": per[:, 0]}

    def _stream(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Chunk probabilities and token counts of one long text, read piece by piece.

        Each piece's tokens join the tokens left over from the previous piece, and only whole
        chunks are scored until the last piece: the chunks are those of the whole text.
        """
        probs: list[np.ndarray] = []
        weights: list[np.ndarray] = []
        carry = pl.Series("tok", [], dtype=pl.String)
        for piece in chunks.pieces(text):
            found = pl.Series([piece], dtype=pl.String).str.to_lowercase().str.extract_all(_TOKEN)
            carry = pl.concat([carry, found.explode().drop_nulls().rename("tok")])
            whole = len(carry) // self.max_length * self.max_length
            if whole:
                p, w, _ = self._chunk_scores(carry[:whole], np.array([whole]))
                probs.append(p)
                weights.append(w)
                carry = carry[whole:]
        if len(carry) or not probs:
            p, w, _ = self._chunk_scores(carry, np.array([len(carry)]))
            probs.append(p)
            weights.append(w)
        return np.concatenate(probs), np.concatenate(weights)

    def _chunk_scores(
        self, flat: pl.Series, per_doc: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per chunk: probability and token count; per document: number of chunks.

        ``flat`` holds the documents' tokens one after the other, ``per_doc`` how many each has.
        """
        n = len(per_doc)
        doc = np.repeat(np.arange(n), per_doc)
        position = np.arange(len(doc)) - np.repeat(np.cumsum(per_doc) - per_doc, per_doc)
        chunks_per_doc = np.maximum(1, -(-per_doc // self.max_length))
        chunk_start = np.cumsum(chunks_per_doc) - chunks_per_doc
        chunk_of_token = chunk_start[doc] + position // self.max_length
        n_chunks = int(chunks_per_doc.sum())
        chunk_tokens = np.bincount(chunk_of_token, minlength=n_chunks).astype(np.float64)

        frame = pl.DataFrame({"tok": flat, "chunk": chunk_of_token})
        hits = frame.join(self.vocab, on="tok", how="inner")
        chunk = hits["chunk"].to_numpy().astype(np.int64)
        col = hits["col"].to_numpy().astype(np.int64)
        # Term frequencies per (chunk, term) for the L2 norm of the TF-IDF vector.
        pair = np.sort(chunk * len(self.idf) + col)
        first = np.concatenate(([True], pair[1:] != pair[:-1])) if len(pair) else pair
        starts = np.flatnonzero(first)
        tf = np.diff(np.append(starts, len(pair))).astype(np.float64)
        uniq = pair[starts]
        tfidf = tf * self.idf[uniq % len(self.idf)]
        norm = np.sqrt(np.bincount(uniq // len(self.idf), weights=tfidf**2, minlength=n_chunks))
        safe = np.where(norm > 0, norm, 1.0)
        probs = np.empty((len(self.intercepts), n_chunks))
        for k in range(len(self.intercepts)):
            raw = np.bincount(chunk, weights=self.weights[k, col], minlength=n_chunks)
            decision = raw / safe + self.intercepts[k]
            probs[k] = 1.0 / (1.0 + np.exp(self.calib_a[k] * decision + self.calib_b[k]))
        return probs.mean(axis=0), chunk_tokens, chunks_per_doc


def _read_joblib(folder: Path) -> tuple[Any, Any]:
    try:
        import joblib
    except ImportError as exc:  # pragma: no cover - joblib comes with scikit-learn
        raise MissingDependencyError(
            "the default toxicity model needs joblib and scikit-learn",
            hint="pip install alt-profanity-check",
        ) from exc
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        vectorizer = joblib.load(folder / "vectorizer.joblib")
        model = joblib.load(folder / "model.joblib")
    for warning in caught:
        # A scikit-learn other than the one the model was pickled with may score differently.
        log.warning("loading %s: %s", folder, warning.message)
    return vectorizer, model
