"""Checks on an uploaded file before any spreadsheet library parses it: size, kind, zip bombs.

An .xlsx file is a zip archive. Everything here is judged from the file's first bytes, the end of
central directory record and the central directory (``zipfile.ZipFile.infolist()``): the sizes the
archive *declares*, without decompressing anything, so a hostile file is refused quickly and in
bounded memory. Declared sizes are enough: when openpyxl later reads an entry, ``zipfile`` stops at
the declared size and a longer stream fails its CRC check, so an entry cannot expand beyond what
was checked here.

The same limits hold for a unit's report uploaded as a Word document (.docx, also a zip archive):
``archive_problem(source, DOCX)`` words the refusals for that kind of file.

No Flask here: ``archive_problem`` returns a Vietnamese message, or None when the file may be opened.
"""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
import zipfile
from dataclasses import dataclass
from typing import IO, Any

from defusedxml.ElementTree import fromstring
from openpyxl.packaging.manifest import Manifest
from openpyxl.reader.excel import _find_workbook_part  # openpyxl's own way to the workbook part

MB = 1024 * 1024
MAX_FILE_BYTES = 10 * MB  # compressed, as uploaded; the app's templates are about 25 KB
MAX_UNPACKED_BYTES = 100 * MB  # declared uncompressed total; templates unpack to about 180 KB
MAX_ENTRIES = 1000  # parts in the archive; templates have about 20 (one per sheet, styles, ...)
MAX_RATIO = 100  # uncompressed : compressed, of each entry above RATIO_FLOOR
# The ratio is judged per entry, and only for entries that unpack to more than RATIO_FLOOR.
# Per entry, because a bomb can pad one huge highly compressed sheet with incompressible filler
# (an image) so that the archive as a whole looks ordinary. Only large entries, because a small
# repetitive part (styles, content types, an empty sheet) may legitimately compress better than
# 100:1 and can do no harm: even at deflate's maximum (about 1000:1) it stays under the floor.
# Genuine templates, the app's own and re-saved by LibreOffice, stay below 20:1 per entry (about
# 6:1 overall), far from the limit; deflated zeros or spaces, the stuff of bombs, reach 1000:1.
RATIO_FLOOR = 1 * MB
# The central directory is read whole by zipfile and becomes one object per entry: it is bounded
# before zipfile parses it, since its entry count (in the end record) could be a lie. A genuine
# entry takes well under 256 bytes (46 bytes, a short name, a small extra field).
MAX_DIRECTORY_BYTES = MAX_ENTRIES * 256
# Every part, whatever its name, unpacks to at most MAX_PART_BYTES: what one part may cost the XML
# parser is bounded by what a template can hold, not only by the 100 MB total. The app's templates
# and appendix have no part over 50 KB (70 KB re-saved by LibreOffice); a list of 2000 documents
# with long summaries (the most a template takes) makes a sheet or sharedStrings.xml of about
# 2.5 MB. Without it, one sheet of 99 MB of empty cells (8 MB compressed, 12:1) took openpyxl
# 40 s and 1.8 GB of memory. Names prove nothing (openpyxl follows relationships, so a worksheet
# may be called image.png), hence every entry.
MAX_PART_BYTES = 4 * MB
MAX_SHEETS = 100  # the app's templates have 12 sheets, its appendix 22

EMPTY = "Tệp tải lên rỗng (0 byte); hãy chọn lại tệp Excel đã điền"
TOO_LARGE = ("Tệp quá lớn ({size}); chỉ nhận tệp tối đa {limit} MB, trong khi mẫu Excel của ứng dụng "
             "chỉ khoảng vài chục KB. Hãy tải mẫu mới, điền lại rồi nộp")
NOT_A_WORKBOOK = ("Tệp tải lên không phải là sổ tính Excel (.xlsx) đọc được; "
                  "hãy lưu lại dưới dạng Excel Workbook (.xlsx) rồi thử lại")
