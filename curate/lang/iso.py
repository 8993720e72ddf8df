"""ISO 639 codes for the 176 labels of fastText's ``lid.176`` model.

Most ``lid.176`` labels are ISO 639-1 codes; the rest are Wikipedia language codes, which are
ISO 639-3 codes except for a few: ``als`` is Alemannic (ISO 639-3 ``gsw``, not Tosk Albanian),
``bh`` is the Bhojpuri Wikipedia (``bho``), ``sh`` is Serbo-Croatian (ISO 639-1 ``sh`` was
withdrawn; ISO 639-3 ``hbs``). ``eml`` (Emilian-Romagnol, retired from ISO 639-3 in 2009) and
``nah`` (Nahuatl, an ISO 639-2/5 collective code) have no single ISO 639-3 code and stay as they
are.

>>> code_for_label("__label__de"), code_for_label("__label__de", codes="iso639-3")
('de', 'deu')
>>> code_for_label("__label__als"), code_for_label("__label__sh")
('gsw', 'hbs')
>>> to_iso639_1("zho"), to_iso639_3("zh"), to_iso639_3("ceb")
('zh', 'zho', 'ceb')

Models such as GlotLID and OpenLID label a language and its script, ``__label__eng_Latn``, with
ISO 639-3 codes of individual languages. :func:`parse_label` maps those to the code lid.176 gives
the same language (``cmn_Hani`` -> ``zh``, ``arb_Arab`` -> ``ar``) and keeps the ISO 15924 script
apart:

>>> parse_label("__label__eng_Latn"), parse_label("__label__cmn_Hani")
(('en', 'Latn'), ('zh', 'Hani'))
>>> parse_label("__label__als_Latn"), parse_label("__label__als")
(('sq', 'Latn'), ('gsw', None))
"""

from __future__ import annotations

from typing import Literal

Codes = Literal["iso639-1", "iso639-3"]

LABEL_PREFIX = "__label__"

# ISO 639-1 code -> ISO 639-3 code (the macrolanguage code where ISO 639-3 has one), for the
# two-letter codes lid.176 predicts, plus nb (Norwegian Bokmål, which lid.176 reports as "no")
# and om (Oromo), which GlotLID and OpenLID predict.
_PAIRS = """
    af:afr am:amh an:arg ar:ara as:asm av:ava az:aze ba:bak be:bel bg:bul bn:ben bo:bod br:bre
    bs:bos ca:cat ce:che co:cos cs:ces cv:chv cy:cym da:dan de:deu dv:div el:ell en:eng eo:epo
    es:spa et:est eu:eus fa:fas fi:fin fr:fra fy:fry ga:gle gd:gla gl:glg gn:grn gu:guj gv:glv
    he:heb hi:hin hr:hrv ht:hat hu:hun hy:hye ia:ina id:ind ie:ile io:ido is:isl it:ita ja:jpn
    jv:jav ka:kat kk:kaz km:khm kn:kan ko:kor ku:kur kv:kom kw:cor ky:kir la:lat lb:ltz li:lim
    lo:lao lt:lit lv:lav mg:mlg mk:mkd ml:mal mn:mon mr:mar ms:msa mt:mlt my:mya ne:nep nl:nld
    nn:nno no:nor oc:oci or:ori os:oss pa:pan pl:pol ps:pus pt:por qu:que rm:roh ro:ron ru:rus
    sa:san sc:srd sd:snd si:sin sk:slk sl:slv so:som sq:sqi sr:srp su:sun sv:swe sw:swa ta:tam
    te:tel tg:tgk th:tha tk:tuk tl:tgl tr:tur tt:tat ug:uig uk:ukr ur:urd uz:uzb vi:vie vo:vol
    wa:wln yi:yid yo:yor zh:zho nb:nob om:orm
"""
ISO639_1_TO_3: dict[str, str] = dict(pair.split(":") for pair in _PAIRS.split())

ISO639_3_TO_1: dict[str, str] = {three: one for one, three in ISO639_1_TO_3.items()}

# The individual language that stands for its macrolanguage (ISO 639-3 macrolanguage mappings),
# as GlotLID and OpenLID label it -> the macrolanguage code lid.176 uses for it. Varieties that
# lid.176 tells apart (yue, wuu, azb, ckb, ...) are not folded in.
_STANDARD = """
    arb:ara cmn:zho pes:fas zsm:msa ekk:est lvs:lav swh:swa azj:aze uzn:uzb khk:mon npi:nep
    ory:ori plt:mlg ydd:yid als:sqi pbt:pus kmr:kur gaz:orm quy:que
"""
MACRO_OF: dict[str, str] = dict(pair.split(":") for pair in _STANDARD.split())

#: lid.176 labels that are not the ISO code of their language.
LABEL_FIXES: dict[str, str] = {"als": "gsw", "bh": "bho", "sh": "hbs"}


def to_iso639_3(code: str) -> str:
    """The ISO 639-3 code for an ISO 639-1 code; other codes are returned unchanged."""
    return ISO639_1_TO_3.get(code, code)


def to_iso639_1(code: str) -> str:
    """The ISO 639-1 code where one exists; otherwise ``code`` unchanged."""
    return ISO639_3_TO_1.get(code, code)


def code_for_label(label: str, *, codes: Codes = "iso639-1") -> str:
    """The language code for a fastText label such as ``__label__en``.

    Labels of other models (e.g. ``__label__eng_Latn``) lose their prefix and are otherwise
    returned as they are.
    """
    return parse_label(label, codes=codes)[0]


def parse_label(label: str, *, codes: Codes = "iso639-1") -> tuple[str, str | None]:
    """The language code and the ISO 15924 script (or None) of a fastText label.

    ``__label__xx`` is a lid.176 label (Wikipedia codes, see :data:`LABEL_FIXES`);
    ``__label__xxx_Scrp`` a GlotLID / OpenLID one, an ISO 639-3 code and a script. Labels of
    neither form lose their prefix and are otherwise returned as they are.
    """
    raw = label[len(LABEL_PREFIX) :] if label.startswith(LABEL_PREFIX) else label
    lang, sep, script = raw.partition("_")
    if sep and len(script) == 4 and script.isalpha() and script[0].isupper():
        code = MACRO_OF.get(lang, lang)
        return (to_iso639_3(code) if codes == "iso639-3" else to_iso639_1(code)), script
    code = LABEL_FIXES.get(raw, raw)
    return (to_iso639_3(code) if codes == "iso639-3" else to_iso639_1(code)), None
