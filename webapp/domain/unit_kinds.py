"""The kinds of unit: the reporting kinds that outlines name, and the kinds that hold others or compile."""

from __future__ import annotations

from collections.abc import Iterable

from .outline import Outline

# Units that hold others or compile, whatever the outline: the province, the district, and the
# party committees with their boards (the compiling unit of a district's report is one of these).
CONTAINER_KINDS = {
    "tinh": "Tỉnh",
    "huyen": "Huyện",
    "huyen_uy": "Huyện ủy và các ban của Huyện ủy",
    "tinh_uy": "Tỉnh ủy và các ban của Tỉnh ủy",
}


def kind_names(outlines: Iterable[Outline]) -> dict[str, str]:
    """Every known kind → its Vietnamese name: the container kinds, then each outline's
    ``unit_kinds`` (an outline's own name for a kind wins; later outlines over earlier ones)."""
    names = dict(CONTAINER_KINDS)
    for outline in outlines:
        names.update(outline.unit_kinds)
    return names