OLD_OR_LOCKED = ("Tệp này là sổ tính Excel 97–2003 (.xls) hoặc sổ tính có đặt mật khẩu mở; hãy lưu lại "
                 "dưới dạng Excel Workbook (.xlsx), không đặt mật khẩu, rồi thử lại")
PDF = "Tệp này là tệp PDF, không phải sổ tính Excel (.xlsx); hãy nộp chính tệp mẫu Excel đã điền"
WORD = ("Tệp này là văn bản Word (.docx) được đổi tên thành .xlsx, không phải sổ tính Excel; "
        "hãy nộp chính tệp mẫu Excel đã điền")
ODS = "Tệp này là sổ tính OpenDocument (.ods); hãy lưu lại dưới dạng Excel Workbook (.xlsx) rồi thử lại"
SUSPICIOUS = "Tệp có cấu trúc bất thường ({what}); có thể là tệp độc hại nên không được mở. " \
             "Hãy tải mẫu mới, điền lại rồi nộp"
TOO_MANY_ENTRIES = "chứa quá nhiều thành phần nén, tối đa {limit}"
TOO_BIG_UNPACKED = "khi giải nén lên tới {size}, tối đa {limit} MB"
TOO_COMPRESSED = "thành phần {name} nén với tỷ lệ {ratio}:1, tối đa {limit}:1"
TOO_MANY_SHEETS = "sổ tính liệt kê {count} trang tính, tối đa {limit}"
TOO_BIG_PART = "thành phần {name} khi giải nén lên tới {size}, tối đa {limit} MB mỗi thành phần"

# A Word document (.docx) instead: a unit's narrative report (docx_sections.py)
DOCX_EMPTY = "Tệp tải lên rỗng (0 byte); hãy chọn lại tệp Word (.docx) của báo cáo"
DOCX_TOO_LARGE = ("Tệp quá lớn ({size}); chỉ nhận tệp tối đa {limit} MB. Hãy lưu báo cáo không kèm hình ảnh "
                  "lớn, dưới dạng Word Document (.docx), rồi nộp lại")
NOT_A_DOCUMENT = ("Tệp tải lên không phải là văn bản Word (.docx) đọc được; "
                  "hãy lưu lại dưới dạng Word Document (.docx) rồi thử lại")
DOC_OLD_OR_LOCKED = ("Tệp này là văn bản Word 97–2003 (.doc) hoặc văn bản có đặt mật khẩu mở; hãy lưu lại "
                     "dưới dạng Word Document (.docx), không đặt mật khẩu, rồi thử lại")
DOC_PDF = "Tệp này là tệp PDF, không phải văn bản Word (.docx); hãy nộp chính tệp Word của báo cáo"
DOC_EXCEL = ("Tệp này là sổ tính Excel, không phải văn bản Word (.docx); số liệu nộp bằng mẫu Excel ở trang "
             "nhập tệp Excel, báo cáo bằng tệp Word")
ODT = "Tệp này là văn bản OpenDocument (.odt); hãy lưu lại dưới dạng Word Document (.docx) rồi thử lại"
DOC_SUSPICIOUS = "Tệp có cấu trúc bất thường ({what}); có thể là tệp độc hại nên không được mở. " \
                 "Hãy lưu lại báo cáo dưới dạng Word Document (.docx) rồi nộp"


@dataclass(frozen=True)
class FileKind:
    """What an upload must be (an Office Open XML package with parts under ``folder``), and the
    words of each refusal for that kind of file; the limits are the same for every kind."""

    folder: str
    empty: str
    too_large: str
    unreadable: str
    old_or_locked: str
    pdf: str
    suspicious: str
    others: tuple[tuple[str, str], ...]  # (a part folder, or an ODF mimetype, of another kind; its message)


XLSX = FileKind("xl/", EMPTY, TOO_LARGE, NOT_A_WORKBOOK, OLD_OR_LOCKED, PDF, SUSPICIOUS,
                (("application/vnd.oasis.opendocument.spreadsheet", ODS), ("word/", WORD)))
