"""English and Traditional Chinese for the supervisor pages.

The English text is the key; ``catalog_zh.ZH`` holds its Traditional
Chinese. A plain dictionary needs no compile step, and a test checks that
every string the pages use has its translation. Labels of stored codes are
not here: they come from the catalog the phone uses too (``server/labels.py``). The language comes from a
cookie set by the switch in the page header, else from Accept-Language."""

from __future__ import annotations

from babel import Locale
from flask import g, request

from .. import labels
from .catalog_zh import ZH

LANGUAGES = ("en", "zh-Hant")
LANGUAGE_NAMES = {"en": "English", "zh-Hant": "繁體中文"}
COOKIE = "fv_lang"
HTML_LANG = {"en": "en", "zh-Hant": "zh-Hant"}


def normalise(code: str | None) -> str | None:
    """Map a language tag to one we have: any Chinese to Traditional
    Chinese (the only Chinese we write), any English to English."""
    if not code:
        return None
    code = code.strip().lower()
    if code.startswith("zh"):
        return "zh-Hant"
    if code.startswith("en"):
        return "en"
    return None


def pick_language() -> str:
    chosen = normalise(request.cookies.get(COOKIE))
    if chosen:
        return chosen
    for tag, _quality in request.accept_languages:
        found = normalise(tag)
        if found:
            return found
    return "en"


def current_language() -> str:
    lang = g.get("fv_lang")
    if lang is None:
        lang = g.fv_lang = pick_language()
    return lang


def translate(text: str, lang: str | None = None, **values) -> str:
    lang = lang or current_language()
    if lang == "zh-Hant":
        text = ZH.get(text, text)
    return text.format(**values) if values else text


def ngettext(singular: str, plural: str, n: int, lang: str | None = None, **values) -> str:
    """The form of a counted text that fits ``n`` in ``lang`` ("1 visit",
    "2 visits"), with the plural rules of the Unicode CLDR through Babel.
    Chinese has one form: ``ZH`` holds it under the English plural."""
    lang = lang or current_language()
    values.setdefault("n", n)
    if lang == "zh-Hant":
        return translate(plural, lang, **values)
    text = singular if _PLURAL_RULES[lang](n) == "one" else plural
    return text.format(**values)


_PLURAL_RULES = {"en": Locale.parse("en").plural_form}


def label(kind: str, value, lang: str | None = None) -> str:
    """A stored code's label, from the one catalog the phone shares
    (``server/labels.json``)."""
    return labels.label(kind, value, lang or current_language())
