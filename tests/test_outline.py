"""The outline file: the real one holds every table as printed; broken ones are refused with the place."""

from __future__ import annotations

import copy
import textwrap

import pytest
import yaml

from webapp.domain.outline import OUTLINE_DIR, OutlineError, shipped_outline, load_outline, parse_outline

REAL = OUTLINE_DIR / "kl49.yaml"


def test_real_outline_holds_every_table_of_the_appendix():
    outline = shipped_outline("kl49")
    assert [t.code for t in outline.tables] == [
        "I", "II.1.1", "II.1.2", "II.1.3", "II.1.4", "II.1.5", "II.1.6", "II.1.7", "II.1.8", "III"]
    assert outline.title == "PHỤ LỤC BÁO CÁO SƠ KẾT 5 NĂM THỰC HIỆN KẾT LUẬN SỐ 49-KL/TW"


def test_titles_and_headers_as_printed():
    outline = shipped_outline("kl49")
    assert outline.table("II.1.1").title == "1.1. Kết quả phổ cập giáo dục tiểu học:"  # "tiêu học" corrected
    assert [c.label for c in outline.table("I").columns] == [
        "TT", "Thể loại văn bản", "Số hiệu văn bản", "Ngày, tháng, năm ban hành", "Trích yếu văn bản",
        "Cơ quan ban hành"]
    iii = outline.table("III")
    assert len(iii.columns) == 7  # eight printed columns with "Thời gian"
    assert [g.label for g in iii.blocks[0].groups] == ["Cấp xã", "Cấp huyện", None]
    assert iii.column("xa_hoc_tap").label == "Số xã được công nhận “Xã học tập” (theo Thông tư số 25/2023/TT-BGDĐT)"
    assert [g.label for g in outline.table("II.1.5").blocks[0].groups] == [
        "Công chức cấp xã", "Công chức cấp huyện", "Công chức cấp tỉnh"]


def test_inferred_headers_are_marked():
    outline = shipped_outline("kl49")
    assert outline.table("II.1.2").inferred and outline.table("II.1.3").inferred
    t13 = outline.table("II.1.3")
    assert t13.column("mu_chu").inferred and not t13.column("d35_md1").inferred
    assert not outline.table("II.1.5").inferred


def test_types_rules_and_owners():
    outline = shipped_outline("kl49")
    t11 = outline.table("II.1.1")
    assert [c.type for c in t11.columns] == ["unit_count", "yesno", "percent"] * 2
    assert t11.column("xa_tyle").of == "xa_dat" and t11.column("xa_tyle").over == "xa_tong"
    assert t11.column("xa_dat").owner == ("xa",) and t11.column("huyen_dat").owner == ("ubnd_huyen",)
    assert outline.table("II.1.8").column("cn_tong").owner == ("ldld_huyen",)
    assert outline.table("III").column("huyen_hkh").owner == ("hkh_huyen",)
    assert outline.table("II.1.5").column("tinh_tong").owner == ("tinh",)
    rules = {(r.left, r.op, r.right, r.level) for r in outline.table("II.1.3").blocks[0].rules}
    assert ("d35_dtts", "<=", "d35_tong", "error") in rules
    assert ("huy_dong", "<=", "mu_chu", "warning") in rules
    assert outline.table("I").column("the_loai").choices[0] == "Nghị quyết"
    # one kind of unit owns every number, so one unit of a district owns each district-level cell
    for table in outline.tables:
        for column in table.columns:
            if column.is_numeric and not column.is_derived:
                assert len(column.owner) == 1, (table.code, column.key)


