"""A unit's report uploaded as a Word document (.docx), read section by section by its headings.

A reporting unit may write its narrative in Word rather than in the browser: the text under each
heading of the ĐỀ CƯƠNG becomes its answer to that section. Headings are recognised by their
text, whatever their style: "I- TỔ CHỨC …", "I. Tổ chức …", "1 - công tác …", "2) …", or the title
alone when Word numbers the paragraph itself (the number is then not in the text); the title is
compared without case, spacing or a closing full stop. A heading matching no section of the outline
stays in the text of the section above it (nothing is lost) and is reported; so is text before the
first heading, and text under a heading that only groups others. Paragraphs keep their bold,
italics, underline and lists; everything passes richtext.clean, as an answer typed in the browser.

The file is refused before python-docx parses anything when it is not a .docx, too large, a zip
bomb (archive.archive_problem, the limits of the .xlsx upload) or when one of its XML parts
declares a DTD (entity expansion): a Word document never does.
No Flask here: ``read_sections`` returns what it read, the warnings, or one Vietnamese refusal.
"""

from __future__ import annotations

import html
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO

import docx
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from .archive import DOCX, NOT_A_DOCUMENT, archive_problem, seekable
from .outline import Section
from .richtext import clean

XML_FORBIDDEN = ("Tệp chứa khai báo thực thể XML (DTD), điều mà Word không bao giờ ghi; có thể là tệp "
                 "độc hại nên không được mở. Hãy lưu lại báo cáo dưới dạng Word Document (.docx) rồi nộp")
BEFORE_FIRST = "Đoạn trước đề mục đầu tiên không thuộc mục nào của đề cương, không được lấy: «{text}»"
UNKNOWN_HEADING = ("Đề mục «{text}» không có trong đề cương; nội dung dưới đề mục này được gộp vào "
                   "mục «{section}»")
GROUP_ONLY = ("Đề mục «{section}» chỉ là đề mục nhóm (nội dung viết ở các mục con); đoạn dưới nó "
              "không được lấy: «{text}»")
QUOTED = 80  # characters of a paragraph quoted in a warning

_NUMBER = re.compile(r"^\s*((?:phần\s+thứ\s+\S+)|[ivxlc]+|\d+(?:\.\d+)*)\s*(?:[-–.:)]\s*|\s+)", re.IGNORECASE)
_BULLET_FORMATS = {"bullet", "none"}


@dataclass
class SectionsRead:
    answers: dict[str, str] = field(default_factory=dict)  # section code → cleaned HTML
    warnings: list[str] = field(default_factory=list)
    refusal: str | None = None  # the file was not read: why


def normalized(text: str) -> str:
    """Text compared without case, accents' encoding, spacing, dashes or a closing full stop/colon."""
    text = unicodedata.normalize("NFC", text).casefold().replace("–", "-").replace("—", "-")
    return re.sub(r"\s+", " ", text).strip().rstrip(".:;").strip()


def split_number(text: str) -> tuple[str, str]:
    """("i", "tổ chức …") of "I- Tổ chức …": the heading's number (normalized) and its title."""
    match = _NUMBER.match(text)
    if not match:
        return "", text
    return normalized(match.group(1)).rstrip("."), text[match.end():]


def read_sections(source: str | IO[bytes], sections: Sequence[Section]) -> SectionsRead:
    """The answers a unit's .docx holds for the outline's ``sections``, by their headings."""
    source = seekable(source)
    problem = archive_problem(source, DOCX) or _xml_problem(source)
    if problem:
        return SectionsRead(refusal=problem)
    try:
        document = docx.Document(source)
        paragraphs = list(document.paragraphs)
        numbering = _numbering_formats(document)
    except Exception:  # python-docx raises many kinds on a damaged package: a refusal, never a crash
        return SectionsRead(refusal=NOT_A_DOCUMENT)
    return _Reader(sections, numbering).read(paragraphs)


def _xml_problem(source: IO[bytes]) -> str | None:
    """Every XML part parsed with defusedxml (each at most archive.MAX_PART_BYTES): a DTD or an
    entity declaration refuses the file. python-docx's parser does not resolve entities, but it is
    not asked to see them at all."""
    start = source.tell()
    try:
        with zipfile.ZipFile(source) as package:
            for info in package.infolist():
                if info.filename.endswith((".xml", ".rels")):
                    try:
                        fromstring(package.read(info), forbid_dtd=True)
                    except DefusedXmlException:
                        return XML_FORBIDDEN
                    except Exception:  # not well-formed: python-docx refuses it if it reads that part
                        continue
    except Exception:
        return NOT_A_DOCUMENT
    finally:
        source.seek(start)
    return None


def _numbering_formats(document) -> dict[tuple[str, str], str]:
    """(numId, ilvl) → the number format ("bullet", "decimal" …) of Word's list numbering.
    python-docx has no API for numbering definitions: they are read from the numbering part's XML."""
    try:
        root = document.part.numbering_part.element
    except (KeyError, NotImplementedError, AttributeError):
        return {}
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    abstract = {}
    for definition in root.findall(f"{w}abstractNum"):
        for level in definition.findall(f"{w}lvl"):
            fmt = level.find(f"{w}numFmt")
            abstract[(definition.get(f"{w}abstractNumId"), level.get(f"{w}ilvl"))] = (
                fmt.get(f"{w}val") if fmt is not None else "decimal")
    formats = {}
    for num in root.findall(f"{w}num"):
        ref = num.find(f"{w}abstractNumId")
        if ref is None:
            continue
        for (abstract_id, ilvl), fmt in abstract.items():
            if abstract_id == ref.get(f"{w}val"):
                formats[(num.get(f"{w}numId"), ilvl)] = fmt
    return formats


