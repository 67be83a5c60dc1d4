"""What a command answers, and how it is written: a table for people, JSON or CSV for scripts.

A command builds a Report (client calls only); `emit` writes it in the chosen format,
so every command gets --output table|json|csv the same way.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TextIO

from infracast.clients.table import render_table

FORMATS = ("table", "json", "csv")


@dataclass
class Table:
    headers: Sequence[str]
    rows: list[list[str]]
    numeric: Sequence[bool] | None = None  # right-aligned columns


@dataclass
class Report:
    """An answer: JSON data, text lines and tables for people, and the rows CSV writes.

    `csv` holds raw values (numbers unformatted, times in ISO 8601); when absent the
    first table is written as it is shown.
    """

    data: object
    lines: list[str] = field(default_factory=list)  # shown before the tables
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # shown after the tables
    csv: Table | None = None
    exit_code: int = 0


def emit(report: Report, fmt: str, out: TextIO = sys.stdout) -> int:
    if fmt == "json":
        out.write(json.dumps(report.data, indent=2) + "\n")
    elif fmt == "csv":
        table = report.csv or (report.tables[0] if report.tables else Table([], []))
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(table.headers)
        writer.writerows(table.rows)
    else:
        parts = ["\n".join(report.lines)] if report.lines else []
        parts += [render_table(t.headers, t.rows, t.numeric) for t in report.tables if t.rows]
        if report.notes:
            parts.append("\n".join(report.notes))
        if parts:
            out.write("\n\n".join(parts) + "\n")
    out.flush()
    return report.exit_code


def when_text(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def ms_to_datetime(stamp) -> datetime:
    """A datetime64[ms] element as an aware UTC datetime."""
    return datetime.fromtimestamp(int(stamp.astype("int64")) / 1000, tz=UTC)
