"""Narrative answers as rich text: the one allow-list of what survives of typed or pasted HTML.

A unit's answer to a section of the report is HTML from the browser's editor or from a pasted Word
document. Only paragraphs, line breaks, bold, italics, underline, lists and quotations are kept, with
no attribute at all: no script, style, event handler, link, image or Word markup survives, whatever
the browser sent. Everything that stores or shows an answer goes through ``clean``.
"""

from __future__ import annotations

import re
from html import unescape

import nh3

ALLOWED_TAGS = frozenset({"p", "br", "strong", "b", "em", "i", "u", "ul", "ol", "li", "blockquote"})
# Elements dropped with everything inside them (not just unwrapped): code, styles, and the
# document-settings blocks Word puts in the clipboard (<xml><w:WordDocument>…, <o:p>).
DROPPED_WITH_CONTENT = frozenset({"script", "style", "xml", "head", "title", "template", "noscript",
                                  "object", "iframe", "svg", "math", "textarea", "select"})
MAX_ANSWER_CHARS = 200_000  # a section's answer: some pages of text; larger is refused, not cut

_EMPTY_PARAGRAPHS = re.compile(r"<p>(?:\s|&nbsp;|<br>)*</p>")


def clean(html: str) -> str:
    """``html`` reduced to the allowed tags without attributes or comments; '' for an answer that
    holds no text (an editor's empty ``<p><br></p>``)."""
    cleaned = nh3.clean(html or "", tags=set(ALLOWED_TAGS), clean_content_tags=set(DROPPED_WITH_CONTENT),
                        attributes={}, strip_comments=True, link_rel=None)
    cleaned = _EMPTY_PARAGRAPHS.sub("", cleaned).strip()
    return cleaned if text_of(cleaned).strip() else ""


def text_of(html: str) -> str:
    """The plain text of a cleaned answer, paragraphs and list items on their own lines."""
    spaced = re.sub(r"</(p|li|blockquote)>|<br>", "\n", html or "")
    return unescape(nh3.clean(spaced, tags=set())).strip()
