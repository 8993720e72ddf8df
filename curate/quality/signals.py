"""How every quality signal is computed: :func:`compute` returns the columns of a batch of texts.

:data:`~curate.quality.columns.SIGNALS` is the one list of columns, with their sources and
thresholds.

>>> import pyarrow as pa
>>> cols = compute(pa.array(["The cat sat on the mat.\\nAnd then it left with the dog..."]))
>>> cols["quality_word_count"].to_pylist(), cols["quality_stop_words"].to_pylist()
([13], [5])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from curate.lang.iso import to_iso639_1
from curate.quality import stopwords
from curate.quality.columns import BY_NAME, GROUPS, SIGNALS, Group, Signal
from curate.quality.repetition import distinct, line_signals, ngram_signals, per_doc, ratio
from curate.quality.text import TextBatch

__all__ = ["BY_NAME", "GROUPS", "SIGNALS", "Group", "Signal", "compute"]


BULLETS = frozenset("•‣◦⁃▪▫■□●○◆◇►▶➢➤✓✔-*·")
TERMINAL = frozenset(".!?\"'。！？．”’»」』।॥؟۔")
POLICY = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies",
          "use cookies")  # fmt: skip
_POLICY = "|".join(POLICY)
_LINE_PATTERN = f"javascript|lorem ipsum|{_POLICY}"
_ELLIPSIS = ord("…")


def _codes(chars: frozenset[str]) -> npt.NDArray[np.int32]:
    return np.array(sorted(ord(c) for c in chars), dtype=np.int32)


def _count_at(t: TextBatch, byte: int) -> npt.NDArray[np.float64]:
    hits = t.doc_of(np.flatnonzero(t.data == byte))
    return np.bincount(hits, minlength=t.n).astype(np.float64)


def _ellipses(t: TextBatch) -> npt.NDArray[np.float64]:
    """Non-overlapping '...' plus '…' per text."""
    dots = np.flatnonzero(t.data == ord("."))
    docs = t.doc_of(dots)
    # A run of dots ends where the dots stop or the text does.
    run_start = np.flatnonzero((np.diff(dots, prepend=-2) != 1) | (np.diff(docs, prepend=-1) != 0))
    runs = np.diff(np.append(run_start, len(dots)))
    count = np.bincount(docs[run_start], weights=runs // 3, minlength=t.n)
    ell = t.doc_of(t.lead_pos[t.lead_cp == _ELLIPSIS])
    return np.asarray(count + np.bincount(ell, minlength=t.n), dtype=np.float64)


def _raw_lines(t: TextBatch) -> tuple[pa.Array, npt.NDArray[np.int64]]:
    """Every raw line (newline included) of every text, as Arrow strings over the batch buffer."""
    bounds = distinct(np.concatenate([t.starts[:-1], t.newlines + 1]))
    bounds = bounds[bounds < len(t.data)]
    offsets = np.append(bounds, len(t.data)).astype(np.int64)
    lines = pa.LargeStringArray.from_buffers(
        len(bounds), pa.py_buffer(offsets), pa.py_buffer(t.data)
    )
    return lines, bounds


def _line_flags(t: TextBatch) -> dict[str, npt.NDArray[np.float64]]:
    """Per text: lines with 'javascript', lines with a policy phrase, lines with 'lorem ipsum'."""
    out = {name: np.zeros(t.n) for name in ("js", "policy", "lorem")}
    if not len(t.data):
        return out
    lines, bounds = _raw_lines(t)
    hit = pc.match_substring_regex(lines, _LINE_PATTERN, ignore_case=True)
    rows = np.flatnonzero(hit.to_numpy(zero_copy_only=False))
    if rows.size:
        found = lines.take(pa.array(rows))
        docs = t.doc_of(bounds[rows])
        for name, pattern in (("js", "javascript"), ("lorem", "lorem ipsum"), ("policy", _POLICY)):
            flag = pc.match_substring_regex(found, pattern, ignore_case=True)
            mask = flag.to_numpy(zero_copy_only=False)
            out[name] = np.bincount(docs[mask], minlength=t.n).astype(np.float64)
    return out


def compute(
    texts: pa.Array | pa.ChunkedArray,
    langs: Sequence[str | None] | str = "en",
    groups: Sequence[Group] = GROUPS,
) -> dict[str, pa.Array]:
    """Quality signals of ``texts`` in ``groups``; ``langs`` picks stop words (one or per text)."""
    arr = texts.combine_chunks() if isinstance(texts, pa.ChunkedArray) else texts
    t = TextBatch.from_arrow(arr)
    words = np.diff(t.word_off).astype(np.float64)
    lines = np.diff(t.lines.off).astype(np.float64)
    out: dict[str, npt.NDArray[np.float64]] = {
        "quality_word_count": words,
        "quality_mean_word_length": ratio(per_doc(t.word_chars, t.word_off), words),
        "quality_symbol_word_ratio": ratio(np.maximum(_count_at(t, ord("#")), _ellipses(t)), words),
        "quality_alpha_words_ratio": ratio(per_doc(t.word_alpha, t.word_off), words),
    }
    out["quality_stop_words"] = (
        _stop_words(t, langs) if "gopher_quality" in groups else np.full(t.n, np.nan)
    )
    first_cp, _, _ = t.char_info(t.lines.s)
    last_start = t.last_char_start(t.lines.e)
    last_cp, _, _ = t.char_info(last_start)
    dots = (t.lines.e - t.lines.s >= 3) & (t.data[np.maximum(t.lines.e - 3, 0)] == ord("."))
    dots &= (t.data[np.maximum(t.lines.e - 2, 0)] == ord(".")) & (last_cp == ord("."))
    ellipsis = dots | (last_cp == _ELLIPSIS)
    terminal = np.isin(last_cp, _codes(TERMINAL))
    flags = _line_flags(t)

    def share(mask: npt.NDArray[np.generic]) -> npt.NDArray[np.float64]:
        return ratio(per_doc(mask, t.lines.off), lines)

    out["quality_bullet_lines_ratio"] = share(np.isin(first_cp, _codes(BULLETS)))
    out["quality_ellipsis_lines_ratio"] = share(ellipsis)
    out["quality_no_terminal_punct_lines_ratio"] = share(~terminal | ellipsis)
    out["quality_few_words_lines_ratio"] = share(t.lines.tokens < 3)
    out["quality_javascript_lines_ratio"] = ratio(flags["js"], lines)
    out["quality_policy_lines_ratio"] = ratio(flags["policy"], lines)
    out["quality_line_punct_ratio"] = share(terminal)
    out["quality_short_lines_ratio"] = share(t.lines.chars <= 30)
    newlines = np.bincount(t.doc_of(t.newlines), minlength=t.n).astype(np.float64)
    out["quality_newline_word_ratio"] = ratio(newlines, words)
    out.update(line_signals(t))
    if "gopher_repetition" in groups:
        out.update(ngram_signals(t))
    bools = {
        "quality_lorem_ipsum": flags["lorem"] > 0,
        "quality_curly_bracket": _count_at(t, ord("{")) > 0,
    }
    wanted = [s for s in SIGNALS if set(s.groups) & set(groups)]
    return {s.name: _to_arrow(s, out, bools, t.valid) for s in wanted}


def _stop_words(t: TextBatch, langs: Sequence[str | None] | str) -> npt.NDArray[np.float64]:
    counts = np.full(t.n, np.nan)
    nbytes = t.word_e - t.word_s
    if isinstance(langs, str):
        per_text = None
        wanted = {to_iso639_1(langs)} & set(stopwords.STOP_WORDS)
    else:
        per_text = np.array([to_iso639_1(x) if x else "" for x in langs], dtype=object)
        wanted = set(per_text) & set(stopwords.STOP_WORDS)
    for lang in wanted:
        docs = np.ones(t.n, dtype=bool) if per_text is None else per_text == lang
        short = nbytes <= stopwords.longest(lang)
        words = np.flatnonzero(short if per_text is None else short & docs[t.word_doc])
        hits = t.word_doc[words[stopwords.is_stop_word(t.folded(words), lang)]]
        counts[docs] = np.bincount(hits, minlength=t.n)[docs]
    return counts


def _to_arrow(
    signal: Signal,
    values: dict[str, npt.NDArray[np.float64]],
    bools: dict[str, npt.NDArray[np.bool_]],
    valid: npt.NDArray[np.bool_],
) -> pa.Array:
    if signal.type == pa.bool_():
        return pa.array(bools[signal.name], type=pa.bool_(), mask=~valid)
    v = values[signal.name]
    mask = ~valid | np.isnan(v)
    if signal.type == pa.int64():
        return pa.array(np.nan_to_num(v).astype(np.int64), type=pa.int64(), mask=mask)
    return pa.array(v, type=pa.float64(), mask=mask)
