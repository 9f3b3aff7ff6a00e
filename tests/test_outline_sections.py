"""The narrative report's headings in an outline (``sections:``): read with their keys, numbers,
titles, guidance and children; broken ones refused naming the line and place; kl49's version 2
holds every numbered heading of the ĐỀ CƯƠNG BÁO CÁO of seed 004, version 1 stays as stored."""

from __future__ import annotations

import hashlib
import textwrap

import pytest

from webapp.domain.outline import OUTLINE_DIR, OutlineError, load_outline, read_outline, shipped_outline

HEAD = textwrap.dedent("""\
    code: t
    version: 1
    title: T
    unit_kinds: {xa: Xã}
    tables:
      - code: A
        title: Bảng A
        blocks:
          - rows: periods
            groups:
              - key: g
                owner: [xa]
                columns: [{key: n, label: N, type: count}]
    """)


def outline_with(sections: str):
    return read_outline(HEAD + textwrap.dedent(sections), "t.yaml")


def problems(sections: str) -> list[str]:
    with pytest.raises(OutlineError) as exc:
        outline_with(sections)
    return exc.value.problems


def test_sections_are_read_with_children_and_answered_defaults():
    outline = outline_with("""\
        sections:
          - key: p1
            number: Phần thứ nhất
            title: TÌNH HÌNH
            sections:
              - key: p1_i
                number: "I-"
                title: TỔ CHỨC
                guidance: |
                  Đánh giá chung.

                  - một
                  - hai
                sections:
                  - {key: p1_i_1, number: "1.", title: Nghiên cứu}
                  - {key: p1_i_2, number: "2.", title: Kiểm tra, answered: false}
              - {key: p1_iii, number: "III-", title: ĐÁNH GIÁ CHUNG, answered: true, sections: [{key: x, number: "1.", title: Ưu điểm}]}
        """)
    (p1,) = outline.sections
    assert (p1.code, p1.number, p1.title, p1.answered) == ("p1", "Phần thứ nhất", "TÌNH HÌNH", False)
    i = p1.children[0]
    assert i.guidance_blocks() == [("p", "Đánh giá chung."), ("ul", ["một", "hai"])]
    assert [(s.code, s.answered) for s in outline.all_sections()] == [
        ("p1", False), ("p1_i", False), ("p1_i_1", True), ("p1_i_2", False), ("p1_iii", True), ("x", True)]
    assert i.children[0].heading == "1. Nghiên cứu"


def test_an_outline_without_sections_has_none():
    assert outline_with("").sections == ()


def test_mistakes_name_line_and_place():
    found = problems("""\
        sections:
          - key: p1
            number: Phần thứ nhất
            title: ""
            sections:
              - {number: "1.", title: A}
              - {key: P-2, number: "2.", title: B, note: x}
              - {key: p1, number: 3, title: C}
              - {key: p4, number: "4.", title: D, answered: "có"}
          - key: p5
            title: E
            sections: []
        """)
    text = "\n".join(found)
    assert "dòng 17: sections[0] (p1) > title: không được để trống" in text
    assert "dòng 19: sections[0] (p1) > sections[0]: thiếu khóa 'key'" in text
    assert "dòng 20: sections[0] (p1) > sections[1] (P-2): mã mục 'P-2' chỉ gồm chữ thường" in text
    assert "dòng 20: sections[0] (p1) > sections[1] (P-2): khóa không được biết 'note'" in text
    assert "dòng 21: sections[0] (p1) > sections[2] (p1): mã mục 'p1' bị trùng" in text
    assert "dòng 21: sections[0] (p1) > sections[2] (p1) > number: phải có kiểu str, đang là int" in text
    assert "dòng 22: sections[0] (p1) > sections[3] (p4) > answered: phải có kiểu bool, đang là str" in text
    assert "dòng 23: sections[1] (p5): thiếu khóa 'number'" in text
    assert "dòng 25: sections[1] (p5) > sections: cần ít nhất một mục" in text


def test_sections_must_be_a_list_of_mappings_and_titles_one_line():
    assert problems("sections: {a: 1}\n") == ["dòng 14: sections: phải có kiểu list, đang là MarkedDict"]
    found = problems("""\
        sections:
          - just text
          - {key: a, number: "1.", title: "x\\ny"}
        """)
    assert found[0].startswith("dòng 15: sections[0]: phải là một bảng khóa")
    assert found[1] == "dòng 16: sections[1] (a) > title: phải nằm trên một dòng, không có ký tự điều khiển"


# --- kl49 ---------------------------------------------------------------------------------------

def test_kl49_version_1_is_kept_byte_for_byte_beside_version_2():
    """Stored databases hold kl49@1: its text (so its digest) must never change."""
    v1 = (OUTLINE_DIR / "kl49-v1.yaml").read_bytes()
    assert hashlib.sha256(v1).hexdigest() == "faffa7139e1bf8e7a60479de84b4ff04774f3bb3b528513e984ade045cbbf020"
    old, new = load_outline(OUTLINE_DIR / "kl49-v1.yaml"), shipped_outline("kl49")
    assert (old.version, new.version) == (1, 2)
    assert old.sections == () and old.tables == new.tables and old.checks == new.checks
    assert old.unit_kinds == new.unit_kinds and old.title == new.title


