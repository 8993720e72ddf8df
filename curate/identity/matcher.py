"""Vectorised identity-term matching over a whole column of documents.

The surface forms of each lexicon language go into one case-insensitive regular expression,
longest forms first, run by Polars' ``str.extract_all``, which compiles it to a lazy DFA: the
scan costs about the same whatever the lexicon size. Polars' Aho-Corasick functions
(``extract_many``) switch from a DFA to a slower NFA above 100 patterns, which a real lexicon
exceeds. One expression per language, not one for all: a single expression mixing the
languages outgrows the lazy DFA's cache and the engine falls back to a matcher hundreds of times
slower. With document languages known, each document is scanned only by its own language's
expression (and those of ``mul`` lexicons).

Word boundaries are ASCII boundaries (``(?-u:\\b)``) asserted only on the side of a form whose
edge character is an ASCII letter or digit: Unicode boundaries would also make the engine fall
back on any non-ASCII text, and Chinese terms need no boundaries at all. Inside a multi-word
form, any run of spaces or hyphens matches (``african-american``).

>>> from curate.identity.lexicon import load_lexicons
>>> m = IdentityMatcher(load_lexicons(["en"]))
>>> ids, counts = m.match(["Two Muslim women met a Christian.", "nothing here", None])
>>> ids
[['gender/female', 'religion/christian', 'religion/muslim'], [], []]
>>> counts
[[1, 1, 1], [], []]
>>> m.match_terms(["A black cat and a Muslim woman."])[0] == [
...     {"group": "gender/female", "term": "woman", "kind": "identity"},
...     {"group": "race_ethnicity/black", "term": "black", "kind": "ambiguous"},
...     {"group": "religion/muslim", "term": "muslim", "kind": "identity"}]
True
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from curate.identity.lexicon import Lexicon

#: Term language that applies to documents in every language.
ANY_LANGUAGE = "mul"
#: What a matched term is: an identity term, a slur, or a word whose usual sense is not an
#: identity (the lexicon's ``flag``; no flag is an identity term).
KINDS = ("identity", "slur", "ambiguous")
#: Arrow type of the per-document match detail (``identity_terms``).
TERM_TYPE = pa.list_(
    pa.struct([("group", pa.string()), ("term", pa.string()), ("kind", pa.string())])
)

_SEP = re.compile(r"[\s\-]+")


def normalise(form: str) -> str:
    """The key a matched string is looked up by: lower case, one space between words."""
    return _SEP.sub(" ", form.lower().replace("\u2019", "'")).strip()


def _is_ascii_word(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


def form_pattern(form: str) -> str:
    """Regex for one surface form, with boundaries where its edges are ASCII word characters."""
    words = [re.escape(w).replace("'", "['\u2019]") for w in _SEP.split(form.strip()) if w]
    body = r"[\s\-]+".join(words)
    start = r"(?-u:\b)" if _is_ascii_word(form.strip()[0]) else ""
    end = r"(?-u:\b)" if _is_ascii_word(form.strip()[-1]) else ""
    return start + body + end


def _sorted_unique(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and their counts (a sort beats NumPy's hash-based unique here)."""
    ordered = np.sort(values)
    if len(ordered) == 0:
        return ordered, np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    counts = np.diff(np.append(starts, len(ordered)))
    return ordered[starts], counts


