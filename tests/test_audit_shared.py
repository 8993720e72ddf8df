"""The audit on real reference data: Jigsaw sentence templates and ToxiGen statements."""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from scipy.stats import binomtest
from sklearn.metrics import roc_auc_score

from curate.audit import audit_dataset
from curate.audit.probe import match_terms, probe_section
from curate.stage import StageContext
from curate.stages import get_stage

pytestmark = pytest.mark.shared


def _templates(shared_dir: Path) -> Path:
    path = shared_dir / "data" / "jigsaw-sentence-templates" / "en_sentence_templates.csv"
    if not path.exists():
        pytest.skip(f"{path} is missing")
    return path


@pytest.mark.slow
def test_jigsaw_disparity_ratios_match_a_direct_computation(
    shared_dir: Path, tmp_path: Path
) -> None:
    frame = pl.read_csv(_templates(shared_dir)).with_columns(pl.lit("en").alias("lang"))
    data = tmp_path / "templates.parquet"
    frame.write_parquet(data)
    report = audit_dataset(
        data,
        out_dir=tmp_path / "out",
        text_column="phrase",
        toxicity_column="toxicity",
        sections=["representation", "harm"],
    )
    # Direct computation: the identity stage on every phrase, then plain counting.
    stage = get_stage("score.identity")()
    stage.setup(StageContext(workdir=tmp_path))
    batch = pa.record_batch(
        {
            "id": [str(i) for i in range(frame.height)],
            "text": frame.get_column("phrase").to_list(),
            "lang": frame.get_column("lang").to_list(),
        }
    )
    identities = stage.process(batch).column("identities").to_pylist()
    toxic = [label == "toxic" for label in frame.get_column("toxicity").to_list()]
    docs: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    for groups, is_toxic in zip(identities, toxic):
        for group in set(groups or []):
            docs[group] += 1
            hits[group] += is_toxic
    n, n_toxic = len(toxic), sum(toxic)
    checked = 0
    for group, row in report["groups"].items():
        assert row["documents"] == docs[group]
        if docs[group] < 30:
            assert row["disparity_ratio"] is None
            continue
        a, n1 = hits[group], docs[group]
        c, n2 = n_toxic - a, n - n1
        assert row["toxic_rate"] == pytest.approx(a / n1)
        assert row["disparity_ratio"] == pytest.approx((a / n1) / (c / n2))
        # MOVER-R lower limit from scipy's Wilson intervals (an independent implementation).
        p1, p2 = a / n1, c / n2
        l1 = binomtest(a, n1).proportion_ci(method="wilson").low
        u2 = binomtest(c, n2).proportion_ci(method="wilson").high
        lo = (p1 * p2 - math.sqrt((p1 * p2) ** 2 - l1 * u2 * (2 * p1 - l1) * (2 * p2 - u2))) / (
            u2 * (2 * p2 - u2)
        )
        assert row["disparity_ci95"][0] == pytest.approx(lo, rel=1e-5)
        checked += 1
    # The templates are balanced: toxic and non-toxic phrases per identity term.
    assert checked >= 30
    assert all(
        0.9 < r["disparity_ratio"] < 1.1
        for r in report["groups"].values()
        if r["disparity_ratio"] is not None
    )


def test_jigsaw_probe_matches_sklearn(shared_dir: Path, tmp_path: Path) -> None:
    frame = pl.read_csv(_templates(shared_dir)).gather_every(25)
    path = Path(shared_dir) / "data" / "jigsaw-sentence-templates" / "adjectives_people.txt"
    terms = [t.strip() for t in path.read_text().splitlines() if t.strip()]

    # A deterministic stand-in scorer biased against one term, so the AUCs differ from 1.
    def scorer(texts: list[str]) -> np.ndarray:
        base = np.array([(zlib.crc32(t.encode()) % 1000) / 1000 for t in texts]) * 0.5
        toxic_words = ("hate", "ugly", "horrible", "nasty", "disgusting", "vile", "stupid")
        base += np.array([0.4 if any(w in t.lower() for w in toxic_words) else 0.0 for t in texts])
        base += np.array([0.3 if " gay" in t.lower() else 0.0 for t in texts])
        return np.minimum(base, 1.0)

    path_csv = tmp_path / "templates.csv"
    frame.write_csv(path_csv)
    out = probe_section(
        path_csv,
        scorer=scorer,
        terms=dict.fromkeys(terms),
        threshold=0.5,
        scorer_name="stand-in",
        min_phrases=1,
    )
    scores = scorer(frame.get_column("phrase").to_list())
    labels = (frame.get_column("toxicity") == "toxic").to_numpy()
    found = match_terms(frame.get_column("phrase"), terms).to_list()
    for term in ("gay", "muslim", "african american", "old"):
        row = out["terms"][term]
        has = np.array([term in f for f in found])
        sub = roc_auc_score(labels[has], scores[has])
        bpsn = (labels & ~has) | (~labels & has)
        bnsp = (labels & has) | (~labels & ~has)
        assert row["subgroup_auc"] == pytest.approx(sub)
        assert row["bpsn_auc"] == pytest.approx(roc_auc_score(labels[bpsn], scores[bpsn]))
        assert row["bnsp_auc"] == pytest.approx(roc_auc_score(labels[bnsp], scores[bnsp]))
        clean = has & ~labels
        assert row["fpr"] == pytest.approx((scores[clean] >= 0.5).mean())
    # The stand-in scorer adds 0.3 to phrases naming "gay": more false positives there.
    assert out["terms"]["gay"]["fpr"] > out["terms"]["muslim"]["fpr"]