KL49_HEADINGS = [
    ("Phần thứ nhất", "TÌNH HÌNH, KẾT QUẢ TRIỂN KHAI THỰC HIỆN KẾT LUẬN SỐ 49-KL/TW", False),
    ("I-", "TỔ CHỨC TRIỂN KHAI KẾT LUẬN SỐ 49-KL/TW", False),
    ("1.", "Công tác nghiên cứu, phổ biến, quán triệt, tổ chức triển khai Kết luận số 49-KL/TW ở cơ quan, đơn vị.", True),
    ("2.", "Công tác kiểm tra, giám sát, khảo sát Kết luận số 49-KL/TW ở cơ quan, đơn vị.", True),
    ("II-", "KẾT QUẢ THỰC HIỆN KẾT LUẬN SỐ 49-KL/TW; KẾ HOẠCH 333-KH/TU, NGÀY 27/11/2019 CỦA TỈNH ỦY", False),
    ("1.", "Sự lãnh đạo của Đảng, sự quản lý của Nhà nước", True),
    ("2.", "Công tác tuyên truyền và đổi mới công tác tuyên truyền", True),
    ("3.", "Vai trò của các tổ chức chính trị - xã hội, xã hội nghề nghiệp và tổ chức xã hội", True),
    ("4.", "Phát triển tổ chức, nâng cao chất lượng hoạt động và đa dạng các mô hình học tập, chú trọng đào tạo từ xa",
     True),
    ("5.", "Tiếp tục xóa mù chữ cho người lớn, thực hiện chế độ đào tạo, bồi dưỡng bắt buộc đối với cán bộ, công chức, "
           "viên chức và người lao động", True),
    ("6.", "Đổi mới cơ chế tài chính, đẩy mạnh xã hội hóa công tác khuyến học, khuyến tài, xây dựng công dân học tập, "
           "đơn vị học tập và tỉnh, thành phố học tập; tăng cường hợp tác quốc tế", True),
    ("III-", "ĐÁNH GIÁ CHUNG", False),
    ("1.", "Ưu điểm.", True),
    ("2.", "Tồn tại, hạn chế.", True),
    ("3.", "Nguyên nhân.", True),
    ("4.", "Một số kinh nghiệm.", True),
    ("Phần thứ hai", "NHIỆM VỤ VÀ GIẢI PHÁP ĐẨY MẠNH CÔNG TÁC KHUYẾN HỌC, KHUYẾN TÀI, XÂY DỰNG XÃ HỘI HỌC TẬP", False),
    ("1.", "Bối cảnh và những vấn đề đặt ra đối với công tác khuyến học, khuyến tài, xây dựng xã hội học tập thời "
           "gian tới", False),
    ("1.1.", "Bối cảnh.", True),
    ("1.2.", "Những vấn đề đặt ra.", True),
    ("2.", "Nhiệm vụ và giải pháp", True),
    ("3.", "Kiến nghị, đề xuất", True),
]


def test_kl49_version_2_holds_every_numbered_heading_as_printed():
    sections = shipped_outline("kl49").all_sections()
    assert [(s.number, s.title, s.answered) for s in sections] == KL49_HEADINGS
    assert len({s.code for s in sections}) == len(sections)


def test_kl49_guidance_as_printed():
    by_title = {s.title: s for s in shipped_outline("kl49").all_sections()}
    tuyen_truyen = by_title["Công tác tuyên truyền và đổi mới công tác tuyên truyền"].guidance_blocks()
    assert tuyen_truyen[0][1].startswith("Quán triệt, tuyên truyền về các nhiệm vụ, giải pháp trong Kết luận số 49-KL/TW;")
    assert tuyen_truyen[1][1].startswith("Lưu ý: nhấn mạnh việc đổi mới hình thức tuyên truyền;")
    to_chuc = by_title["Phát triển tổ chức, nâng cao chất lượng hoạt động và đa dạng các mô hình học tập, chú trọng "
                       "đào tạo từ xa"].guidance_blocks()
    assert to_chuc[0][0] == "ul" and len(to_chuc[0][1]) == 3
    assert [kind for kind, _ in by_title["Đổi mới cơ chế tài chính, đẩy mạnh xã hội hóa công tác khuyến học, khuyến tài, "
                                         "xây dựng công dân học tập, đơn vị học tập và tỉnh, thành phố học tập; tăng "
                                         "cường hợp tác quốc tế"].guidance_blocks()] == ["ul"]
    assert by_title["ĐÁNH GIÁ CHUNG"].guidance == ("Đánh giá khái quát, toàn diện những kết quả thực hiện sau 5 năm "
                                                   "thực hiện Kết luận số 49-KL/TW.")
    assert by_title["Kiến nghị, đề xuất"].guidance_blocks() == [
        ("ul", ["Với các sở, ban ngành của tỉnh;", "Ủy ban nhân dân tỉnh;"])]
    assert "xây dựng xã hội học tập, bảo đảm mọi người dân" in by_title["Nhiệm vụ và giải pháp"].guidance
