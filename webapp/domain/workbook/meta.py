"""The very hidden ``_meta`` sheet and the document properties that name a workbook."""

from __future__ import annotations

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from .frame import _protect

META_SHEET = "_meta"
# Identity keys of the _meta sheet and the custom document properties.
CAMPAIGN, UNIT, UNIT_NAME, OUTLINE, OUTLINE_DIGEST, KIND = (
    "campaign", "unit", "unit_name", "outline", "outline_digest", "kind")
TEMPLATE_KIND, APPENDIX_KIND = "template", "appendix"
INLINE_LIST_LIMIT = 255  # Excel refuses longer inline validation lists


class _Meta:
    """The very hidden sheet naming the workbook (identity) and holding long choice lists."""

    def __init__(self, identity: dict[str, str]):
        self.identity = {k: str(v) for k, v in identity.items() if v is not None}
        self.lists: list[tuple[str, ...]] = []

    def list_source(self, choices: tuple[str, ...]) -> str | list[str]:
        """A validation list source: inline when Excel allows it, else a range of this sheet."""
        if len(",".join(choices)) <= INLINE_LIST_LIMIT and not any("," in c for c in choices):
            return list(choices)
        if choices not in self.lists:
            self.lists.append(choices)
        col = xl_col_to_name(3 + self.lists.index(choices))
        return f"='{META_SHEET}'!${col}$1:${col}${len(choices)}"

    def write(self, wb: xlsxwriter.Workbook) -> None:
        ws = wb.add_worksheet(META_SHEET)
        for i, (key, value) in enumerate(self.identity.items()):
            ws.write_string(i, 0, key)
            ws.write_string(i, 1, value)
        for j, choices in enumerate(self.lists):
            for i, choice in enumerate(choices):
                ws.write_string(i, 3 + j, choice)
        ws.very_hidden()
        _protect(ws)
        for key, value in self.identity.items():
            wb.set_custom_property(key, value, "text")
