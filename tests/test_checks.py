"""Checks of stored values (webapp/domain/expressions.py, webapp/domain/checks.py): expressions,
relations with tolerance, the outline's same / covers / outlier checks, and kl49's rules unchanged."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest

from webapp.domain.checks import CampaignValues, UnitNode, campaign_findings, check_rules
from webapp.domain.expressions import (ExpressionError, Tolerance, compare, parse, parse_relation,
                                       parse_tolerance)
from webapp.domain.outline import OutlineError, load_outline, read_outline, shipped_outline

CHECKS_OUTLINE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "outlines", "checks.yaml")


# --- expressions ----------------------------------------------------------------------------------

def test_expression_evaluates_exactly_with_precedence_and_parentheses():
    expr = parse("c6 / c3 * 100", {"c3", "c6"})
    assert expr.keys == ("c6", "c3")
    assert expr.evaluate({"c6": 1, "c3": 3}) == Decimal(1) / Decimal(3) * 100
    assert parse("a + b * 2").evaluate({"a": 1, "b": 3}) == 7
    assert parse("(a + b) * 2").evaluate({"a": 1, "b": 3}) == 8
    assert parse("a - b - c").evaluate({"a": 10, "b": 3, "c": 2}) == 5
    assert parse("a / b / c").evaluate({"a": 12, "b": 3, "c": 2}) == 2
    assert parse("-a + 0,5").evaluate({"a": 2}) == Decimal("-1.5")
    assert parse("a + a").keys == ("a",)


def test_expression_is_blank_with_an_empty_input_or_a_division_by_zero():
    expr = parse("a / b")
    assert expr.evaluate({"a": 1, "b": None}) is None
    assert expr.evaluate({"a": 1}) is None
    assert expr.evaluate({"a": 1, "b": 0}) is None
    assert expr.evaluate({"a": 0, "b": 4}) == 0


def test_expression_as_excel_formula_keeps_its_meaning():
    refs = {"a": "C5", "b": "D5", "c": "E5"}.__getitem__
    assert parse("a + b * c").excel(refs) == "C5+D5*E5"
    assert parse("(a + b) * c").excel(refs) == "(C5+D5)*E5"
    assert parse("a - (b - c)").excel(refs) == "C5-(D5-E5)"
    assert parse("a / (b * c)").excel(refs) == "C5/(D5*E5)"
    assert parse("a / b * 100").excel(refs) == "C5/D5*100"
    assert parse("-(a + b)").excel(refs) == "-(C5+D5)"
    assert parse("0,5 * a").excel(refs) == "0.5*C5"


@pytest.mark.parametrize("text, message", [
    ("a +", "thiếu số hạng ở cuối"),
    ("(a + b", "thiếu dấu ')'"),
    ("a b", "không hiểu 'a b' từ 'b'"),
    ("a + x", "cột 'x' không có trong khối"),
    ("a ^ 2", "không hiểu 'a ^ 2' từ '^ 2'"),
    ("", "biểu thức trống"),
    ("__import__('os')", "không hiểu"),
])
def test_expression_mistakes_are_named(text, message):
    with pytest.raises(ExpressionError) as exc:
        parse(text, {"a", "b"})
    assert message in str(exc.value)


def test_relations_and_their_tolerance_edges():
    relation = parse_relation("c1 = c2 + c3", {"c1", "c2", "c3"}, Tolerance(Decimal(1)))
    assert relation.op == "="
    assert relation.holds({"c1": 11, "c2": 5, "c3": 5}) is True  # off by 1 = the tolerance
    assert relation.holds({"c1": 12, "c2": 5, "c3": 5}) is False  # off by 2
    assert relation.holds({"c1": 9, "c2": 5, "c3": 5}) is True
    assert relation.holds({"c1": 12, "c2": 5, "c3": None}) is None  # an empty input: not judged
    relative = parse_tolerance("1%")
    assert relative == Tolerance(Decimal(1), True)
    assert compare(Decimal(1010), "=", 1000, relative)  # 1% of the larger side: 10.1
    assert compare(Decimal(990), "=", 1000, relative)  # 1% of 1000 = 10
    assert not compare(Decimal(989), "=", 1000, relative)
    assert compare(5, "<=", 5) and not compare(6, "<=", 5) and compare(6, "<=", 5, Tolerance(Decimal(1)))
    assert not compare(5, "<", 5) and compare(4, "<", 5) and compare(5, ">=", 5) and not compare(5, ">", 5)
    assert compare(5, "!=", 7) and not compare(5, "!=", 5) and not compare(5, "!=", 6, Tolerance(Decimal(1)))
    with pytest.raises(ExpressionError):
        parse_tolerance("-1")
    with pytest.raises(ExpressionError):
        parse_relation("a = b = c", {"a", "b", "c"})


# --- rules of a block -----------------------------------------------------------------------------

def test_kl49_rule_messages_and_blocking_are_unchanged():
    """Today's a <= b rules of kl49: same parsed form, same message, error blocks, warning only flags."""
    table = shipped_outline("kl49").table("II.1.3")
    block = table.blocks[0]
    assert [(r.left, r.op, r.right, r.level) for r in block.rules] == [
        ("d35_dtts", "<=", "d35_tong", "error"), ("d60_dtts", "<=", "d60_tong", "error"),
        ("huy_dong", "<=", "mu_chu", "warning"), ("d35_tong", "<=", "d60_tong", "warning")]
    assert [b.message for b in check_rules(block, {"d35_tong": 10, "d35_dtts": 11})] == [
        "Số người dân tộc thiểu số (15–35 tuổi) không được lớn hơn số người từ 15 đến 35 tuổi"]
    assert check_rules(block, {"d35_tong": 10, "d35_dtts": 10}) == []
    assert check_rules(block, {"d35_tong": None, "d35_dtts": 11}) == []
    breach, = check_rules(block, {"mu_chu": 3, "huy_dong": 5}, level="warning")
    assert breach.columns == ("huy_dong", "mu_chu") and breach.message == (
        "Số người được huy động ra học lớn hơn tổng số người mù chữ")
    assert check_rules(block, {"mu_chu": 3, "huy_dong": 5}, level="error") == []


