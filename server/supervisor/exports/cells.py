"""Text cells a spreadsheet will not run as a formula.

Names and notes come from the field and from import files; a cell that
starts with ``=``, ``+``, ``-`` or ``@`` would be evaluated by Excel or
LibreOffice when the CSV is opened (CSV or formula injection). Such a cell
gets a leading apostrophe, which spreadsheets show as plain text."""

from __future__ import annotations

import unicodedata

FORMULA_STARTS = frozenset("=+-@")


def defused(value) -> str:
    """Spreadsheets skip leading blanks and invisible characters and read
    full-width signs as the ASCII ones, so the first visible character
    decides, compared after NFKC folding (＝ and ﹦ fold to =). A leading tab
    or carriage return starts a formula in some spreadsheets too."""
    text = "" if value is None else str(value)
    if not text or text[0].isalnum():
        # Most cells: a letter or digit first (no letter or digit folds to
        # a formula sign), decided without the scan below.
        return text
    first = next((ch for ch in text if not _skipped(ch)), "")
    if text[:1] in ("\t", "\r") or unicodedata.normalize("NFKC", first)[:1] in FORMULA_STARTS:
        return "'" + text
    return text


def _skipped(ch: str) -> bool:
    # White space, control and format characters (NBSP, zero-width space,
    # BOM, word joiner, line feed...): nothing a reader sees.
    return ch.isspace() or unicodedata.category(ch) in ("Zs", "Zl", "Zp", "Cc", "Cf")
