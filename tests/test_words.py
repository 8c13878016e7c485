"""The one text catalogue (data/words.toml, metrics/core/words.py) against the code that asks it, read with ast:
every key in both languages, every key the pages, ui and the bulletin ask for is there, none is left unused."""
from __future__ import annotations

import ast
import re
from pathlib import Path
from string import Formatter

import pytest

from metrics.core.catalog import Category, Direction, Kind, Rollup
from metrics.core.words import WORDS, load, word
from metrics.scoring.due_states import Due
from metrics.store.audit import Outcome
from ui.state import BASES

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py"),
                  *(ROOT / "metrics" / "reports").glob("*.py")])
ASKERS = {"t", "word"}
"""ui.i18n.t(key, ...) and metrics.core.words.word(key, lang, ...) (as metrics.reports.sections.word too)."""


def _trends_views() -> tuple[str, ...]:
    """pages/trends.py's VIEWS (a page is a Streamlit script: read, not imported)."""
    for node in ast.parse((ROOT / "pages" / "trends.py").read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "VIEWS" for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError("pages/trends.py has no VIEWS")


# The keys built at run time from a prefix and a value, e.g. t(f"due_{unit.state}"): each prefix and the values
# its ending takes. A new prefix in the code fails test_every_key_asked_for_is_there until it is named here.
FAMILIES: dict[str, tuple[str, ...]] = {
    "basis_": BASES,  # the pages' bases (scores.Basis has rolling12 too, which only the trends page draws)
    "headline_note_": BASES,
    "tag_": BASES,
    "due_": tuple(d.value for d in Due),
    "batch_": ("committed", "rolled_back"),  # batches.status (metrics/store/schema.py)
    "category_": tuple(c.value for c in Category),
    "kind_of_": tuple(k.value for k in Kind),
    "direction_": tuple(d.value for d in Direction),
    "rollup_": tuple(r.value for r in Rollup),
    "view_": _trends_views(),
    "view_note_": _trends_views(),
    "audit_outcome_": tuple(o.value for o in Outcome),
}


def _trees() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(encoding="utf-8"))) for path in SOURCES]


def _asked(tree: ast.Module) -> list[tuple[int, ast.expr]]:
    """(line, key argument) of every t(...) and word(...) call."""
    return [(node.lineno, node.args[0]) for node in ast.walk(tree) if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name) and node.func.id in ASKERS and node.args]


def _prefix(key: ast.expr) -> str | None:
    """The literal start of a key built at run time: "due_" of f"due_{state}" or of "due_" + state."""
    if isinstance(key, ast.JoinedStr) and key.values and isinstance(key.values[0], ast.Constant):
        return str(key.values[0].value)
    if isinstance(key, ast.BinOp) and isinstance(key.op, ast.Add) and isinstance(key.left, ast.Constant):
        return str(key.left.value)
    return None


def _literals(key: ast.expr) -> list[str]:
    """The keys written out in a key argument: "a", or both of "a" if ... else "b"."""
    if isinstance(key, ast.Constant) and isinstance(key.value, str):
        return [key.value]
    if isinstance(key, ast.IfExp):
        return _literals(key.body) + _literals(key.orelse)
    return []


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in Formatter().parse(text) if field is not None}


def test_every_key_has_both_languages_with_the_same_placeholders():
    assert len(WORDS) > 400
    for key, text in WORDS.items():
        assert text.zh.strip() and text.en.strip(), key
        assert _placeholders(text.zh) == _placeholders(text.en), key
        if key != "language":  # "Language / 语言": the switch names both languages in both
            assert not re.search(r"[\u4e00-\u9fff]", text.en), (key, text.en)


def test_a_key_without_both_languages_is_refused_with_its_name(tmp_path):
    broken = tmp_path / "words.toml"
    broken.write_text('sign_in.zh = "登录"\nsign_in.en = "Sign in"\nsign_out.zh = "退出登录"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"words.toml: sign_out has \['zh'\]; give it a non-empty sign_out.zh "
                                         r"and sign_out.en"):
        load(broken)


def test_word_fills_placeholders_and_leaves_a_template_alone():
    assert word("veto_banner", "zh", unit="东峰煤矿", reason="死亡人数 1") == \
        "一票否决：东峰煤矿（死亡人数 1），本年累计得分归零"
    assert word("veto_banner", "en", unit="CM01", reason="fatalities 1") == \
        "Veto: CM01 (fatalities 1); its year-to-date score is 0"
    assert word("u_hover", "en") == "%{customdata[0]} injuries / %{customdata[1]:,.0f} hours"


def test_every_key_asked_for_is_there():
    missing, unnamed = [], []
    for path, tree in _trees():
        where = path.relative_to(ROOT)
        for line, key in _asked(tree):
            prefix = _prefix(key)
            if prefix is not None:
                if prefix not in FAMILIES:
                    unnamed.append(f"{where}:{line} {ast.unparse(key)}")
                missing += [f"{where}:{line} {prefix}{v}" for v in FAMILIES.get(prefix, ()) if prefix + v not in WORDS]
            missing += [f"{where}:{line} {k}" for k in _literals(key) if k not in WORDS]
    assert unnamed == [], "keys built at run time: name their prefix and values in FAMILIES"
    assert missing == []


def test_no_key_is_left_unused():
    """A key is used when the code writes it out (as a call's argument, in a tuple of keys a loop asks for, as a
    dict's key) or a family of FAMILIES makes it; a string the code compares a value with is data, not a key
    (u.reason == "not_reported")."""
    written: set[str] = set()
    for _, tree in _trees():
        compared = {id(side) for node in ast.walk(tree) if isinstance(node, ast.Compare)
                    for side in (node.left, *node.comparators)}
        written |= {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
                    and isinstance(node.value, str) and id(node) not in compared}
    made = {prefix + value for prefix, values in FAMILIES.items() for value in values}
    assert sorted(set(WORDS) - written - made) == []
