"""Plain-text tables for the terminal: left-aligned text, right-aligned numbers."""

from __future__ import annotations

from collections.abc import Sequence


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]],
                 numeric: Sequence[bool] | None = None) -> str:
    numeric = numeric or [False] * len(headers)
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [cell.rjust(w) if right else cell.ljust(w)
                 for cell, w, right in zip(cells, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), *(line(row) for row in rows)])