def _max_per_key(codes: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For sorted ``codes`` that may repeat, the largest count of each (codes stay sorted)."""
    if not len(codes):
        return codes, counts
    starts = np.flatnonzero(np.concatenate(([True], codes[1:] != codes[:-1])))
    return codes[starts], np.maximum.reduceat(counts, starts)


class IdentityMatcher:
    """Tags documents with the ``axis/group`` labels of the lexicon terms they mention."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.labels: list[str] = lexicon.labels()
        label_ids = {label: i for i, label in enumerate(self.labels)}
        self.languages: list[str] = lexicon.languages()
        lang_ids = {lang: i for i, lang in enumerate(self.languages)}
        #: (group, lemma, kind) of every distinct lexicon entry, by term id.
        self.terms: list[tuple[str, str, str]] = []
        term_ids: dict[tuple[str, str, str], int] = {}
        entries: dict[str, dict[tuple[int, int, int], None]] = {}
        for term in lexicon.terms:
            key = (term.label, term.term, term.flag or "identity")
            term_id = term_ids.setdefault(key, len(term_ids))
            if term_id == len(self.terms):
                self.terms.append(key)
            for form in term.forms:
                triple = (label_ids[term.label], lang_ids[term.language], term_id)
                entries.setdefault(normalise(form), {})[triple] = None
        self._entries = {k: list(v) for k, v in entries.items()}
        self._any = lang_ids.get(ANY_LANGUAGE, -3)
        #: (language id, regex) per language, each over that language's forms.
        self.patterns: list[tuple[int, str]] = []
        for lang, lang_id in lang_ids.items():
            keys = sorted(
                {normalise(f) for t in lexicon.terms if t.language == lang for f in t.forms},
                key=lambda k: (-len(k), k),
            )
            self.patterns.append((lang_id, "(?i)(?:" + "|".join(map(form_pattern, keys)) + ")"))

    def _lookup(self, found: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """CSR of (label id, language id, term id) for each distinct matched string."""
        offsets = [0]
        labels: list[int] = []
        langs: list[int] = []
        terms: list[int] = []
        for text in found:
            for label, lang, term in self._entries.get(normalise(text), ()):
                labels.append(label)
                langs.append(lang)
                terms.append(term)
            offsets.append(len(labels))
        return (
            np.asarray(offsets, dtype=np.int64),
            np.asarray(labels, dtype=np.int64),
            np.asarray(langs, dtype=np.int64),
            np.asarray(terms, dtype=np.int64),
        )

    def _doc_languages(self, languages: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Language id per document: -1 for null (every term counts), -2 for an unknown one."""
        if isinstance(languages, pa.ChunkedArray):
            languages = languages.combine_chunks()
        encoded = pc.dictionary_encode(languages.cast(pa.string()))
        known = np.asarray(
            [
                self.languages.index(v) if v in self.languages else -2
                for v in encoded.dictionary.to_pylist()
            ]
            + [-1],
            dtype=np.int64,
        )
        codes = encoded.indices.fill_null(len(known) - 1).to_numpy(zero_copy_only=False)
        out: np.ndarray = known[codes.astype(np.int64)]
        return out

    def _scan(
        self, texts: pl.Series, doc_lang: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, pa.Array]:
        """Every match of every language's expression: its document, expression and text."""
        docs: list[np.ndarray] = []
        sources: list[np.ndarray] = []
        found: list[pa.Array] = []
        everyone = np.arange(len(texts))
        for source, (lang_id, pattern) in enumerate(self.patterns):
            if doc_lang is None or lang_id == self._any:
                rows = everyone
            else:
                rows = np.flatnonzero((doc_lang == -1) | (doc_lang == lang_id))
            if not len(rows):
                continue
            subset = texts if len(rows) == len(texts) else texts.gather(rows)
            matches = subset.str.extract_all(pattern)
            per_doc = matches.list.len().fill_null(0).to_numpy().astype(np.int64)
            docs.append(np.repeat(rows, per_doc))
            sources.append(np.full(int(per_doc.sum()), source, dtype=np.int64))
            found.append(matches.explode().drop_nulls().to_arrow().cast(pa.large_string()))
        if not docs:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, pa.array([], pa.large_string())
        return np.concatenate(docs), np.concatenate(sources), pa.concat_arrays(found)

    def _matches(
        self, texts: pa.Array | pa.ChunkedArray, languages: pa.Array | pa.ChunkedArray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per (document, matched text): document and mention count; per lexicon entry kept
        for it: the (document, text) row, label id and term id."""
        doc_lang = self._doc_languages(languages) if languages is not None else None
        mention_doc, source, found = self._scan(pl.Series(texts).cast(pl.String), doc_lang)
        encoded = pc.dictionary_encode(found)
        offsets, label_of, lang_of, term_of = self._lookup(encoded.dictionary.to_pylist())
        n_found = max(len(encoded.dictionary), 1)
        # The same text found by two languages' expressions counts once: per (document,
        # matched text), keep the largest count any expression gave.
        distinct = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        n_src = max(len(self.patterns), 1)
        code, count = _sorted_unique((mention_doc * n_found + distinct) * n_src + source)
        doc_text, count = _max_per_key(code // n_src, count)
        doc, text = doc_text // n_found, doc_text % n_found
        # Expand each matched text into the lexicon entries it stands for.
        width = np.diff(offsets)[text]
        row = np.repeat(np.arange(len(text)), width)
        pair = np.repeat(offsets[text] - np.cumsum(width) + width, width) + np.arange(len(row))
        label, lang, term = label_of[pair], lang_of[pair], term_of[pair]
        if doc_lang is not None and len(row):
            own = doc_lang[doc[row]]
            keep = (own == -1) | (lang == own) | (lang == self._any)
            row, label, term = row[keep], label[keep], term[keep]
        return doc, count, row, label, term

    def match_arrow(
        self,
        texts: pa.Array | pa.ChunkedArray,
        languages: pa.Array | pa.ChunkedArray | None = None,
    ) -> tuple[pa.Array, pa.Array]:
        """Per document: ``list<string>`` of distinct labels (sorted) and ``list<int64>`` of
        mentions per label.

        With ``languages`` (ISO codes per document), a term counts only in documents of its
        own language; documents with a null language count every term.
        """
        labels, counts, _ = self.match_detail(texts, languages, detail=False)
        return labels, counts

    def match_detail(
        self,
        texts: pa.Array | pa.ChunkedArray,
        languages: pa.Array | pa.ChunkedArray | None = None,
        *,
        detail: bool = True,
    ) -> tuple[pa.Array, pa.Array, pa.Array | None]:
        """:meth:`match_arrow`, plus (with ``detail``) the distinct lexicon entries each
        document matched: ``list<struct<group, term, kind>>`` (``TERM_TYPE``), sorted by group,
        then term; ``kind`` is one of ``KINDS``."""
        n = len(texts)
        doc, count, entry_row, label, term = self._matches(texts, languages)
        n_labels = max(len(self.labels), 1)
        n_terms = max(len(self.terms), 1)
        # A text listed under one label in several languages still counts once.
        row_label = _sorted_unique(entry_row * n_labels + label)[0]
        row, lab = row_label // n_labels, row_label % n_labels
        doc_label = doc[row] * n_labels + lab
        order = np.argsort(doc_label, kind="stable")
        keys, starts = np.unique(doc_label[order], return_index=True)
        totals = np.add.reduceat(count[row][order], starts) if len(order) else np.zeros(0, int)
        list_offsets = np.searchsorted(keys // n_labels, np.arange(n + 1)).astype(np.int32)
        names = pa.array(self.labels, type=pa.string()).take(
            pa.array(keys % n_labels, type=pa.int64())
        )
        labels_out = pa.ListArray.from_arrays(pa.array(list_offsets), names)
        counts_out = pa.ListArray.from_arrays(
            pa.array(list_offsets), pa.array(totals, type=pa.int64())
        )
        if not detail:
            return labels_out, counts_out, None
        # Term ids follow lexicon order; sort each document's entries by (group, term).
        rank = np.argsort(np.argsort(np.array([(g + "\0" + t) for g, t, _ in self.terms] or [""])))
        entry_doc = doc[entry_row]
        doc_term = _sorted_unique(entry_doc * n_terms + rank[term] if len(term) else term)[0]
        by_rank = np.argsort(rank)
        chosen = by_rank[doc_term % n_terms] if len(doc_term) else doc_term
        table = self.terms
        structs = pa.StructArray.from_arrays(
            [
                pa.array([table[i][0] for i in chosen.tolist()], pa.string()),
                pa.array([table[i][1] for i in chosen.tolist()], pa.string()),
                pa.array([table[i][2] for i in chosen.tolist()], pa.string()),
            ],
            names=["group", "term", "kind"],
        )
        term_offsets = np.searchsorted(doc_term // n_terms, np.arange(n + 1)).astype(np.int32)
        return labels_out, counts_out, pa.ListArray.from_arrays(pa.array(term_offsets), structs)

    def match(
        self, texts: Sequence[str | None], languages: Sequence[str | None] | None = None
    ) -> tuple[list[list[str]], list[list[int]]]:
        """Python lists in and out; see :meth:`match_arrow`."""
        langs = pa.array(languages, type=pa.string()) if languages is not None else None
        labels, counts = self.match_arrow(pa.array(texts, type=pa.string()), langs)
        return labels.to_pylist(), counts.to_pylist()

    def match_terms(
        self, texts: Sequence[str | None], languages: Sequence[str | None] | None = None
    ) -> list[list[dict[str, str]]]:
        """Python lists in and out; the detail of :meth:`match_detail`."""
        langs = pa.array(languages, type=pa.string()) if languages is not None else None
        _, _, detail = self.match_detail(pa.array(texts, type=pa.string()), langs)
        assert detail is not None
        rows: list[list[dict[str, str]]] = detail.to_pylist()
        return rows
