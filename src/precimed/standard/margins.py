"""The margin of a published table: the row, column or grand total that disclosure control
adds to a table (:func:`precimed.deid.disclosure.protect_counts`). In data (API fields,
CLI columns, released CSV cells) it is the machine code :data:`MARGIN`, like a region or
centre code; people read it as :data:`MARGIN_LABEL` in their language."""

from __future__ import annotations

MARGIN = "Total"  # the code of a margin row or column in published tables
MARGIN_LABEL = {"zh": "合计", "en": "Total"}


def margin_dict() -> dict[str, str]:
    """The margin as the API gives codes with their names: code, zh, en."""
    return {"code": MARGIN, **MARGIN_LABEL}
