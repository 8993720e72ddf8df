"""Turn one sample document into a copy of it, deterministically from a seeded ``random.Random``.

Three families, matching what the curate stages should find:

- exact copies that differ only in case or whitespace (``case_variant``, ``irregular_whitespace``);
- near copies with small edits (``near_copy``): a header or footer, an added or removed sentence,
  typos, British spellings turned American, a changed number;
- encoding damage that ``normalize`` repairs (``mojibake``, ``nfd``).

Edits that change words (typos, spellings, numbers, removed sentences) are only made to documents
without identity mentions, offensive lines or personal data, so a copy keeps its original's truth.

>>> import random
>>> noisy, edits = irregular_whitespace("One two. Three four.", random.Random(1))
>>> noisy.split() == "One two. Three four.".split()
True
>>> round(jaccard("a b c d e f", "a b c d e g", "en"), 3)
0.333
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable

CHARACTER_LANGS = ("zh", "ja")
SHINGLE = 5

ADDED_SENTENCE = {
    "en": ("This article was updated on Friday with additional details.", "Edit: fixed a typo."),
    "de": ("Dieser Beitrag wurde am Freitag aktualisiert.", "Edit: Tippfehler korrigiert."),
    "fr": ("Cet article a été mis à jour vendredi.", "Édit : faute de frappe corrigée."),
    "es": ("Este artículo se actualizó el viernes.", "Edito: corregida una errata."),
    "zh": ("本文已于周五更新。", "编辑：修改了错别字。"),
    "ja": ("この記事は金曜日に更新されました。", "追記：誤字を修正しました。"),
    "ru": ("Статья обновлена в пятницу.", "Upd: исправил опечатку."),
    "ar": ("تم تحديث هذا المقال يوم الجمعة.", "تعديل: تم تصحيح خطأ إملائي."),
    "hi": ("इस लेख को शुक्रवार को अपडेट किया गया।", "संपादन: एक टाइपो ठीक किया गया।"),
}
HEADER = {
    "en": ("Posted by admin", "From our correspondent", "SPONSORED", "Reposted from the archive"),
    "de": ("Von unserer Redaktion", "Gepostet von admin"),
    "fr": ("De notre correspondant", "Publié par admin"),
    "es": ("De nuestra redacción", "Publicado por admin"),
    "zh": ("本报讯", "转载自网络"),
    "ja": ("編集部より", "転載記事"),
    "ru": ("От нашего корреспондента", "Опубликовано: admin"),
    "ar": ("من مراسلنا", "نشر بواسطة المشرف"),
    "hi": ("हमारे संवाददाता से", "एडमिन द्वारा पोस्ट किया गया"),
}
FOOTER = {
    "en": (
        "Share this: Facebook | X | Email",
        "All rights reserved.",
        "Read more stories like this",
    ),
    "de": ("Teilen: Facebook | X | E-Mail", "Alle Rechte vorbehalten."),
    "fr": ("Partager : Facebook | X | E-mail", "Tous droits réservés."),
    "es": ("Compartir: Facebook | X | Correo", "Todos los derechos reservados."),
    "zh": ("分享到：微信 | 微博 | 邮件", "版权所有，转载请注明出处。"),
    "ja": ("シェア：X | Facebook | メール", "無断転載を禁じます。"),
    "ru": ("Поделиться: ВКонтакте | Telegram | Почта", "Все права защищены."),
    "ar": ("شارك: فيسبوك | إكس | البريد", "جميع الحقوق محفوظة."),
    "hi": ("साझा करें: फेसबुक | एक्स | ईमेल", "सर्वाधिकार सुरक्षित।"),
}
#: British spellings and words with their American forms: a localised copy of the same page.
AMERICAN = {
    "analyse": "analyze",
    "autumn": "fall",
    "behaviour": "behavior",
    "car park": "parking lot",
    "centre": "center",
    "centres": "centers",
    "chilli": "chili",
    "colour": "color",
    "colours": "colors",
    "coriander": "cilantro",
    "cornflour": "cornstarch",
    "favourite": "favorite",
    "films": "movies",
    "flavour": "flavor",
    "fortnight": "two weeks",
    "grey": "gray",
    "high street": "main street",
    "holiday": "vacation",
    "holidays": "vacations",
    "kerb": "curb",
    "kilometres": "kilometers",
    "licence": "license",
    "litre": "liter",
    "lorries": "trucks",
    "metres": "meters",
    "motorway": "highway",
    "neighbours": "neighbors",
    "organise": "organize",
    "organisers": "organizers",
    "pavement": "sidewalk",
    "petrol": "gas",
    "practise": "practice",
    "practised": "practiced",
    "programme": "program",
    "recognise": "recognize",
    "recognised": "recognized",
    "rubbish": "trash",
    "shop": "store",
    "shops": "stores",
    "spring onions": "scallions",
    "tap": "faucet",
    "taps": "faucets",
    "theatre": "theater",
    "timetables": "schedules",
    "tin": "can",
    "travelled": "traveled",
    "tyre": "tire",
    "tyres": "tires",
    "wholemeal": "whole wheat",
}


def tokens(text: str, lang: str) -> list[str]:
    """Lower-cased word tokens, or characters for languages written without spaces."""
    if lang in CHARACTER_LANGS:
        return [c for c in text.lower() if c.isalnum()]
    return re.findall(r"\w+", text.lower())


def jaccard(a: str, b: str, lang: str) -> float:
    """Jaccard similarity of the two texts' sets of ``SHINGLE``-grams of ``tokens``."""

    def grams(text: str) -> set[tuple[str, ...]]:
        toks = tokens(text, lang)
        if len(toks) < SHINGLE:
            return {tuple(toks)}
        return {tuple(toks[i : i + SHINGLE]) for i in range(len(toks) - SHINGLE + 1)}

    sa, sb = grams(a), grams(b)
    return len(sa & sb) / len(sa | sb)


