"""The association section: the words most typical of documents mentioning each group.

Counts are document frequencies: ``y[w]`` is the number of documents containing word ``w``,
``y_g[w]`` of those mentioning group ``g``, and the totals are (document, word) pairs; a word
repeated within one document (a thread of one user, a chant) counts once. Two measures, each
with Benjamini-Hochberg false-discovery
control over the words tested for that group:

* nPMI of the word with the group's documents, tested with a G-test on the 2x2 token table;
* log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi and Quinn 2008), group
  documents against the rest, tested with its z-score. Pairs of groups in one axis are compared
  the same way, group against group.

Memory stays bounded: when the vocabulary grows past twice ``max_vocab`` words, only the
``max_vocab`` most frequent are kept (rare words cannot pass the minimum count anyway).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray
from scipy import sparse

from curate.audit.stats import benjamini_hochberg, g_test_p, log_odds_z, npmi, two_sided_p
from curate.audit.tokens import Tokens

#: Prior strength of the log-odds: pseudo-tokens spread over words by background frequency.
PRIOR_TOKENS = 1000.0
FDR_ALPHA = 0.05
MIN_COUNT = 5
TOP_WORDS = 10
MAX_PAIRS_PER_AXIS = 10
_BACKGROUND = ""

METHOD = (
    "Document frequencies of lower-cased words (2+ letters; @handles, URLs and HTML entities "
    "dropped): each word counts once per document, and totals are (document, word) pairs. "
    "nPMI = log(p(w,g) / (p(w) p(g))) / -log p(w,g) over those pairs, where g is 'in a "
    "document mentioning the group'; significance by a G-test on the 2x2 table. Log-odds "
    "ratio with an informative Dirichlet prior "
    f"(alpha_w = {PRIOR_TOKENS:g} x the word's corpus frequency), z = delta / sd, group "
    "documents against all other documents (or against the other group for pairs). Words seen "
    f"fewer than {MIN_COUNT} times in the compared documents are not tested; words listed "
    f"have a Benjamini-Hochberg q-value below {FDR_ALPHA} among those tested."
)
_OWN_TERMS = {
    True: " A group's own lexicon terms are excluded from its lists, with their possessives "
    "and plural endings (wife's, wives').",
    False: " The lexicon behind `identities` is not known, so groups' own terms are not excluded.",
}


class WordTally:
    """Word counts overall and per group, with exact token totals.

    Words get global integer ids; overall counts are an array by id, per-group counts a sparse
    list of ``(group, word)`` keys compacted now and then, so no per-token string work is done.
    """

    def __init__(self, *, max_vocab: int = 200_000) -> None:
        self.max_vocab = max_vocab
        self.total_tokens = 0
        self.group_tokens: dict[str, int] = {}
        self.group_docs: dict[str, int] = {}
        self._vocab: dict[str, int] = {}
        self._background = np.zeros(1 << 16, dtype=np.int64)
        self._groups: dict[str, int] = {}
        self._keys: list[NDArray[np.int64]] = []
        self._counts: list[NDArray[np.int64]] = []
        self._pending = 0

    def _global_ids(self, words: list[str]) -> NDArray[np.int64]:
        vocab = self._vocab
        get = vocab.get
        ids = np.fromiter((get(w, -1) for w in words), np.int64, len(words))
        for i in np.flatnonzero(ids < 0).tolist():
            ids[i] = vocab.setdefault(words[i], len(vocab))
        if len(vocab) > self._background.size:
            grown = np.zeros(max(len(vocab), 2 * self._background.size), dtype=np.int64)
            grown[: self._background.size] = self._background
            self._background = grown
        return ids

    def update(self, tokens: Tokens, pairs: pl.DataFrame) -> None:
        """Add a batch's tokens; ``pairs`` maps documents (rows) to the groups they mention."""
        words = tokens.words.to_pylist()
        ids = self._global_ids(words)
        # Document x word presence: distinct (document, word) keys, sorted by document, are
        # the CSR structure directly.
        n_docs, n_words = tokens.lengths.size, len(words)
        # A sort and a mask: NumPy's hash-based unique is many times slower here.
        keys = np.sort(tokens.doc * max(n_words, 1) + tokens.word_ids)
        keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if keys.size else keys
        indptr = np.searchsorted(keys // max(n_words, 1), np.arange(n_docs + 1))
        present = sparse.csr_matrix(
            (np.ones(keys.size, np.int64), keys % max(n_words, 1), indptr),
            shape=(n_docs, n_words),
        )
        self.total_tokens += int(present.nnz)
        self._background[ids] += np.bincount(present.indices, minlength=n_words)
        if pairs.height:
            self._update_groups(present, pairs, ids)
        if len(self._vocab) > 2 * self.max_vocab or self._pending > 8 * self.max_vocab:
            self._compact()

    def _update_groups(
        self, present: sparse.csr_matrix, pairs: pl.DataFrame, ids: NDArray[np.int64]
    ) -> None:
        column = pairs.get_column("group")
        for name in column.unique().sort().to_list():
            self._groups.setdefault(name, len(self._groups))
        gids = column.replace_strict(self._groups, return_dtype=pl.Int64).to_numpy()
        n_docs, n_groups = present.shape[0], len(self._groups)
        docs = np.bincount(gids, minlength=n_groups)
        for name, gid in self._groups.items():
            if docs[gid]:
                self.group_docs[name] = self.group_docs.get(name, 0) + int(docs[gid])
        # Group x word documents = (group x document mentions) @ (document x word presence).
        mentions = sparse.csr_matrix(
            (np.ones(gids.size, np.int64), (gids, pairs.get_column("doc").to_numpy())),
            shape=(n_groups, n_docs),
        )
        counted = (mentions @ present).tocoo()
        per_group = np.bincount(counted.row, weights=counted.data, minlength=n_groups)
        for name, gid in self._groups.items():
            if per_group[gid]:
                self.group_tokens[name] = self.group_tokens.get(name, 0) + int(per_group[gid])
        keys = (counted.row.astype(np.int64) << 32) | ids[counted.col]
        self._keys.append(keys)
        self._counts.append(counted.data.astype(np.int64))
        self._pending += keys.size

    def _compact(self) -> None:
        keys = np.concatenate(self._keys) if self._keys else np.zeros(0, np.int64)
        counts = np.concatenate(self._counts) if self._counts else np.zeros(0, np.int64)
        frame = pl.DataFrame({"k": keys, "n": counts}).group_by("k").agg(pl.col("n").sum())
        keys, counts = frame.get_column("k").to_numpy(), frame.get_column("n").to_numpy()
        if len(self._vocab) > 2 * self.max_vocab:
            # Keep the most frequent words; rare ones could not pass the minimum count.
            size = len(self._vocab)
            top = np.argsort(-self._background[:size], kind="stable")[: self.max_vocab]
            remap = np.full(size, -1, dtype=np.int64)
            remap[np.sort(top)] = np.arange(top.size)
            words = list(self._vocab)
            self._vocab = {words[i]: int(remap[i]) for i in np.sort(top)}
            background = np.zeros(self._background.size, dtype=np.int64)
            background[remap[np.sort(top)]] = self._background[np.sort(top)]
            self._background = background
            new_word = remap[keys & 0xFFFFFFFF]
            keep = new_word >= 0
            keys = ((keys[keep] >> 32) << 32) | new_word[keep]
            counts = counts[keep]
        self._keys, self._counts, self._pending = [keys], [counts], keys.size

    def matrix(self, groups: list[str]) -> tuple[list[str], NDArray[np.float64]]:
        """Words (by id) and counts: row 0 all documents, then one row per group in ``groups``."""
        self._compact()
        words = list(self._vocab)  # insertion order is id order, also after pruning
        out = np.zeros((len(groups) + 1, len(words)))
        out[0] = self._background[: len(words)]
        keys, counts = self._keys[0], self._counts[0]
        row_of = np.zeros(len(self._groups) + 1, dtype=np.int64)
        for row, group in enumerate(groups, start=1):
            if group in self._groups:
                row_of[self._groups[group]] = row
        rows = row_of[keys >> 32]
        chosen = rows > 0
        out[rows[chosen], keys[chosen] & 0xFFFFFFFF] = counts[chosen]
        return words, out

    def counts(self) -> pl.DataFrame:
        """All counts: columns ``group`` (empty string for all documents), ``word``, ``n``."""
        self._compact()
        words = list(self._vocab)
        ids = np.fromiter(self._vocab.values(), np.int64, len(words))
        frames = [pl.DataFrame({"group": _BACKGROUND, "word": words, "n": self._background[ids]})]
        keys, counts = self._keys[0], self._counts[0]
        if keys.size:
            names = list(self._groups)
            by_id = np.empty(len(names), dtype=object)
            by_id[list(self._groups.values())] = names
            word_by_id = np.empty(len(self._vocab), dtype=object)
            word_by_id[ids] = words
            frames.append(
                pl.DataFrame(
                    {
                        "group": by_id[keys >> 32].tolist(),
                        "word": word_by_id[keys & 0xFFFFFFFF].tolist(),
                        "n": counts,
                    }
                )
            )
        return pl.concat(frames).filter(pl.col("n") > 0)


def _ranked(
    words: list[str],
    idx: NDArray[np.int64],
    score: NDArray[np.float64],
    q: NDArray[np.float64],
    extra: dict[str, NDArray[np.float64]],
    *,
    top: int,
    sign: int = 1,
) -> list[dict[str, Any]]:
    """The ``top`` significant words by ``sign * score``; arrays are aligned with ``idx``."""
    ok = np.flatnonzero((q < FDR_ALPHA) & (sign * score > 0))
    # Ties break alphabetically, so the lists do not depend on the order words were seen.
    best = sorted(ok.tolist(), key=lambda i: (-sign * score[i], words[idx[i]]))[:top]
    return [
        {
            "word": words[idx[i]],
            "score": float(score[i]),
            "q": float(q[i]),
            **{k: float(v[i]) for k, v in extra.items()},
        }
        for i in best
    ]


def _compare(
    words: list[str],
    y_i: NDArray[np.float64],
    n_i: float,
    y_j: NDArray[np.float64],
    n_j: float,
    prior: NDArray[np.float64],
    excluded: NDArray[np.bool_],
    *,
    top: int,
) -> dict[str, Any]:
    idx = np.flatnonzero(((y_i + y_j) >= MIN_COUNT) & ~excluded)
    _, z = log_odds_z(y_i[idx], n_i, y_j[idx], n_j, prior[idx], PRIOR_TOKENS)
    q = benjamini_hochberg(two_sided_p(z))
    extra = {"count": y_i[idx], "other_count": y_j[idx]}
    return {
        "tested": int(idx.size),
        "over": _ranked(words, idx, z, q, extra, top=top),
        "under": _ranked(words, idx, z, q, extra, top=top, sign=-1),
    }


#: A possessive ending: 's, or the apostrophe after a plural s.
_POSSESSIVE = r"(?:['’]s|['’])$"


def _bases(words: list[str]) -> dict[str, list[int]]:
    """Word ids by their form without a possessive ending (wife's -> wife, wives' -> wives);
    only words that have such an ending are listed."""
    series = pl.Series(words, dtype=pl.String)
    stripped = series.str.replace(_POSSESSIVE, "")
    changed = np.flatnonzero((stripped != series).to_numpy())
    out: dict[str, list[int]] = {}
    for i, base in zip(changed.tolist(), stripped.gather(changed).to_list()):
        out.setdefault(base, []).append(i)
    return out


def _excluded(
    index: dict[str, int], bases: dict[str, list[int]], size: int, terms: AbstractSet[str]
) -> NDArray[np.bool_]:
    """Words that are one of ``terms``, or one of them (or its plural) with a possessive."""
    mask = np.zeros(size, dtype=bool)
    hit = [index[t] for t in terms if t in index]
    for term in terms:
        for variant in (term, term + "s", term + "es"):
            hit += bases.get(variant, [])
    mask[hit] = True
    return mask


def association_section(
    tally: WordTally,
    *,
    eligible: list[str],
    own_terms: Mapping[str, AbstractSet[str]] | None = None,
    top: int = TOP_WORDS,
) -> dict[str, Any]:
    """Associated words per eligible group, and per pair of eligible groups in one axis."""
    words, matrix = tally.matrix(eligible)
    index = {w: i for i, w in enumerate(words)}
    bases = _bases(words)
    total = float(tally.total_tokens)
    background = matrix[0]
    prior = PRIOR_TOKENS * background / background.sum() if background.sum() else background
    terms = own_terms or {}
    out_groups: dict[str, Any] = {}
    for row, group in enumerate(eligible, start=1):
        y_g, n_g = matrix[row], float(tally.group_tokens.get(group, 0))
        excluded = _excluded(index, bases, len(words), terms.get(group, frozenset()))
        log_odds = _compare(
            words, y_g, n_g, background - y_g, total - n_g, prior, excluded, top=top
        )
        idx = np.flatnonzero((y_g >= MIN_COUNT) & ~excluded)
        joint, word_total = y_g[idx], background[idx]
        scores = npmi(joint, word_total, n_g, total)
        p = g_test_p(joint, n_g - joint, word_total - joint, total - n_g - (word_total - joint))
        out_groups[group] = {
            "documents": tally.group_docs.get(group, 0),
            "tokens": int(n_g),
            "npmi": _ranked(words, idx, scores, benjamini_hochberg(p), {"count": joint}, top=top),
            "log_odds": log_odds,
        }
    pairs: dict[str, Any] = {}
    by_axis: dict[str, list[str]] = {}
    for group in eligible:
        by_axis.setdefault(group.split("/", 1)[0], []).append(group)
    for members in by_axis.values():
        largest = sorted(members, key=lambda g: -tally.group_docs.get(g, 0))
        combos = list(itertools.combinations(largest, 2))[:MAX_PAIRS_PER_AXIS]
        for a, b in combos:
            ia, ib = eligible.index(a) + 1, eligible.index(b) + 1
            own = terms.get(a, frozenset()) | terms.get(b, frozenset())
            excluded = _excluded(index, bases, len(words), own)
            pairs[f"{a} vs {b}"] = {
                "a": a,
                "b": b,
                **_compare(
                    words,
                    matrix[ia],
                    float(tally.group_tokens.get(a, 0)),
                    matrix[ib],
                    float(tally.group_tokens.get(b, 0)),
                    prior,
                    excluded,
                    top=top,
                ),
            }
    return {
        "method": METHOD + _OWN_TERMS[bool(terms)],
        "tokens": tally.total_tokens,
        "vocabulary": len(words),
        "groups": out_groups,
        "pairs": pairs,
    }