DOCX = FileKind("word/", DOCX_EMPTY, DOCX_TOO_LARGE, NOT_A_DOCUMENT, DOC_OLD_OR_LOCKED, DOC_PDF, DOC_SUSPICIOUS,
                (("application/vnd.oasis.opendocument.text", ODT), ("xl/", DOC_EXCEL)))

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and any password-encrypted .xlsx
EOCD = b"PK\x05\x06"  # end of central directory record
EOCD_SIZE = 22
MAX_COMMENT = 0xFFFF
ZIP64_LOCATOR = b"PK\x06\x07"
ZIP64_LOCATOR_SIZE = 20
ZIP64_EOCD = b"PK\x06\x06"
ZIP64_EOCD_SIZE = 56


def archive_problem(source: str | os.PathLike | IO[bytes], kind: FileKind = XLSX) -> str | None:
    """Why the file must not be opened as a workbook (``kind``: as that kind of file), or None.
    A file object is left at offset 0."""
    if isinstance(source, (str, os.PathLike)):
        try:
            with open(source, "rb") as fp:
                return _problem(fp, kind)
        except OSError:  # a directory, a file that cannot be read: as before, not a workbook
            return kind.unreadable
    start = source.tell()
    try:
        return _problem(source, kind)
    finally:
        source.seek(start)


def seekable(source: Any) -> Any:
    """``source`` itself when it is a path or a seekable file, else its content (at most one byte
    over the limit, enough to refuse it) in a temporary file spooled to disk past 1 MB."""
    if isinstance(source, (str, os.PathLike)) or (hasattr(source, "seekable") and source.seekable()):
        return source
    spool = tempfile.SpooledTemporaryFile(max_size=MB)
    shutil.copyfileobj(_Limited(source, MAX_FILE_BYTES + 1), spool)
    spool.seek(0)
    return spool


class _Limited:
    def __init__(self, raw: IO[bytes], left: int):
        self.raw, self.left = raw, left

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        data = self.raw.read(n) if n else b""
        self.left -= len(data)
        return data