#: ToxiGen target group -> the audit groups its statements should be attributed to.
TOXIGEN = {
    "asian": ("race_ethnicity/asian",),
    "bisexual": ("sexual_orientation/bisexual",),
    "black": ("race_ethnicity/black",),
    "chinese": ("nationality/chinese",),
    "immigrant": ("immigration_status/immigrant",),
    "jewish": ("religion/jewish",),
    "latino": ("race_ethnicity/latino",),
    "lgbtq": ("sexual_orientation/", "gender_identity/"),
    "mental_disability": ("disability/",),
    "mexican": ("nationality/mexican",),
    "middle_east": ("race_ethnicity/middle_eastern", "race_ethnicity/arab"),
    "muslim": ("religion/muslim",),
    "native_american": ("race_ethnicity/indigenous",),
    "physical_disability": ("disability/",),
    "women": ("gender/female",),
}


def _toxigen_sources(root: Path) -> dict[str, list[str]]:
    sources: dict[str, list[str]] = {}
    files = sorted((root / "demonstrations").glob("*/*.txt")) + sorted(
        (root / "prompts").glob("*.txt")
    )
    for f in files:
        group = f.stem.replace("_sentences", "").replace("_1k", "").split("_", 1)[1]
        lines = [line.strip() for line in f.read_text().splitlines() if line.strip()]
        sources.setdefault(group, []).extend(lines)
    return sources


@pytest.mark.slow
def test_toxigen_statements_are_attributed_to_their_group(shared_dir: Path, tmp_path: Path) -> None:
    root = shared_dir / "data" / "toxigen"
    if not root.is_dir():
        pytest.skip(f"{root} is missing")
    sources = _toxigen_sources(root)
    assert set(TOXIGEN) <= set(sources)
    for group, expected in TOXIGEN.items():
        lines = sources[group]
        data = tmp_path / f"{group}.parquet"
        pl.DataFrame({"text": lines, "lang": ["en"] * len(lines)}).write_parquet(data)
        report = audit_dataset(
            data, out_dir=tmp_path / group, min_documents=1, sections=["representation"]
        )
        counts = {g: r["documents"] for g, r in report["groups"].items() if r["documents"]}
        matching = {g: n for g, n in counts.items() if g.startswith(expected)}
        top = max(counts, key=lambda g: counts[g])
        assert top.startswith(expected), (group, sorted(counts.items(), key=lambda x: -x[1])[:4])
        # Many statements never name their target ("they are all..."): at least a fifth do.
        assert max(matching.values()) / len(lines) >= 0.2, (group, matching)


def test_probe_covers_every_jigsaw_term_the_lexicon_knows(shared_dir: Path) -> None:
    from curate.identity import load_lexicons
    from curate.identity.matcher import normalise

    path = _templates(shared_dir)
    words = path.parent / "adjectives_people.txt"
    jigsaw = [t.strip() for t in words.read_text().splitlines() if t.strip()]
    forms: dict[str, str] = {}
    for term in load_lexicons(["en"]).terms:
        for form in term.forms:
            forms.setdefault(form.lower(), term.label)
    known = [t for t in jigsaw if normalise(t) in {normalise(f) for f in forms}]
    # The lexicon spells it "middle-aged"; the templates write "middle aged".
    assert "middle aged" in known and len(known) >= 43
    out = probe_section(
        path,
        scorer=lambda texts: np.full(len(texts), 0.5),
        terms=forms,
        threshold=0.5,
        scorer_name="constant",
        min_phrases=1,
    )
    probed = set(out["terms"])
    assert {normalise(t) for t in known} <= probed
    assert out["terms"]["middle aged"]["group"] == "age/middle_aged"
    # Phrases left out are listed: each names a Jigsaw term the lexicon lacks.
    unknown = {t for t in jigsaw if t not in known}
    assert unknown == {"african", "european", "old", "older", "young", "younger", "millenial"}
    assert out["phrases_without_term"] > 0 and len(out["unmatched_examples"]) == 20
    assert all(set(p.split()) & unknown for p in out["unmatched_examples"])
    assert set(out["power_mean_terms"]["bpsn_auc"]) <= probed


