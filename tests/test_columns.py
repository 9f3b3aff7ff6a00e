"""Column types (webapp/domain/columns.py): each type's parse, show, stored form, Excel format,
validation and formula, and the row values (targets, sums, formulas) they give together."""

from decimal import Decimal

import pytest

from webapp.domain.columns import TYPES, ValueProblem, format_number, row_values
from webapp.domain.outline import Column, OutlineError, parse_outline


def col(ctype: str, **fields) -> Column:
    return Column(key=fields.pop("key", "c"), label=fields.pop("label", "Cột"), type=ctype, owner=("xa",), **fields)


def test_every_type_is_one_class_named_by_its_type():
    assert set(TYPES) == {"count", "decimal", "yesno", "text", "date", "choice", "percent", "sum", "formula",
                          "target", "unit_count", "serial"}
    assert {name: cls.role for name, cls in TYPES.items() if cls.role != "input"} == {
        "percent": "derived", "sum": "derived", "formula": "derived",
        "target": "fixed", "unit_count": "fixed", "serial": "fixed"}
    assert {name for name, cls in TYPES.items() if cls.summed} == {"count", "decimal", "yesno", "unit_count"}


@pytest.mark.parametrize("raw, num", [("1.234", 1234), ("1 234", 1234), (12, 12), (12.0, 12), ("0", 0)])
def test_a_count_reads_vietnamese_thousands(raw, num):
    assert col("count").kind.parse(raw).num == num


@pytest.mark.parametrize("raw, message", [("-5", "Không được là số âm"), ("12,5", "Phải là số nguyên"),
                                          ("hai", "Phải là một số nguyên không âm")])
def test_a_count_refuses_what_is_no_whole_number(raw, message):
    with pytest.raises(ValueProblem, match=message):
        col("count").kind.parse(raw)


@pytest.mark.parametrize("raw, stored", [("80,5", 805), ("80.5", 805), ("1.234,5", 12345), ("1 234,5", 12345),
                                         ("1,234.5", 12345), (80.5, 805), (0.1 + 0.2, 3), (7, 70), ("100", 1000)])
def test_a_decimal_is_read_in_every_style_and_stored_scaled(raw, stored):
    assert col("decimal", decimals=1).kind.parse(raw).num == stored


def test_a_decimal_is_shown_back_as_typed_and_scales_both_ways():
    kind = col("decimal", decimals=2).kind
    parsed = kind.parse("1.234,56")
    assert parsed.num == 123456
    assert kind.value(parsed.num) == Decimal("1234.56")
    assert kind.show_stored(parsed.num, None) == "1.234,56"
    assert kind.stored(Decimal("0.5")) == 50
    assert col("decimal", decimals=1).kind.show_stored(805, None) == "80,5"


@pytest.mark.parametrize("raw, message", [("80,55", "Tối đa 1 chữ số thập phân"), ("-1", "Không được là số âm"),
                                          ("100,1", "Không được lớn hơn 100,0"), ("tám", "Phải là một số")])
def test_a_decimal_refuses_more_places_negatives_and_its_bounds(raw, message):
    with pytest.raises(ValueProblem, match=message):
        col("decimal", decimals=1, maximum=Decimal(100)).kind.parse(raw)


def test_a_decimals_excel_format_validation_and_input():
    kind = col("decimal", decimals=2, minimum=Decimal(1), maximum=Decimal(5)).kind
    assert kind.excel_format()["num_format"] == "#,##0.00"
    rule = kind.validation(lambda choices: choices)
    assert (rule["validate"], rule["minimum"], rule["maximum"]) == ("decimal", 1, 5)
    assert kind.excel_value(150, None) == 1.5
    assert kind.input_attrs == {"class": "cell num dec", "inputmode": "decimal", "pattern": "[0-9., ]*"}
    assert col("count").kind.input_attrs == {"class": "cell num", "inputmode": "numeric"}
    assert col("count").kind.validation(None)["validate"] == "integer"