def _problem(fp: IO[bytes], kind: FileKind) -> str | None:
    size = fp.seek(0, os.SEEK_END)
    if size == 0:
        return kind.empty
    if size > MAX_FILE_BYTES:
        return kind.too_large.format(size=size_text(size), limit=MAX_FILE_BYTES // MB)
    fp.seek(0)
    head = fp.read(8)
    if head == OLE2_MAGIC:
        return kind.old_or_locked
    if head.startswith(b"%PDF"):
        return kind.pdf
    directory = _directory_bounds(fp, size)
    if directory is None:
        return kind.unreadable
    entries, directory_bytes = directory
    if entries > MAX_ENTRIES or directory_bytes > MAX_DIRECTORY_BYTES:
        return kind.suspicious.format(what=TOO_MANY_ENTRIES.format(limit=MAX_ENTRIES))
    fp.seek(0)
    try:
        with zipfile.ZipFile(fp) as archive:
            infos = archive.infolist()
            mimetype = _small_entry(archive, "mimetype")
            problem = _bomb_problem(infos, kind) or _kind_problem({i.filename for i in infos}, mimetype, kind)
            return problem or (_sheet_count_problem(archive) if kind is XLSX else None)
    except Exception:  # zipfile raises many kinds on a damaged archive: a refusal, never a crash
        return kind.unreadable


def _sheet_count_problem(archive: zipfile.ZipFile) -> str | None:
    """A workbook part listing more sheets than a template could have. openpyxl looks into every
    sheet the workbook lists when it opens the file, so thousands of entries pointing at one sheet
    would cost as much as thousands of sheets. The workbook part is found as openpyxl finds it
    (its own manifest reader), both parts are parsed with defusedxml (each at most MAX_PART_BYTES),
    and every element named ``sheet``, in any namespace, counts."""
    try:
        manifest = Manifest.from_tree(fromstring(archive.read("[Content_Types].xml")))
        part = _find_workbook_part(manifest).PartName.lstrip("/")
        root = fromstring(archive.read(part))
    except Exception:  # what openpyxl cannot read either: refused when it tries (not a workbook, XML bomb)
        return None
    count = sum(1 for element in root.iter() if isinstance(element.tag, str) and element.tag.rpartition("}")[2] == "sheet")
    if count > MAX_SHEETS:
        return SUSPICIOUS.format(what=TOO_MANY_SHEETS.format(count=count, limit=MAX_SHEETS))
    return None


def _directory_bounds(fp: IO[bytes], size: int) -> tuple[int, int] | None:
    """The entry count and central directory size the archive declares, read as zipfile reads them
    (the last end record in the file's last 64 KB, superseded by a ZIP64 end record right before
    it), or None when there is no end record."""
    tail_size = min(size, EOCD_SIZE + MAX_COMMENT)
    fp.seek(size - tail_size)
    tail = fp.read(tail_size)
    at = tail.rfind(EOCD)
    if at < 0 or len(tail) - at < EOCD_SIZE:
        return None
    *_, entries, directory_bytes, _, _ = struct.unpack("<4s4H2LH", tail[at:at + EOCD_SIZE])
    eocd = size - tail_size + at
    if eocd >= ZIP64_LOCATOR_SIZE + ZIP64_EOCD_SIZE:
        fp.seek(eocd - ZIP64_LOCATOR_SIZE - ZIP64_EOCD_SIZE)
        record = fp.read(ZIP64_EOCD_SIZE + ZIP64_LOCATOR_SIZE)
        if record[ZIP64_EOCD_SIZE:ZIP64_EOCD_SIZE + 4] == ZIP64_LOCATOR:
            if record[:4] != ZIP64_EOCD:
                return None  # zipfile refuses it too
            *_, entries, directory_bytes, _ = struct.unpack("<4sQ2H2L4Q", record[:ZIP64_EOCD_SIZE])
    return entries, directory_bytes


def _small_entry(archive: zipfile.ZipFile, name: str) -> bytes:
    """An entry that must be tiny (ODF's "mimetype"), read only when it is."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        return b""
    if info.file_size > 100:
        return b""
    with archive.open(info) as entry:
        return entry.read(100)


def _bomb_problem(infos: list[zipfile.ZipInfo], kind: FileKind = XLSX) -> str | None:
    if len(infos) > MAX_ENTRIES:
        return kind.suspicious.format(what=TOO_MANY_ENTRIES.format(limit=MAX_ENTRIES))
    total = sum(i.file_size for i in infos)
    if total > MAX_UNPACKED_BYTES:
        return kind.suspicious.format(what=TOO_BIG_UNPACKED.format(size=size_text(total), limit=MAX_UNPACKED_BYTES // MB))
    for info in infos:
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * info.compress_size:
            ratio = info.file_size // max(info.compress_size, 1)
            return kind.suspicious.format(what=TOO_COMPRESSED.format(name=info.filename, ratio=f"{ratio:,}".replace(",", "."),
                                                                limit=MAX_RATIO))
    for info in infos:
        if info.file_size > MAX_PART_BYTES:
            return kind.suspicious.format(what=TOO_BIG_PART.format(name=info.filename, size=size_text(info.file_size),
                                                              limit=MAX_PART_BYTES // MB))
    return None


def _kind_problem(names: set[str], mimetype: bytes, kind: FileKind = XLSX) -> str | None:
    """An archive that is not an Office Open XML package of ``kind`` (a spreadsheet, a document)."""
    if "[Content_Types].xml" in names and any(n.startswith(kind.folder) for n in names):
        return None
    for other, message in kind.others:
        if mimetype.startswith(other.encode()) or any(n.startswith(other) for n in names):
            return message
    return kind.unreadable


def size_text(n: int) -> str:
    if n >= MB:
        return f"{n / MB:.1f} MB".replace(".", ",")
    return f"{max(n // 1024, 1)} KB"