def test_arithmetic_rule_with_tolerance_in_an_outline():
    block = load_outline(CHECKS_OUTLINE).table("T1").blocks[0]
    assert check_rules(block, {"c1": 11, "c2": 5, "c3": 5}) == []
    breach, = check_rules(block, {"c1": 12, "c2": 5, "c3": 5})
    assert breach.rule.level == "warning" and breach.columns == ("c1", "c2", "c3")
    assert breach.detail == "12 = 10"
    assert check_rules(block, {"c1": 12, "c2": 5, "c3": None}) == []


def _text_with(old: str, new: str) -> str:
    text = open(CHECKS_OUTLINE, encoding="utf-8").read()
    assert old in text
    return text.replace(old, new)


def _problems(text: str) -> list[str]:
    with pytest.raises(OutlineError) as exc:
        read_outline(text, "checks.yaml")
    return exc.value.problems


def _line(text: str, needle: str) -> int:
    return text.splitlines().index(next(l for l in text.splitlines() if needle in l)) + 1


def test_rule_and_check_mistakes_name_line_and_place():
    text = _text_with('check: "c1 = c2 + c3"', 'check: "c1 = c2 + c9"')
    assert (f"dòng {_line(text, 'c2 + c9')}: tables[0] (T1) > blocks[0] > rules[0] > check: "
            "cột 'c9' không có trong khối") in _problems(text)
    text = _text_with("tolerance: 1", "tolerance: abc")
    assert (f"dòng {_line(text, 'tolerance: abc')}: tables[0] (T1) > blocks[0] > rules[0] > tolerance: "
            "'abc' không phải là số (ví dụ 0, 2 hoặc \"1%\")") in _problems(text)
    text = _text_with('same: ["T1.c1", "T2.dk"]', 'same: ["T1.c1", "T2.nope"]')
    assert (f"dòng {_line(text, 'T2.nope')}: checks[0] (same) > same[1]: cột 'nope' không có trong bảng T2"
            in _problems(text))
    text = _text_with("outlier: {factor: 3}", "outlier: {factor: 1}")
    assert any(p.startswith(f"dòng {_line(text, 'factor: 1')}: checks[2] (outlier) > outlier > factor: "
                            "phải là một số lớn hơn 1") for p in _problems(text))
    text = _text_with("covers: {table: T2, column: dk}", "covers: {table: T9, column: dk}")
    assert any(p.startswith(f"dòng {_line(text, 'table: T9')}: checks[1] (covers) > covers: bảng 'T9'")
               for p in _problems(text))
    text = _text_with("  - outlier: {factor: 3}", "  - outlier: {factor: 3}\n    same: [T1.c1, T2.dk]")
    assert any("checks[2]: cần đúng một trong các khóa: same, covers, outlier" in p for p in _problems(text))