class _Reader:
    def __init__(self, sections: Sequence[Section], numbering: dict[tuple[str, str], str]):
        self.order = [s for top in sections for s in top.walk()]
        self.numbering = numbering
        self.by_title: dict[str, list[int]] = {}
        for index, section in enumerate(self.order):
            self.by_title.setdefault(normalized(section.title), []).append(index)
            if section.number.casefold().startswith("phần"):
                self.by_title.setdefault(normalized(section.number), []).append(index)
        self.result = SectionsRead()
        self.current: int | None = None
        self.html: dict[int, list[str]] = {}

    def read(self, paragraphs) -> SectionsRead:
        for paragraph in paragraphs:
            text = paragraph.text.strip()
            if not text:
                continue
            found = self._heading(text)
            if found is not None:
                self.current = found
                continue
            if self._looks_like_heading(paragraph, text):
                self._unknown_heading(paragraph, text)
                continue
            self._add(paragraph, text)
        for index, parts in self.html.items():
            answer = clean(_joined(parts))
            if answer:
                self.result.answers[self.order[index].code] = answer
        return self.result

    def _heading(self, text: str) -> int | None:
        """The index of the section whose heading ``text`` is, or None: its title (and number, when
        the text has one) matched; among sections of the same title, the first after the current one."""
        number, title = split_number(text)
        candidates = self.by_title.get(normalized(title), []) or self.by_title.get(normalized(text), [])
        if not candidates:
            return None
        if number:
            same = [i for i in candidates if normalized(self.order[i].number).rstrip(".-") == number]
            candidates = same or candidates
        after = [i for i in candidates if self.current is None or i >= self.current]
        return (after or candidates)[0]

    def _looks_like_heading(self, paragraph, text: str) -> bool:
        """A heading the outline does not have: a heading style, or a short numbered line in bold."""
        if (paragraph.style.name or "").startswith(("Heading", "Title")):
            return True
        runs = [r for r in paragraph.runs if r.text.strip()]
        bold = bool(runs) and all(r.bold or (r.bold is None and paragraph.style.font.bold) for r in runs)
        return bold and len(text) < 200 and bool(_NUMBER.match(text))

    def _unknown_heading(self, paragraph, text: str) -> None:
        if self.current is None:
            self.result.warnings.append(BEFORE_FIRST.format(text=_quoted(text)))
            return
        section = self.order[self.current]
        self.result.warnings.append(UNKNOWN_HEADING.format(text=_quoted(text), section=_named(section)))
        self._add(paragraph, text, heading=True)

    def _add(self, paragraph, text: str, heading: bool = False) -> None:
        if self.current is None:
            self.result.warnings.append(BEFORE_FIRST.format(text=_quoted(text)))
            return
        section = self.order[self.current]
        if not section.answered:
            self.result.warnings.append(GROUP_ONLY.format(section=_named(section), text=_quoted(text)))
            return
        runs = f"<strong>{html.escape(text)}</strong>" if heading else _runs_html(paragraph)
        self.html.setdefault(self.current, []).append((self._list_kind(paragraph), runs))

    def _list_kind(self, paragraph) -> str:
        """"ul", "ol" for a list item (Word numbering, or a list style), else "p"."""
        properties = paragraph._p.pPr
        num = properties.numPr if properties is not None else None
        if num is not None and num.numId is not None:
            ilvl = num.ilvl.val if num.ilvl is not None else 0
            fmt = self.numbering.get((str(num.numId.val), str(ilvl)), "decimal")
            return "ul" if fmt in _BULLET_FORMATS else "ol"
        style = (paragraph.style.name or "").casefold()
        if style.startswith("list bullet"):
            return "ul"
        if style.startswith("list number"):
            return "ol"
        return "p"


def _runs_html(paragraph) -> str:
    """A paragraph's runs as HTML, bold, italics and underline kept (a run's own, or its style's)."""
    out = []
    for run in paragraph.runs:
        if not run.text:
            continue
        text = html.escape(run.text).replace("\n", "<br>")
        for flag, tag in ((run.underline, "u"), (run.italic, "em"), (run.bold, "strong")):
            if flag:
                text = f"<{tag}>{text}</{tag}>"
        out.append(text)
    return "".join(out)


def _joined(parts: list[tuple[str, str]]) -> str:
    """Paragraphs and list items as HTML: consecutive items of one kind in one list."""
    out, open_list = [], None
    for kind, runs in parts:
        if kind != open_list and open_list:
            out.append(f"</{open_list}>")
            open_list = None
        if kind == "p":
            out.append(f"<p>{runs}</p>")
            continue
        if open_list is None:
            out.append(f"<{kind}>")
            open_list = kind
        out.append(f"<li>{runs}</li>")
    if open_list:
        out.append(f"</{open_list}>")
    return "".join(out)


def _quoted(text: str) -> str:
    return text if len(text) <= QUOTED else text[:QUOTED - 1] + "…"


def _named(section: Section) -> str:
    return f"{section.number} {section.title}".strip()
