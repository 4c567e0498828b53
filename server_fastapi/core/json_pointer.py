"""RFC 6901 JSON Pointers, the field paths of every problem response. Kept free of imports so that packages
outside the web stack (the IVMS101 validator) share the one implementation."""

from __future__ import annotations

from collections.abc import Sequence


def json_pointer(parts: Sequence[int | str]) -> str:
    """`("beneficiary", 0, "a/b")` -> `/beneficiary/0/a~1b`."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)
