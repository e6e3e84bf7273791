"""Every text the pages show exists in both languages."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

import pytest

from server.supervisor import catalog_zh, i18n
from server.supervisor.catalog_zh import ZH

from .strings import all_texts

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_every_text_has_its_traditional_chinese():
    missing = sorted(t for t in all_texts() if t not in ZH)
    assert not missing, "add to server/supervisor/catalog_zh.py: " + repr(missing)


def test_the_texts_are_found():
    # The collector itself works: a few known texts from each source.
    texts = all_texts()
    assert {"Visit log", "Conflict resolved. The phones receive the chosen value at their next sync.",
            "Choose which value to keep.", "Reason for amendment", "{n} refused changes",
            "Wrong user name or password."} <= texts


def test_translations_keep_their_placeholders_and_are_chinese():
    for english, chinese in ZH.items():
        assert set(PLACEHOLDER.findall(english)) == set(PLACEHOLDER.findall(chinese)), english
        assert chinese.strip() and chinese != english, english


def test_no_text_is_translated_twice():
    tree = ast.parse(Path(catalog_zh.__file__).read_text(encoding="utf-8"))
    keys = [k.value for node in ast.walk(tree) if isinstance(node, ast.Dict) for k in node.keys]
    assert [k for k, n in Counter(keys).items() if n > 1] == []


@pytest.mark.parametrize(("header", "expected"), [
    ("zh-TW,zh;q=0.9", "zh-Hant"), ("zh-Hant", "zh-Hant"), ("zh-HK", "zh-Hant"),
    ("en-GB,en;q=0.8", "en"), ("fr-FR,zh-TW;q=0.5", "zh-Hant"), ("fr", "en"), ("", "en"),
])
def test_language_from_accept_language(sqlite_app, header, expected):
    with sqlite_app.test_request_context(headers={"Accept-Language": header}):
        assert i18n.pick_language() == expected


def test_translate_and_labels():
    assert i18n.translate("{n} visits", "zh-Hant", n=3) == "3 筆外訪"
    assert i18n.translate("{n} visits", "en", n=3) == "3 visits"
    # Labels of codes come from the catalog the phone shares.
    assert i18n.label("flag", "far_from_site", "zh-Hant") == "報到位置離登記地址太遠"
    assert i18n.label("flag", "far_from_site", "en") == "Checked in far from the address"
    assert i18n.label("result", "something_new", "en") == "something_new"


@pytest.mark.parametrize(("n", "lang", "expected"), [
    (0, "en", "0 visits"), (1, "en", "1 visit"), (2, "en", "2 visits"), (21, "en", "21 visits"),
    (1, "zh-Hant", "1 筆外訪"), (2, "zh-Hant", "2 筆外訪"),
])
def test_counted_texts_take_the_form_that_fits(n, lang, expected):
    assert i18n.ngettext("{n} visit", "{n} visits", n, lang) == expected


@pytest.mark.parametrize(("minor", "currency", "lang", "expected"), [
    (121380000, "TWD", "en", "NT$1,213,800"),
    (121380000, "TWD", "zh-Hant", "NT$1,213,800"),
    (150050, "TWD", "en", "NT$1,501"),      # whole dollars, rounded half up
    (125000, "USD", "en", "$1,250.00"),
    (125000, "USD", "zh-Hant", "US$1,250.00"),
])
def test_money_on_the_pages(sqlite_app, minor, currency, lang, expected):
    from server.supervisor import formatting

    with sqlite_app.test_request_context():
        from flask import g

        g.fv_lang = lang
        assert formatting.fmt_money(minor, currency) == expected
