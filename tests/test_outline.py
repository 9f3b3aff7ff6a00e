"""The outline file: the real one holds every table as printed; broken ones are refused with the place."""

from __future__ import annotations

import textwrap

import pytest
import yaml

from webapp.domain.outline import (MAX_OUTLINE_BYTES, OUTLINE_DIR, OutlineError, decode_outline, load_outline,
                                   parse_outline, read_outline, shipped_outline, yaml_with_lines)

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
    """The problems of kl49.yaml read with its lines, then changed by ``mutate``."""
    data = yaml_with_lines(REAL.read_text(encoding="utf-8"))
    mutate(data)
    with pytest.raises(OutlineError) as info:
        parse_outline(data, "kl49.yaml")
    return info.value.problems


def _line(needle: str, after: str = "") -> int:
    """The line of kl49.yaml holding ``needle`` (the first after the line holding ``after``)."""
    lines = REAL.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i, line in enumerate(lines) if i >= start and needle in line) + 1


def _read_broken(text: str) -> list[str]:
    with pytest.raises(OutlineError) as info:
        read_outline(text, "broken.yaml")
    return info.value.problems


def _column(data, table_index, block=0, group=0, column=0):
    return data["tables"][table_index]["blocks"][block]["groups"][group]["columns"][column]


def test_unknown_column_type_is_named_with_its_place():
    problems = _broken(lambda d: _column(d, 3, 0, 1, 2).update(type="cout"))
    line = _line("key: d35_md1")
    assert problems == [f"dòng {line}: tables[3] (II.1.3) > blocks[0] > groups[1] (d35) > columns[2] (d35_md1) > type: "
                        "kiểu 'cout' không được biết (dùng một trong: choice, count, date, decimal, formula, "
                        "percent, serial, sum, target, text, unit_count, yesno)"]


def test_plain_data_is_named_by_place_without_a_line():
    data = yaml.safe_load(REAL.read_text(encoding="utf-8"))
    _column(data, 3, 0, 1, 2)["type"] = "cout"
    with pytest.raises(OutlineError) as info:
        parse_outline(data, "kl49.yaml")
    assert info.value.problems[0].startswith("tables[3] (II.1.3) > blocks[0] > groups[1] (d35) > columns[2] (d35_md1) > type:")


def test_every_mistake_is_reported_not_only_the_first():
    def mutate(d):
        del _column(d, 1, 0, 0, 1)["label"]
        d["tables"][5]["blocks"][0]["groups"][0]["owner"] = ["xaa"]
        _column(d, 1, 0, 1, 2)["over"] = "nowhere"
    problems = _broken(mutate)
    assert problems == [  # by line
        f"dòng {_line('key: xa_dat')}: tables[1] (II.1.1) > blocks[0] > groups[0] (xa) > columns[1] (xa_dat): "
        "thiếu khóa 'label'",
        f"dòng {_line('key: huyen_tyle')}: tables[1] (II.1.1) > huyen_tyle > over: cột 'nowhere' không có trong bảng",
        # the list put in place of the file's one has no line: the group's "owner" key has
        f"dòng {_line('owner: [xa]', after='code: II.1.5')}: tables[5] (II.1.5) > blocks[0] > groups[0] (xa) > owner: "
        "loại đơn vị 'xaa' không có trong unit_kinds"]


def test_rule_on_unknown_column_and_duplicate_keys():
    def mutate(d):
        d["tables"][8]["blocks"][0]["rules"][0]["check"] = "cn_dt <= cn_total"
        _column(d, 7, 0, 0, 1)["key"] = "htld_dt"
    problems = _broken(mutate)
    assert (f"dòng {_line('check: cn_dt <= cn_tong')}: tables[8] (II.1.8) > blocks[0] > rules[0] > check: "
            "cột 'cn_total' không có trong khối") in problems
    assert f"dòng {_line('key: htld_vl')}: tables[7] (II.1.7): mã cột 'htld_dt' bị trùng" in problems


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