def _broken(mutate) -> list[str]:
    data = yaml.safe_load(REAL.read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    mutate(data)
    with pytest.raises(OutlineError) as info:
        parse_outline(data, "kl49.yaml")
    return info.value.problems


def _column(data, table_index, block=0, group=0, column=0):
    return data["tables"][table_index]["blocks"][block]["groups"][group]["columns"][column]


def test_unknown_column_type_is_named_with_its_place():
    problems = _broken(lambda d: _column(d, 3, 0, 1, 2).update(type="cout"))
    assert problems == ["tables[3] (II.1.3) > blocks[0] > groups[1] (d35) > columns[2] (d35_md1) > type: "
                        "kiểu 'cout' không được biết (dùng một trong: choice, count, date, percent, serial, "
                        "text, unit_count, yesno)"]


def test_every_mistake_is_reported_not_only_the_first():
    def mutate(d):
        del _column(d, 1, 0, 0, 1)["label"]
        d["tables"][5]["blocks"][0]["groups"][0]["owner"] = ["xaa"]
        _column(d, 1, 0, 1, 2)["over"] = "nowhere"
    problems = _broken(mutate)
    assert "tables[1] (II.1.1) > blocks[0] > groups[0] (xa) > columns[1] (xa_dat): thiếu khóa 'label'" in problems
    assert "tables[5] (II.1.5) > blocks[0] > groups[0] (xa) > owner: loại đơn vị 'xaa' không có trong unit_kinds" in problems
    assert "tables[1] (II.1.1) > huyen_tyle > over: cột 'nowhere' không có trong bảng" in problems


def test_rule_on_unknown_column_and_duplicate_keys():
    def mutate(d):
        d["tables"][8]["blocks"][0]["rules"][0]["check"] = "cn_dt <= cn_total"
        _column(d, 7, 0, 0, 1)["key"] = "htld_dt"
    problems = _broken(mutate)
    assert "tables[8] (II.1.8) > blocks[0] > rules[0] > check: cột 'cn_total' không có trong khối" in problems
    assert "tables[7] (II.1.7): mã cột 'htld_dt' bị trùng" in problems


def test_duplicate_table_code_and_bad_rule_syntax():
    def mutate(d):
        d["tables"][2]["code"] = "II.1.1"
        d["tables"][2]["sheet"] = "II.1.1"
        d["tables"][6]["blocks"][0]["rules"][0]["check"] = "ldnt_vl less than ldnt_dt"
    problems = _broken(mutate)
    assert any(p.endswith("mã bảng 'II.1.1' bị trùng") for p in problems)
    assert any("không hiểu 'ldnt_vl less than ldnt_dt'" in p for p in problems)


def test_a_number_owned_by_two_kinds_is_refused():
    problems = _broken(lambda d: d["tables"][8]["blocks"][0]["groups"][0].update(owner=["ldld_huyen", "xa"]))
    assert any("một cột số phải do đúng một loại đơn vị điền" in p and "(cn_tong)" in p for p in problems)


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(textwrap.dedent("""\
        code: x
        version: 1
        tables:
          - code: [unclosed
        """), encoding="utf-8")
    with pytest.raises(OutlineError) as info:
        load_outline(path)
    assert info.value.problems[0].startswith("dòng 5") or info.value.problems[0].startswith("dòng 4")
    assert "bad.yaml" in str(info.value)


def test_not_a_mapping_and_missing_tables():
    with pytest.raises(OutlineError) as info:
        parse_outline(["not", "a", "mapping"])
    assert "phải là một bảng khóa: giá trị (mapping)" in info.value.problems[0]
    with pytest.raises(OutlineError) as info:
        parse_outline({"code": "x", "version": 1, "title": "T", "unit_kinds": {"xa": "Xã"}, "tables": []})
    assert info.value.problems == ["tables: không có bảng nào"]


def test_a_place_is_labelled_in_the_printed_words():
    table = shipped_outline("kl49").table("II.1.5")
    years = [2019, 2020]
    assert table.place_label(years) == "Biểu II.1.5"
    assert table.place_label(years, "2020", "xa_dt") == "Biểu II.1.5 · Năm 2020 · Công chức cấp xã › Số được đào tạo, bồi dưỡng"
    assert table.place_label(years, "1999", "gone") == "Biểu II.1.5 · 1999 · gone"  # unknown keys as they are
    assert shipped_outline("kl49").table("I").place_label(years, "57") == "Biểu I · văn bản mã 57"
