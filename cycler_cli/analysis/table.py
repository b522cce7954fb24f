"""The result of ``cycler cycles``: :class:`CycleReport` and its JSON / CSV forms.

``CycleReport.to_dict()`` is the only road to JSON (the CLI prints ``json.dumps`` of it) and
holds exactly the keys ``schema_version, source, cell_type, cell_type_reason, mass_mg,
area_cm2, cycles, summary, warnings, definitions, input`` (docs/cycles.md); ``input`` is the
row accounting of the read: ``{reader, rows_read, rows_skipped: {reason: count}}``. Every number in it is a
plain ``float``/``int`` or ``None`` (never NaN), so the JSON is strict.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SCHEMA_VERSION = 1


def json_float(value: Any) -> float | None:
    """A JSON-safe float for the report: NaN and inf become ``None`` (null)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def json_floats(values: Any) -> list[float | None]:
    """:func:`json_float` of every element of a 1-D float array, as one list: ``tolist()`` and
    ``None`` written only where a value is not finite (a call per cell cost 0.7 ms of a
    131-cycle table)."""
    values = np.asarray(values, dtype=np.float64)
    out: list[float | None] = values.tolist()
    for i in np.flatnonzero(~np.isfinite(values)).tolist():
        out[i] = None
    return out


@dataclass(frozen=True)
class CycleReport:
    """Per-cycle (full cell) or per-half-cycle (symmetric cell) rows, the summary, and how
    they were computed. ``cycles`` holds the rows as dicts whose keys end in their units."""

    source: str
    cell_type: str
    cell_type_reason: str
    mass_mg: float | None
    area_cm2: float | None
    cycles: list[dict[str, Any]]
    summary: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    definitions: dict[str, str] = field(default_factory=dict)
    input: dict[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "source": self.source,
            "cell_type": self.cell_type,
            "cell_type_reason": self.cell_type_reason,
            "mass_mg": self.mass_mg,
            "area_cm2": self.area_cm2,
            "cycles": [dict(row) for row in self.cycles],
            "summary": dict(self.summary),
            "warnings": list(self.warnings),
            "definitions": dict(self.definitions),
            "input": dict(self.input),
        }

    @property
    def columns(self) -> list[str]:
        """Row keys in table order."""
        return list(self.cycles[0]) if self.cycles else []

    def to_csv(self) -> str:
        """The rows as CSV (header = row keys; empty cell for null)."""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.cycles)
        return buffer.getvalue()

    def to_frame(self):
        """The rows as a pandas DataFrame (imported here: pandas is heavy)."""
        import pandas as pd

        return pd.DataFrame(self.cycles, columns=self.columns)
