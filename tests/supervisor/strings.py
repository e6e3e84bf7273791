"""Collects every English text the supervisor pages show, from the
templates and from the package's Python source, so a test can check that
each one has its Traditional Chinese."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "server" / "templates" / "supervisor"
PACKAGE = ROOT / "server" / "supervisor"

_TEMPLATE_CALL = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
# _n("singular", "plural", n): Chinese has one form, kept under the plural.
_PLURAL_CALL = re.compile(r'\b_n\(\s*"(?:[^"\\]|\\.)*"\s*,\s*"((?:[^"\\]|\\.)*)"')
# Calls whose first (or, for error pages, second and third) arguments are texts.
_TEXT_CALLS = {"translate": (0,), "Refused": (0,), "NotFound": (0,), "_done": (0,),
               "_error_page": (1, 2), "Column": (0,), "time_columns": (0, 1)}


def template_texts() -> set[str]:
    found = set()
    for path in TEMPLATES.glob("*.html"):
        for match in _TEMPLATE_CALL.finditer(path.read_text(encoding="utf-8")):
            found.add(match.group(1) if match.group(1) is not None else match.group(2))
        found.update(m.group(1) for m in _PLURAL_CALL.finditer(path.read_text(encoding="utf-8")))
    return found


def _name(func) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def python_texts() -> set[str]:
    found = set()
    for path in PACKAGE.rglob("*.py"):
        if path.name == "catalog_zh.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            positions = _TEXT_CALLS.get(name, ())
            for i in positions:
                if i < len(node.args) and isinstance(node.args[i], ast.Constant) \
                        and isinstance(node.args[i].value, str):
                    found.add(node.args[i].value)
            # flash(("text", {...}), "category")
            if name == "flash" and node.args and isinstance(node.args[0], ast.Tuple):
                for element in node.args[0].elts:
                    if isinstance(element, ast.Constant) and isinstance(element.value, str):
                        found.add(element.value)
                    if isinstance(element, ast.IfExp):
                        for branch in (element.body, element.orelse):
                            if isinstance(branch, ast.Constant):
                                found.add(branch.value)
            # error = ("text", {...}) in the login view
            if name is None:
                continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Tuple):
                for candidate in (node.value, *node.value.elts):
                    if isinstance(candidate, ast.Tuple) and len(candidate.elts) == 2 \
                            and isinstance(candidate.elts[0], ast.Constant) \
                            and isinstance(candidate.elts[0].value, str) \
                            and isinstance(candidate.elts[1], ast.Dict):
                        found.add(candidate.elts[0].value)
            if isinstance(node, ast.Call) and _name(node.func) == "translate" and node.args \
                    and isinstance(node.args[0], ast.IfExp):
                for branch in (node.args[0].body, node.args[0].orelse):
                    if isinstance(branch, ast.Constant):
                        found.add(branch.value)
    return found


def all_texts() -> set[str]:
    from server.messages import all_templates
    from server.supervisor.display import FIELD_LABELS

    texts = template_texts() | python_texts() | set(FIELD_LABELS.values())
    texts |= set(all_templates())
    return {t for t in texts if t}