def sentences(paragraph: str, lang: str) -> list[str]:
    if lang in CHARACTER_LANGS:
        return [s for s in re.split(r"(?<=[。！？])", paragraph) if s]
    return re.split(r"(?<=[.!?।؟])\s+", paragraph)


def irregular_whitespace(text: str, rng: random.Random) -> tuple[str, list[str]]:
    """``text`` with scraper-style whitespace noise; ``text.split()`` is unchanged."""

    def tabs(t: str) -> str:
        return re.sub(
            r"(\w) (\w)", lambda m: m[1] + ("\t" if rng.random() < 0.1 else " ") + m[2], t
        )

    def trailing_spaces(t: str) -> str:
        return "\n".join(line + " " * rng.randint(1, 4) for line in t.split("\n"))

    edits: dict[str, Callable[[str], str]] = {
        "double_spaces": lambda t: re.sub(r"([.!?,;:]) ", r"\1  ", t),
        "tabs": tabs,
        "trailing_spaces": trailing_spaces,
        "crlf": lambda t: t.replace("\n", "\r\n"),
        "blank_lines": lambda t: "\n\n" + t.replace("\n\n", "\n\n\n\n") + "\n \n",
        "no_break_spaces": lambda t: re.sub(r"(\d) (\w)", "\\1\u00a0\\2", t),
    }
    names = sorted(edits)
    chosen = sorted(rng.sample(names, rng.randint(2, 3)))
    for name in chosen:
        text = edits[name](text)
    return text, chosen


def case_variant(text: str, rng: random.Random) -> tuple[str, list[str]] | None:
    """``text`` lower-cased, or with a short first line (a title) upper-cased; None if unchanged."""
    first, sep, rest = text.partition("\n")
    options = {"lowercase": text.lower()}
    if sep and len(first) <= 60:
        options["uppercase_title"] = first.upper() + sep + rest
    name = rng.choice(sorted(options))
    changed = options[name]
    if changed == text or changed.lower() != text.lower():
        return None
    return changed, [name]