def test_yes_no_is_one_or_zero_shown_as_words_and_counted_when_assembled():
    kind = col("yesno").kind
    assert (kind.parse("có").num, kind.parse("Không").num) == (1, 0)
    assert (kind.show_stored(1, None), kind.show_stored(0, None)) == ("Có", "Không")
    assert kind.show_stored(1234, None, assembled=True) == "1.234"
    assert kind.excel_value(1, None, as_text=True) == "Có" and kind.excel_value(1, None) == 1


def test_text_date_and_choice():
    assert col("text", max_length=5).kind.parse(" ghi  ").text == "ghi"
    with pytest.raises(ValueProblem, match="Dài quá 5"):
        col("text", max_length=5).kind.parse("dài quá")
    date = col("date").kind
    assert date.parse("03/05/2024").text == "2024-05-03" and date.show(None, "2024-05-03") == "03/05/2024"
    assert date.excel_format()["num_format"] == "dd/mm/yyyy"
    choice = col("choice", choices=("Tập thể", "Cá nhân")).kind
    assert choice.parse("tập thể").text == "Tập thể" and choice.widget == "select"
    with pytest.raises(ValueProblem, match="Chọn một trong"):
        choice.parse("Khác")


def test_a_rate_recomputes_rounds_half_up_and_writes_its_formula():
    kind = col("percent", of="a", over="b").kind
    assert kind.compute({"a": 1, "b": 8}) == Decimal("12.50")
    assert kind.compute({"a": 1, "b": 0}) is None and kind.compute({"a": None, "b": 3}) is None
    assert kind.formula(lambda k: {"a": "B5", "b": "C5"}[k]) == '=IF(OR(B5="",C5="",C5=0),"",ROUND(B5/C5*100,2))'
    assert kind.number_text({"a": 1, "b": 2}, 3) == "3=1/2*100"
    assert kind.show(Decimal("59.7234")) == "59,72"


def test_a_sum_adds_its_columns_blank_when_all_are_and_sums_in_excel():
    kind = col("sum", sum_of=("a", "b", "c")).kind
    assert kind.compute({"a": 2, "b": None, "c": Decimal("1.5")}) == Decimal("3.5")
    assert kind.compute({"a": None, "b": None, "c": None}) is None
    assert kind.formula(lambda k: {"a": "B5", "b": "C5", "c": "D5"}[k]) == '=IF(COUNT(B5,C5,D5)=0,"",SUM(B5,C5,D5))'
    assert kind.number_text({"a": 2, "b": 3, "c": 4}, 1) == "1=2+3+4"


def test_a_formula_is_exact_rounds_half_up_and_is_blank_on_division_by_zero_or_an_empty_operand():
    kind = col("formula", formula="c6 / c3 * 100").kind
    assert kind.decimals == 2
    assert kind.compute({"c6": 1, "c3": 8}) == Decimal("12.50")
    assert kind.compute({"c6": 1, "c3": 3}) == Decimal("33.33")
    assert col("formula", formula="a / b", decimals=1).kind.compute({"a": Decimal("0.25"), "b": 1}) == Decimal("0.3")
    assert kind.compute({"c6": 1, "c3": 0}) is None and kind.compute({"c6": None, "c3": 3}) is None
    formula = kind.formula(lambda k: {"c6": "G5", "c3": "D5"}[k])
    assert formula == '=IF(OR(G5="",D5=""),"",IFERROR(ROUND(G5/D5*100,2),""))'
    assert kind.show(Decimal("33.33")) == "33,33"


def test_a_target_is_the_outlines_constant_per_row_or_per_kind_of_the_compiling_unit():
    per_row = col("target", targets=(("", (("2025", Decimal(80)), ("2030", Decimal("85.5")))),)).kind
    assert (per_row.constant("2025"), per_row.constant("2030"), per_row.constant("2019")) == (80, Decimal("85.5"), None)
    assert per_row.decimals == 1 and per_row.show(Decimal(80)) == "80,0"
    assert not per_row.summed and not per_row.is_input
    by_kind = col("target", targets=(("tinh", (("2025", Decimal(80)),)), ("huyen", (("2025", Decimal(75)),)))).kind
    assert (by_kind.constant("2025", "huyen"), by_kind.constant("2025", "tinh"), by_kind.constant("2025")) == (75, 80, None)


