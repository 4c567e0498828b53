"""Cursors of lists paged newest first by integer id: a page's cursor is the last id on it, in decimal."""

from __future__ import annotations

from server_fastapi.core.problems import FieldError, InvalidInput


def invalid_cursor() -> InvalidInput:
    """The 422 problem for a `cursor` query parameter this list did not hand out."""
    return InvalidInput(
        "Invalid cursor.",
        errors=[
            FieldError(
                location="query",
                pointer="/cursor",
                detail="not a cursor from this list",
                code="invalid_cursor",
            )
        ],
    )


def before_id(cursor: str | None) -> int | None:
    """The id the requested page starts below (None: the first page)."""
    if cursor is None:
        return None
    if not cursor.isdigit():
        raise invalid_cursor()
    return int(cursor)
