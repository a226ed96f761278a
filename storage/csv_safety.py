"""CSV cells that a spreadsheet will not run as formulas (CSV injection, OWASP).

Why: staff open exports in Excel or LibreOffice; a place named `=HYPERLINK("http://evil";"Click")`
would become a live formula there. OWASP's rule: a text cell starting with = + - @, a tab or a
carriage return gets a single quote in front, so it is shown as typed. Numbers are left alone
(-3 stays a number); only text can carry a formula.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["FORMULA_STARTS", "safe_cell", "safe_row"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """The value, with a leading `'` when it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: Iterable[object]) -> list[object]:
    return [safe_cell(value) for value in values]