def test_a_unit_of_measure_is_printed_in_the_header():
    assert col("decimal", label="Tỷ lệ", unit="%").header == "Tỷ lệ (%)"
    assert col("count", label="Số người").header == "Số người"


def test_row_values_scale_fill_targets_and_compute_what_reads_what():
    columns = [col("count", key="n1"), col("count", key="n2"), col("sum", key="tong", sum_of=("n1", "n2")),
               col("formula", key="tl", formula="n1 / tong * 100"), col("decimal", key="d", decimals=1),
               col("target", key="mt", targets=(("", (("2025", Decimal(80)),)),))]
    values = row_values(columns, {"n1": 1, "n2": 2, "d": 805}, "2025")
    assert values == {"n1": 1, "n2": 2, "tong": 3, "tl": Decimal("33.33"), "d": Decimal("80.5"), "mt": 80}


def test_format_number_is_vietnamese():
    assert format_number(1234567) == "1.234.567" and format_number(Decimal("59.725"), 2) == "59,73"


def _outline(columns, **block):
    return {"code": "x", "version": 1, "title": "X", "unit_kinds": {"xa": "Xã"},
            "tables": [{"code": "T", "title": "T", "blocks": [{"rows": "periods", **block, "groups": [
                {"key": "g", "owner": ["xa"], "columns": columns}]}]}]}


def _problems(columns, **block) -> list[str]:
    with pytest.raises(OutlineError) as info:
        parse_outline(_outline(columns, **block))
    return info.value.problems


def test_the_outline_checks_each_types_own_keys():
    problems = _problems([
        {"key": "a", "label": "A", "type": "count"},
        {"key": "b", "label": "B", "type": "decimal", "decimals": 7},
        {"key": "c", "label": "C", "type": "sum", "of": ["a", "zz"]},
        {"key": "d", "label": "D", "type": "formula", "formula": "a / (b"},
        {"key": "e", "label": "E", "type": "target"},
        {"key": "f", "label": "F", "type": "count", "formula": "a + 1"},
        {"key": "g", "label": "G", "type": "formula", "formula": "a + qq"},
        {"key": "h", "label": "H", "type": "formula", "formula": "h2 + 1"},
        {"key": "h2", "label": "H2", "type": "formula", "formula": "h * 2"},
    ])
    assert any("(b) > decimals: phải là số nguyên từ 1 đến 4" in p for p in problems)
    assert any("c > of: cột 'zz' không có trong khối" in p for p in problems)
    assert any("(d) > formula: " in p and "thiếu dấu ')'" in p for p in problems)
    assert any("(e) > targets: cột mục tiêu cần đúng một trong hai khóa" in p for p in problems)
    assert any("(f) > formula: chỉ cột kiểu formula có khóa này" in p for p in problems)
    assert any("g > formula: cột 'qq' không có trong khối" in p for p in problems)
    assert any(p.startswith("tables[0] (T) > h: công thức vòng quanh") for p in problems)


def test_a_sum_takes_the_places_of_its_operands():
    outline = parse_outline(_outline([{"key": "a", "label": "A", "type": "count"},
                                      {"key": "b", "label": "B", "type": "decimal", "decimals": 2},
                                      {"key": "s", "label": "S", "type": "sum", "of": ["a", "b"]}]))
    assert outline.tables[0].column("s").kind.decimals == 2


def test_a_date_whose_format_a_sheet_lost_is_read_from_its_serial():
    assert col("date").kind.parse(45415).text == "2024-05-03"
    assert col("date").kind.parse(45415.75).text == "2024-05-03"
    with pytest.raises(ValueProblem, match="Năm của ngày"):
        col("date").kind.parse(3)