def mojibake(text: str) -> str | None:
    """UTF-8 bytes read as Windows-1252, the commonest mojibake; None if nothing would change."""
    try:
        damaged = text.encode("utf-8").decode("cp1252")
    except UnicodeDecodeError:
        return None
    return damaged if damaged != text else None


def nfd(text: str) -> str | None:
    """Canonically decomposed text (accents as combining marks); None if nothing would change."""
    decomposed = unicodedata.normalize("NFD", text)
    return decomposed if decomposed != text else None


def _joiner(lang: str) -> str:
    return "" if lang in CHARACTER_LANGS else " "


def _typos(text: str, lang: str, rng: random.Random) -> str | None:
    if lang in CHARACTER_LANGS:
        spots = [i for i in range(len(text) - 1) if text[i].isalnum() and text[i + 1].isalnum()]
        picked = sorted(rng.sample(spots, 2))
        chars = list(text)
        for i in picked:
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        return "".join(chars)
    words = [m for m in re.finditer(r"\b[^\W\d_]{5,}\b", text) if len(set(m[0])) > 2]
    if len(words) < 6:
        return None
    out = text
    for match in sorted(rng.sample(words, 2), key=lambda m: -m.start()):
        word = match[0]
        i = rng.randrange(1, len(word) - 2)
        typo = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        if rng.random() < 0.3:
            typo = word[:i] + word[i + 1 :]
        out = out[: match.start()] + typo + out[match.end() :]
    return out


def _american(text: str) -> str | None:
    def swap(match: re.Match[str]) -> str:
        word = AMERICAN[match[0].lower()]
        return word.capitalize() if match[0][0].isupper() else word

    pattern = r"\b(" + "|".join(sorted(AMERICAN, key=len, reverse=True)) + r")\b"
    changed, count = re.subn(pattern, swap, text, flags=re.IGNORECASE)
    return changed if count >= 2 else None


def _number(text: str, rng: random.Random) -> str | None:
    numbers = list(re.finditer(r"(?<![\d.,])\d{2,4}(?![\d.,]\d)", text))
    if not numbers:
        return None
    match = rng.choice(numbers)
    value = int(match[0]) + rng.choice((1, 2, 5, 10))
    return text[: match.start()] + str(value) + text[match.end() :]


def _drop_sentence(text: str, lang: str, rng: random.Random) -> str | None:
    paragraphs = text.split("\n\n")
    longest = max(range(len(paragraphs)), key=lambda i: len(sentences(paragraphs[i], lang)))
    parts = sentences(paragraphs[longest], lang)
    if len(parts) < 5:
        return None
    del parts[rng.randrange(1, len(parts))]
    paragraphs[longest] = _joiner(lang).join(parts)
    return "\n\n".join(paragraphs)


#: Edits that keep every word of the original, and those that change some.
ADDITIVE = ("header_added", "footer_added", "sentence_added")
REWRITING = ("typos", "american_spelling", "number_changed", "sentence_removed")


def near_copy_edit(name: str, text: str, lang: str, rng: random.Random) -> str | None:
    """``text`` with the edit ``name`` applied, or None where the edit does not fit the text."""
    if name == "header_added":
        return rng.choice(HEADER[lang]) + "\n\n" + text
    if name == "footer_added":
        return text + "\n\n" + rng.choice(FOOTER[lang])
    if name == "sentence_added":
        return text + _joiner(lang) + rng.choice(ADDED_SENTENCE[lang])
    if name == "typos":
        return _typos(text, lang, rng)
    if name == "american_spelling":
        return _american(text) if lang == "en" else None
    if name == "number_changed":
        return _number(text, rng)
    if name == "sentence_removed":
        return _drop_sentence(text, lang, rng)
    raise ValueError(f"unknown near-copy edit {name!r}")