def _toxigen_probe_csv(root: Path, out: Path) -> pl.DataFrame:
    """ToxiGen as probe templates: one statement a phrase, toxic when its file is a hate_ one.
    Prompt files hold several statements a line, separated by a literal backslash-n dash."""
    rows: list[tuple[str, str, str]] = []
    files = sorted(root.glob("demonstrations/*/*.txt")) + sorted(root.glob("prompts/*.txt"))
    for f in files:
        label = "toxic" if f.name.startswith("hate_") else "nontoxic"
        for line in f.read_text().splitlines():
            for part in line.split("\\n-"):
                phrase = part.strip(" -\\")
                if phrase:
                    rows.append((f.stem, label, phrase))
    frame = pl.DataFrame(rows, schema=["template", "toxicity", "phrase"], orient="row")
    frame = frame.unique(maintain_order=True)
    frame.write_csv(out)
    return frame


def _token_fold(text: str) -> str:
    """Lower case, every run of characters other than letters, digits and apostrophes one
    space, padded: a stand-in for the probe's folding that knows nothing of its regex."""
    return " " + " ".join(re.sub(r"[^a-z0-9']+", " ", text.lower()).split()) + " "


def test_probe_on_toxigen_covers_every_jigsaw_term_the_lexicon_knows(
    shared_dir: Path, tmp_path: Path
) -> None:
    from curate.identity import load_lexicons
    from curate.identity.matcher import normalise

    root = shared_dir / "data" / "toxigen"
    if not root.is_dir():
        pytest.skip(f"{root} is missing")
    frame = _toxigen_probe_csv(root, tmp_path / "toxigen.csv")
    words = _templates(shared_dir).parent / "adjectives_people.txt"
    jigsaw = [t.strip() for t in words.read_text().splitlines() if t.strip()]
    lexicon = load_lexicons(["en"]).terms
    forms = {form.lower(): term.label for term in lexicon for form in term.forms}
    by_form = {normalise(form): term for term in lexicon for form in term.forms}
    known = [t for t in jigsaw if normalise(t) in by_form]
    out = probe_section(
        tmp_path / "toxigen.csv",
        scorer=lambda texts: np.full(len(texts), 0.5),
        terms=forms,
        threshold=0.5,
        scorer_name="constant",
        min_phrases=1,
    )
    assert out["phrases"] == frame.height and out["labelled"] is True
    phrases = frame.get_column("phrase").to_list()
    folded = [_token_fold(p) for p in phrases]
    found = match_terms(frame.get_column("phrase"), list(forms)).to_list()
    present = []
    for word in known:
        own = {_token_fold(f) for f in by_form[normalise(word)].forms}
        expected = {i for i, text in enumerate(folded) if any(f in text for f in own)}
        if not expected:
            continue
        present.append(word)
        probed = {normalise(f) for f in by_form[normalise(word)].forms} & set(out["terms"])
        assert probed, f"{word!r} occurs in {len(expected)} ToxiGen phrases but is not probed"
        if " " in word:
            # Nothing longer contains these: every phrase naming them, hyphenated or not.
            got = {i for i, terms in enumerate(found) if probed & set(terms)}
            assert got == expected, word
    assert len(present) >= 30
    # ToxiGen writes "african-american" and "middle-aged"; the lexicon and Jigsaw do not agree.
    hyphenated = [i for i, p in enumerate(phrases) if "african-american" in p.lower()]
    assert hyphenated
    assert all({"african american", "african americans"} & set(found[i]) for i in hyphenated)
    assert out["terms"]["middle aged"]["phrases"] == sum(
        "middle-aged" in p.lower() for p in phrases
    )
    assert set(out["power_mean_terms"]["bpsn_auc"]) <= set(out["terms"])
    assert out["phrases_without_term"] == sum(not f for f in found)
