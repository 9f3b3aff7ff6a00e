"""Excel workbooks drawn from the layout: a unit's template and the assembled appendix.

Every table sheet is drawn cell by cell from ``layout.build_layout``, so a template cell and the
assembled cell sit at the same address, and ``importer.read_template`` reads a template back through
the same layout. Text is always written with ``write_string`` (a note starting with "=" stays text),
numbers as numeric cells, dates as real dates, derived cells as formulas carrying their value.

One module per thing written: ``styles`` (font, formats, fills), ``xlsx`` (XlsxWriter plumbing, one
value, the rate formula), ``frame`` (a table sheet's headers, sizes, print setup, protection),
``meta`` (the hidden identity sheet), ``official`` (the printed form of an official document around a
table: page header, footnotes, signature), ``template``, ``appendix``, ``cover`` and ``breakdown``.
"""

from .appendix import write_appendix
from .breakdown import BREAKDOWN_SUFFIX, breakdown_sheet_name
from .cover import COVER_SHEET
from .meta import APPENDIX_KIND, CAMPAIGN, KIND, META_SHEET, OUTLINE, OUTLINE_DIGEST, TEMPLATE_KIND, UNIT, UNIT_NAME
from .styles import FONT, INFERRED_MARK
from .template import list_id_column, unit_row_numbers, write_template
from .xlsx import _open, _Worksheet, collector_paused, percent_formula

__all__ = [
    "APPENDIX_KIND", "BREAKDOWN_SUFFIX", "CAMPAIGN", "COVER_SHEET", "FONT", "INFERRED_MARK", "KIND", "META_SHEET",
    "OUTLINE", "OUTLINE_DIGEST", "TEMPLATE_KIND", "UNIT", "UNIT_NAME", "_Worksheet", "_open", "breakdown_sheet_name",
    "collector_paused", "list_id_column", "percent_formula", "unit_row_numbers", "write_appendix",
    "write_template",
]