# --- mistakes of the file itself, each named by its line ------------------------------------------

KL49 = REAL.read_text(encoding="utf-8")


def _replace(old: str, new: str, count: int = 1) -> str:
    assert old in KL49, old
    return KL49.replace(old, new, count)


def test_a_key_written_twice_in_one_mapping_is_refused():
    """yaml alone keeps the last of two equal keys without a word: a title corrected below the
    old one would silently win or lose."""
    text = _replace('    title: "1.4. Kết quả đào tạo từ xa:"\n',
                    '    title: "1.4. Kết quả đào tạo từ xa:"\n    title: "1.4. Đào tạo từ xa"\n')
    first = _line('title: "1.4.')
    assert _read_broken(text) == [
        f"dòng {first + 1}: tables[4] (II.1.4): khóa 'title' bị lặp lại (đã có ở dòng {first})"]
    # also in a flow mapping, and inside a part of the file the checks do not otherwise read
    text = _replace("{key: so_luong, label: Số lượng, type: count}",
                    "{key: so_luong, label: Số lượng, type: count, label: Số}")
    assert _read_broken(text) == [
        f"dòng {_line('key: so_luong')}: tables[4] (II.1.4) > blocks[0] > groups[0] (tu_xa) > columns[0] (so_luong): "
        f"khóa 'label' bị lặp lại (đã có ở dòng {_line('key: so_luong')})"]


def test_duplicate_and_reserved_group_keys_name_their_line():
    d60 = _line("- key: d60")
    text = _replace("          - key: d60\n", "          - key: d35\n")
    assert _read_broken(text) == [
        f"dòng {d60}: tables[3] (II.1.3) > blocks[0] > groups[2] (d35): mã nhóm cột 'd35' bị trùng trong bảng"]
    text = _replace("          - key: d60\n", "          - key: rows\n")
    assert _read_broken(text) == [
        f"dòng {d60}: tables[3] (II.1.3) > blocks[0] > groups[2] (rows): mã nhóm cột 'rows' được dành cho bảng danh sách"]
    text = _replace("          - key: d60\n            label:", "          - label:")
    assert _read_broken(text) == [f"dòng {d60}: tables[3] (II.1.3) > blocks[0] > groups[2]: "
         "thiếu khóa 'key': mỗi nhóm cột cần một mã ổn định (ví dụ key: xa); việc giao biểu và số liệu đã nhập "
         "gắn với mã này, không với vị trí của nhóm trong tệp"]


def test_a_column_without_its_key_is_named():
    text = _replace("{key: so_luong, label: Số lượng, type: count}", "{label: Số lượng, type: count}")
    assert _read_broken(text) == [
        f"dòng {_line('key: so_luong')}: tables[4] (II.1.4) > blocks[0] > groups[0] (tu_xa) > columns[0]: "
        "thiếu khóa 'key': mỗi cột cần một mã ổn định (ví dụ key: xa_tong); số liệu đã nhập gắn với mã này, "
        "không với vị trí của cột trong tệp"]


def test_version_code_and_title_of_the_outline():
    assert _read_broken(_replace("version: 2\n", "version: 0\n")) == [
        f"dòng {_line('version: 2')}: version: phiên bản phải là số nguyên từ 1 trở lên, đang là 0"]
    assert _read_broken(_replace("version: 2\n", "version: -3\n"))[0].endswith("đang là -3")
    assert _read_broken(_replace("version: 2\n", "version: '2'\n")) == [
        f"dòng {_line('version: 2')}: version: phải có kiểu int, đang là str"]
    assert _read_broken(_replace("code: kl49\n", "code: KL-49\n")) == [
        f"dòng {_line('code: kl49')}: code: mã đề cương 'KL-49' chỉ gồm chữ thường không dấu, số và '_', "
        "bắt đầu bằng chữ, tối đa 40 ký tự"]
    assert _read_broken(_replace("code: kl49\n", "code: k" + "x" * 40 + "\n"))[0].startswith(
        f"dòng {_line('code: kl49')}: code: mã đề cương")
    assert _read_broken(_replace("title: PHỤ LỤC BÁO CÁO", "title: '  '\nx: PHỤ LỤC BÁO CÁO")) == [
        f"dòng {_line('title: PHỤ LỤC')}: title: tiêu đề không được để trống",
        f"dòng {_line('title: PHỤ LỤC') + 1}: khóa không được biết 'x'"]


