"""Build the curate sample corpus: ``web-sample.jsonl`` and its answer key ``manifest.json``.

The hand-written documents in ``texts/`` (see ``document.py``) become the originals; this script
adds shared boilerplate paragraphs, plants exact copies, near copies and encoding-damaged copies
(see ``variants.py``), shuffles everything with a fixed seed and writes both files. Standard
library only; the same files come out on every run and every machine.

    python recipes/sample/build_sample.py            # rewrite the files next to this script
    python recipes/sample/build_sample.py --out-dir /tmp/sample
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import variants
from document import Doc, load_texts

SEED = 20240521
HERE = Path(__file__).resolve().parent
CORPUS = "web-sample.jsonl"
MANIFEST = "manifest.json"

EXACT_COPIES = {"identical": 18, "case": 8, "whitespace": 10}
#: Near-copy edits (applied in order) and how many copies get them.
NEAR_PLAN = (
    (("header_added",), 5),
    (("footer_added",), 5),
    (("sentence_added",), 5),
    (("typos",), 7),
    (("american_spelling",), 5),
    (("number_changed",), 4),
    (("sentence_removed",), 5),
    (("header_added", "footer_added"), 4),
    (("typos", "footer_added"), 3),
    (("sentence_removed", "header_added"), 2),
)
ENCODING_COPIES = {"mojibake": 5, "nfd": 3}
#: Pages that many sites repeat word for word: (slug, identical copies).
FORCED_EXACT = (
    ("app/dashboard", 2),
    ("legal/cookie-policy", 1),
    ("contact", 1),
    ("t/neighbours-drilling-at-night", 1),
)
#: A press release syndicated by several sites with small edits, and the edits of each copy.
SYNDICATED = (
    "business/2023/05/bakery-chain-expands",
    (("header_added",), ("footer_added",), ("header_added", "footer_added"), ("sentence_added",)),
)
#: Near copies of chosen documents: an offensive thread quoted on another site.
FORCED_NEAR = (("t/new-families-on-the-estate", ("header_added",)),)
CASED_LANGS = ("en", "de", "fr", "es", "ru")

HOSTS = {
    "news": "news.example.com",
    "wiki": "encyclopedia.example.org/wiki",
    "recipe": "recipes.example.com",
    "howto": "howto.example.net",
    "shop": "shop.example.net",
    "forum": "forum.example.org",
    "comments": "comments.example.com",
    "qa": "answers.example.org",
    "blog": "blog.example.net",
    "web": "www.example.com",
}
MIRRORS = (
    "mirror.example.net",
    "feeds.example.org",
    "archive.example.com",
    "reader.example.net",
    "aggregator.example.org",
    "cache.example.com",
)
TRACKING = ("?utm_source=rss", "?ref=homepage", "?amp=1", "?page=1", "?utm_medium=social")

BOILERPLATE = {
    "navigation": "Home | News | Local | Business | Sport | Culture | Weather | Contact",
    "newsletter": (
        "Enjoyed this post? Subscribe to our newsletter and get new stories, recipes and tips "
        "delivered to your inbox every Friday. No spam, unsubscribe at any time."
    ),
    "cookie_banner": (
        "We use cookies to give you the best experience on our website. By clicking "
        '"Accept all", you agree to the storing of cookies on your device to enhance site '
        "navigation, analyse site usage and assist in our marketing efforts. "
        "Accept all | Reject all | Cookie settings"
    ),
    "cookie_banner_de": (
        "Wir verwenden Cookies, um Ihnen ein optimales Nutzungserlebnis zu bieten. Mit einem "
        'Klick auf "Alle akzeptieren" stimmen Sie der Verwendung aller Cookies zu. Ihre '
        "Auswahl können Sie jederzeit in den Einstellungen ändern. "
        "Alle akzeptieren | Ablehnen | Einstellungen"
    ),
}
_TOP = ("navigation",)
_BOTTOM = ("newsletter", "cookie_banner", "cookie_banner_de")


@dataclass
class Record:
    """One line of the corpus and what is true about it."""

    doc: Doc
    url: str
    text: str
    kind: str = "original"
    copy_of: Record | None = None
    variation: list[str] = field(default_factory=list)


def _page(doc: Doc) -> str:
    top = [BOILERPLATE[b] for b in _TOP if b in doc.boilerplate]
    bottom = [BOILERPLATE[b] for b in _BOTTOM if b in doc.boilerplate]
    return "\n\n".join([*top, doc.text, *bottom])


def _original(doc: Doc, rng: random.Random) -> Record:
    prefix = "" if doc.langs == ("en",) else ("intl" if len(doc.langs) > 1 else doc.lang) + "."
    record = Record(doc, f"https://{prefix}{HOSTS[doc.source]}/{doc.slug}", _page(doc))
    if "mojibake" in doc.damage:
        damaged = variants.mojibake(record.text)
        if damaged is None:
            raise ValueError(f"{doc.slug}: cannot be damaged as Windows-1252 mojibake")
        record.text = damaged
    if "whitespace" in doc.damage:
        record.text, _ = variants.irregular_whitespace(record.text, rng)
    return record


class Builder:
    def __init__(self, docs: list[Doc], seed: int) -> None:
        self.rng = random.Random(seed)
        self.records = [_original(doc, self.rng) for doc in docs]
        self.originals = list(self.records)
        self.urls = {r.url for r in self.records}
        self.texts = {r.text for r in self.records}
        if len(self.urls) != len(self.records):
            raise ValueError("two sample documents have the same source and slug")

    def _url(self, original: Record, *, same_site: bool) -> str:
        path = original.url.split("/", 3)[3]
        if same_site:
            options = [original.url + query for query in TRACKING]
        else:
            options = [f"https://{host}/{path}" for host in MIRRORS]
        self.rng.shuffle(options)
        url = next((u for u in options if u not in self.urls), None)
        if url is None:
            url = f"https://{self.rng.choice(MIRRORS)}/{len(self.urls)}/{path}"
        self.urls.add(url)
        return url

    def _add(self, original: Record, text: str, kind: str, variation: list[str]) -> None:
        same_site = kind == "exact" and self.rng.random() < 0.5
        url = self._url(original, same_site=same_site)
        self.records.append(Record(original.doc, url, text, kind, original, variation))
        self.texts.add(text)

    def _by_slug(self, slug: str) -> Record:
        return next(r for r in self.originals if r.doc.slug == slug)

    def exact_copies(self) -> None:
        forced = [self._by_slug(slug) for slug, n in FORCED_EXACT for _ in range(n)]
        for original in forced:
            self._add(original, original.text, "exact", ["identical"])
        pool = [r for r in self.originals if not (r.doc.damage or r.doc.offensive)]
        made = Counter({"identical": len(forced)})
        for variation, wanted in EXACT_COPIES.items():
            while made[variation] < wanted:
                original = self.rng.choice(pool)
                if variation != "identical" and (original.doc.pii or original.doc.near_misses):
                    # Keep planted personal data byte-exact, so the answer key can quote it.
                    continue
                if variation == "identical":
                    self._add(original, original.text, "exact", ["identical"])
                elif variation == "case":
                    cased = variants.case_variant(original.text, self.rng)
                    if original.doc.lang not in CASED_LANGS or cased is None:
                        continue
                    self._add(original, cased[0], "exact", ["case", *cased[1]])
                else:
                    noisy, edits = variants.irregular_whitespace(original.text, self.rng)
                    if noisy == original.text or noisy in self.texts:
                        continue
                    self._add(original, noisy, "exact", ["whitespace", *edits])
                made[variation] += 1

    def _near(self, original: Record, edits: tuple[str, ...]) -> bool:
        doc = original.doc
        plain = not (doc.groups or doc.offensive or doc.pii or doc.near_misses)
        if not plain and any(name in variants.REWRITING for name in edits):
            return False
        text: str | None = original.text
        for name in edits:
            text = variants.near_copy_edit(name, text, doc.lang, self.rng) if text else None
        if text is None or text in self.texts:
            return False
        self._add(original, text, "near", list(edits))
        return True

    def near_copies(self) -> None:
        slug, syndicated = SYNDICATED
        plan: list[tuple[tuple[str, ...], tuple[str, ...]]]
        plan = [((slug,), edits) for edits in syndicated]
        plan += [((slug,), edits) for slug, edits in FORCED_NEAR]
        pool = [
            r
            for r in self.originals
            if r.doc.quality == "ok"
            and not (r.doc.damage or r.doc.offensive)
            and len(r.doc.langs) == 1
            and len(variants.tokens(r.doc.text, r.doc.lang)) >= 40
        ]
        slugs = tuple(r.doc.slug for r in pool)
        plan += [(slugs, edits) for edits, n in NEAR_PLAN for _ in range(n)]
        for candidates, edits in plan:
            for _ in range(1000):
                if self._near(self._by_slug(self.rng.choice(candidates)), edits):
                    break
            else:
                raise RuntimeError(f"no sample document takes the near-copy edits {edits}")

    def encoding_copies(self) -> None:
        pool = [
            r
            for r in self.originals
            if r.doc.quality == "ok" and not (r.doc.damage or r.doc.offensive)
        ]
        damage = {"mojibake": variants.mojibake, "nfd": variants.nfd}
        for name, wanted in ENCODING_COPIES.items():
            candidates = [r for r in pool if damage[name](r.text) is not None]
            for original in self.rng.sample(candidates, wanted):
                damaged = damage[name](original.text)
                assert damaged is not None
                self._add(original, damaged, "encoding", [name])

    def build(self) -> list[Record]:
        self.exact_copies()
        self.near_copies()
        self.encoding_copies()
        records = list(self.records)
        self.rng.shuffle(records)
        return records


def _truth(record: Record, index: dict[int, int]) -> dict[str, object]:
    doc = record.doc
    similarity = None
    if record.copy_of is not None:
        similarity = round(variants.jaccard(record.copy_of.text, record.text, doc.lang), 4)
    return {
        "index": index[id(record)],
        "url": record.url,
        "source": doc.source,
        "lang": doc.lang,
        "langs": list(doc.langs),
        "kind": record.kind,
        "copy_of": None if record.copy_of is None else index[id(record.copy_of)],
        "variation": record.variation,
        "jaccard": similarity,
        "offensive": doc.offensive,
        "identities": sorted(doc.groups),
        "pii": [{"type": t, "value": v} for t, v in doc.pii],
        "pii_count": len(doc.pii),
        "near_misses": [{"type": t, "value": v} for t, v in doc.near_misses],
        "quality": doc.quality,
        "boilerplate": list(doc.boilerplate),
        "damage": list(doc.damage),
    }


def _summary(truth: list[dict[str, object]]) -> dict[str, object]:
    def count(key: str) -> dict[str, int]:
        return dict(sorted(Counter(str(t[key]) for t in truth).items()))

    return {
        "documents": len(truth),
        "by_kind": count("kind"),
        "by_lang": count("lang"),
        "by_source": count("source"),
        "offensive": sum(1 for t in truth if t["offensive"]),
        "with_identities": sum(1 for t in truth if t["identities"]),
        "with_pii": sum(1 for t in truth if t["pii_count"]),
        "low_quality": sum(1 for t in truth if t["quality"] != "ok"),
    }


def write(out_dir: Path, seed: int = SEED) -> tuple[Path, Path]:
    """Build the corpus and write ``CORPUS`` and ``MANIFEST`` into ``out_dir``."""
    records = Builder(load_texts(), seed).build()
    index = {id(r): i for i, r in enumerate(records)}
    truth = [_truth(r, index) for r in records]
    summary = _summary(truth)
    meta = {
        "corpus": CORPUS,
        "generator": "recipes/sample/build_sample.py",
        "seed": seed,
        "license": "CC0-1.0",
        "similarity": (
            f"jaccard: Jaccard similarity of the sets of {variants.SHINGLE}-grams of lower-cased "
            "\\w+ word tokens (characters for zh and ja) between a copy and its original"
        ),
        "summary": summary,
        "boilerplate": BOILERPLATE,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    corpus = out_dir / CORPUS
    with corpus.open("w", encoding="utf-8", newline="\n") as f:
        for r in records:
            line = {"url": r.url, "source": r.doc.source, "text": r.text}
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    head = json.dumps(meta, indent=2, ensure_ascii=False)[:-2]
    docs = ",\n".join("    " + json.dumps(t, ensure_ascii=False) for t in truth)
    manifest = out_dir / MANIFEST
    manifest.write_text(f'{head},\n  "docs": [\n{docs}\n  ]\n}}\n', encoding="utf-8")
    return corpus, manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=HERE, help="where to write both files")
    args = parser.parse_args()
    corpus, manifest = write(args.out_dir)
    summary = json.loads(manifest.read_text(encoding="utf-8"))["summary"]
    print(f"wrote {corpus} ({summary['documents']} documents) and {manifest}")


if __name__ == "__main__":
    main()