# --- the outline's checks over a campaign ---------------------------------------------------------

UNITS = [UnitNode(1, "cum", None), UnitNode(2, "xa-a", 1), UnitNode(3, "xa-b", 1)]
GROUPS = {u.id: {"T1": {"xa"}, "T2": {"xa"}} for u in UNITS}


def _findings(stored, previous=None, units=None):
    data = CampaignValues(load_outline(CHECKS_OUTLINE), [2023, 2024], UNITS, stored, GROUPS, previous or {})
    return [(f.unit_id, f.table_code, f.row_key, f.col_key, f.check_id, f.detail)
            for f in campaign_findings(data, units)]


def test_same_quantity_in_two_tables_is_flagged_at_both_cells():
    stored = {(2, "T1", "2024", "c1"): 10, (2, "T2", "2024", "dk"): 12,
              (3, "T1", "2024", "c1"): 10, (3, "T2", "2024", "dk"): 10,  # agree
              (1, "T1", "2024", "c1"): 10}  # one side empty: not judged
    same = [f for f in _findings(stored) if f[4].startswith("same")]
    assert same == [(2, "T1", "2024", "c1", "same:T1.c1,T2.dk", "10 ≠ 12"),
                    (2, "T2", "2024", "dk", "same:T1.c1,T2.dk", "10 ≠ 12")]


def test_covers_compares_a_unit_with_the_sum_of_its_children():
    stored = {(1, "T2", "2024", "dk"): 30, (2, "T2", "2024", "dk"): 12, (3, "T2", "2024", "dk"): 17,
              (1, "T2", "2023", "dk"): 29, (2, "T2", "2023", "dk"): 12, (3, "T2", "2023", "dk"): 17}
    covers = [f for f in _findings(stored) if f[4].startswith("covers")]
    assert covers == [(1, "T2", "2024", "dk", "covers:T2.dk", "30 ≠ 29 (tổng 2 đơn vị)")]
    del stored[(2, "T2", "2024", "dk")], stored[(3, "T2", "2024", "dk")]  # no child reported: not judged
    assert [f for f in _findings(stored) if f[4].startswith("covers")] == []


@pytest.mark.parametrize("before, now, flagged", [
    (10, 30, False), (10, 31, True),  # 3 times is still fine, more is not
    (30, 10, False), (31, 10, True),  # a third is still fine, less is not
    (0, 50, False),  # nothing to compare against
    (10, 0, True),
])
def test_outlier_against_the_previous_period_row(before, now, flagged):
    stored = {(2, "T1", "2023", "c2"): before, (2, "T1", "2024", "c2"): now}
    outliers = [f for f in _findings(stored) if f[4] == "outlier"]
    assert outliers == ([(2, "T1", "2024", "c2", "outlier", f"{now} so với {before} kỳ trước")] if flagged else [])


def test_outlier_against_the_previous_campaign_and_limited_to_its_tables():
    stored = {(2, "T1", "2024", "c3"): 100, (2, "T2", "2024", "dk"): 100}
    previous = {(2, "T1", "2024", "c3"): 20, (2, "T2", "2024", "dk"): 20}
    assert [f for f in _findings(stored, previous) if f[4] == "outlier"] == [
        (2, "T1", "2024", "c3", "outlier", "100 so với 20 kỳ trước")]  # T2 is not in the check's tables


def test_findings_of_some_units_only():
    stored = {(2, "T1", "2024", "c1"): 12, (2, "T1", "2024", "c2"): 5, (2, "T1", "2024", "c3"): 5,
              (3, "T1", "2024", "c1"): 5, (3, "T1", "2024", "c4"): 6}
    assert _findings(stored) == [(2, "T1", "2024", "c1", "rule:c1 = c2 + c3", "12 = 10"),
                                 (3, "T1", "2024", "c4", "rule:c4 <= c1", "6 <= 5")]
    assert [f[0] for f in _findings(stored, units=[3])] == [3]