def test_unknown_keys_and_kinds_name_their_line():
    text = _replace("    sheet: II.1.6\n", "    sheet: II.1.6\n    colour: red\n")
    assert _read_broken(text) == [f"dòng {_line('sheet: II.1.6') + 1}: tables[6] (II.1.6): khóa không được biết 'colour'"]
    text = _replace("owner: [ldld_huyen]\n", "owner: [ldld]\n")
    assert _read_broken(text) == [
        f"dòng {_line('owner: [ldld_huyen]')}: tables[8] (II.1.8) > blocks[0] > groups[0] (cong_nhan) > owner: "
        "loại đơn vị 'ldld' không có trong unit_kinds"]
    text = _replace("of: cn_dt, over: cn_tong", "of: cn_dt, over: cn_total")
    assert _read_broken(text) == [
        f"dòng {_line('key: cn_tyle')}: tables[8] (II.1.8) > cn_tyle > over: cột 'cn_total' không có trong bảng"]


def test_not_utf8_too_large_empty_and_aliases():
    latin = KL49.encode("utf-8").replace("Tổng số xã".encode(), "T\xf4ng s\xf4 x\xe3".encode("latin-1"))
    with pytest.raises(OutlineError) as info:
        decode_outline(latin, "latin.yaml")
    line = _line("Tổng số xã")
    column = KL49.splitlines()[line - 1].index("Tổng số xã") + 2  # counted in letters, not bytes
    assert info.value.problems == [
        f"dòng {line}, cột {column}: tệp không phải văn bản UTF-8 (byte 0xF4 không đọc được); hãy lưu tệp với mã hóa UTF-8"]
    big = (KL49 + "# " + "x" * 78 + "\n" * 1 + ("# " + "y" * 77 + "\n") * 14000).encode()
    assert len(big) > MAX_OUTLINE_BYTES
    with pytest.raises(OutlineError) as info:
        decode_outline(big, "big.yaml")
    first_over = big[:MAX_OUTLINE_BYTES].count(b"\n") + 1
    assert info.value.problems[0].startswith(f"dòng {first_over}: tệp dài 1,")
    assert "vượt quá giới hạn 1 MB" in info.value.problems[0]
    # a byte-order mark and Windows line ends are read as the same text
    assert decode_outline(b"\xef\xbb\xbf" + KL49.replace("\n", "\r\n").encode()) == KL49
    assert _read_broken("") == ["dòng 1: tệp đề cương trống"]
    assert _read_broken("# only a comment\n") == ["dòng 1: tệp đề cương trống"]
    text = _replace("code: kl49\n", "code: &c kl49\nalso: *c\n")
    assert _read_broken(text) == [f"dòng {_line('code: kl49') + 1}, cột 7: YAML không hợp lệ "
                                  "(không dùng bí danh YAML (*c) trong đề cương: hãy viết đầy đủ)"]


def test_the_whole_file_is_checked_when_read(tmp_path):
    path = tmp_path / "kl49.yaml"
    path.write_bytes(KL49.encode())
    assert load_outline(path) == shipped_outline("kl49")
    path.write_bytes(b"\xff\xfe" + KL49.encode("utf-16-le"))
    with pytest.raises(OutlineError) as info:
        load_outline(path)
    assert "UTF-8" in info.value.problems[0] and "kl49.yaml" in str(info.value)
