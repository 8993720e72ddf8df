"""Report blocks of the sections about the data itself: composition, representation,
association."""

from __future__ import annotations

from typing import Any

from curate.audit import plots
from curate.audit.formatting import MAX_ROWS, Block, fmt_ci, fmt_n, fmt_pct, fmt_ratio

#: Languages below this share are listed on one folded line.
RARE_LANGUAGE = 0.01


def composition_blocks(comp: dict[str, Any], files: set[str]) -> list[Block]:
    out: list[Block] = [("h2", "Composition"), ("p", comp["method"])]
    rows = [["documents", fmt_n(comp["documents"])]]
    if "words" in comp:
        wpd = comp["words_per_document"]
        rows += [
            ["words", fmt_n(comp["words"])],
            ["mean words per document", fmt_n(wpd["mean"])],
            ["median (p10, p90) words", f"{wpd['p50']} ({wpd['p10']}, {wpd['p90']})"],
            ["longest document (words)", fmt_n(wpd["max"])],
        ]
    langs = comp["languages"]
    rows += [
        ["language entropy (bits)", f"{langs['entropy_bits']:.3f}"],
        ["effective number of languages", f"{langs['effective_languages']:.2f}"],
    ]
    dup = comp.get("duplicates") or {}
    if dup.get("exact"):
        rows.append(["exact copies removed upstream", fmt_n(dup["exact"]["copies_removed"])])
    if dup.get("near"):
        rows.append(
            ["documents in near-duplicate clusters", fmt_n(dup["near"]["documents_in_clusters"])]
        )
    for decon in comp.get("decontamination") or []:
        against = ", ".join(decon["sets"]) or "evaluation sets"
        rows.append(
            [
                f"removed upstream as contaminated by {against} ({decon['n']}-grams)",
                fmt_n(decon["removed"]),
            ]
        )
    out.append(("table", ["measure", "value"], rows))
    shares = langs["shares"]
    common = [lang for lang, share in shares.items() if share >= RARE_LANGUAGE]
    out.append(
        (
            "table",
            ["language", "documents", "share"],
            [[lang, fmt_n(langs["counts"][lang]), fmt_pct(shares[lang])] for lang in common],
        )
    )
    rare = [f"{lang} ({langs['counts'][lang]:,})" for lang in shares if lang not in common]
    if rare:
        below = fmt_pct(RARE_LANGUAGE)
        noun = "language" if len(rare) == 1 else "languages"
        out.append(("fold", f"{len(rare)} {noun} under {below} each", ", ".join(rare)))
    out += [
        ("img", f, c)
        for f, c in (("languages.png", "Languages"), ("lengths.png", "Document length"))
        if f in files
    ]
    return out


def terms(row: dict[str, Any]) -> str:
    """A group's top terms with their documents; ambiguous terms and slurs marked."""
    mark = {"ambiguous": " (ambiguous)", "slur": " (slur)"}
    return ", ".join(
        f"{t['term']}{mark.get(t['kind'], '')}: {t['documents']:,}"
        for t in row.get("top_terms") or []
    )


def representation_blocks(rep: dict[str, Any], files: set[str]) -> list[Block]:
    out: list[Block] = [("h2", "Representation"), ("p", rep["method"])]
    ordered = sorted(rep["groups"].items(), key=lambda kv: -kv[1]["documents"])
    rows = [
        [g, fmt_n(r["documents"]), fmt_pct(r["share"]), fmt_ci(r["ci95"], pct=True), terms(r)]
        for g, r in ordered
        if not r["insufficient"]
    ]
    out.append(
        ("table", ["group", "documents", "share", "95% interval", "top terms"], rows[:MAX_ROWS])
    )
    thin = [f"{g} ({r['documents']})" for g, r in ordered if r["insufficient"] and r["documents"]]
    if thin:
        out.append(("fold", f"{len(thin)} groups with too few documents", ", ".join(thin)))
    never = [g for g, r in ordered if not r["documents"]]
    if never:
        out.append(("fold", f"{len(never)} lexicon groups not mentioned at all", ", ".join(never)))
    out.append(
        (
            "table",
            ["axis", "groups", "mentions", "entropy (bits)", "effective groups", "max/min ratio"],
            [
                [
                    a,
                    fmt_n(r["groups"]),
                    fmt_n(r["mentions"]),
                    f"{r['entropy_bits']:.3f}",
                    f"{r['effective_groups']:.2f}",
                    fmt_ratio(r["max_min_ratio"])
                    + (f" ({r['max_group']} / {r['min_group']})" if r["max_min_ratio"] else ""),
                ]
                for a, r in rep["axes"].items()
            ],
        )
    )
    if "groups.png" in files:
        out.append(("img", "groups.png", "Group shares"))
    pronouns = rep.get("pronouns")
    if pronouns is None:
        out.append(
            (
                "p",
                "Pronoun counts need the text; they are computed with the composition "
                "or association sections.",
            )
        )
    elif pronouns:
        out.append(("h3", "Gendered pronouns"))
        out.append(
            (
                "table",
                ["language", "male", "female", "neutral", "male / female"],
                [
                    [
                        lang,
                        fmt_n(r["counts"]["male"]),
                        fmt_n(r["counts"]["female"]),
                        fmt_n(r["counts"]["neutral"]),
                        fmt_ratio(r["male_female_ratio"]),
                    ]
                    for lang, r in pronouns.items()
                ],
            )
        )
    return out


def _words(rows: list[dict[str, Any]], key: str = "score") -> str:
    return ", ".join(f"{w['word']} ({w[key]:.2f})" for w in rows) or "none significant"


def association_blocks(assoc: dict[str, Any], files: set[str]) -> list[Block]:
    out: list[Block] = [("h2", "Association"), ("p", assoc["method"])]
    if not assoc["groups"]:
        return [
            *out,
            (
                "p",
                "No group is mentioned in enough documents for word statistics (see the "
                "minimum in the representation section), so no word is listed.",
            ),
        ]
    rows = [
        [g, fmt_n(r["documents"]), _words(r["npmi"]), _words(r["log_odds"]["over"])]
        for g, r in assoc["groups"].items()
    ]
    out.append(
        (
            "table",
            ["group", "documents", "top words by nPMI", "top words by log-odds z"],
            rows[:MAX_ROWS],
        )
    )
    if assoc["pairs"]:
        out.append(("h3", "Pairs of groups"))
        out.append(
            (
                "table",
                ["pair", "more typical of the first (z)", "of the second (z)"],
                [
                    [name, _words(p["over"]), _words(p["under"])]
                    for name, p in assoc["pairs"].items()
                ][:MAX_ROWS],
            )
        )
        for name in assoc["pairs"]:
            f = f"words-{plots.slug(name)}.png"
            if f in files:
                out.append(("img", f, name))
    return out
