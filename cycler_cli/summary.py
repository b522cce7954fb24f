"""``cycler summary``: one row per run (cell type, cycles, headline metric, status), sortable.

This module owns the row of a run (:func:`summary_row`, built from the
:class:`~cycler_cli.verdicts.FileReport` that ``cycler check`` gives the run), the order of the
rows (:func:`sort_rows`) and their CSV/JSON forms. Headline metrics (docs/batch.md):

* symmetric cells: ``overpotential_drift_pct_per_100h`` (%/100 h; Theil-Sen drift of the
  per-half-cycle overpotential relative to the reference overpotential), beside
  ``overpotential_ref_v`` (V);
* full cells: ``retention_final`` as a percentage (%; last complete cycle's discharge capacity
  over the reference cycle's), beside ``reference_discharge_mah_g`` (mAh/g; null without a mass).

``status`` is the check status (pass, warn, fail, skip, error) and ``failed`` the ids of the
rules that failed. No typer or rich here.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

from cycler_cli.errors import ConfigError

#: The columns of a summary row, in table order.
COLUMNS = (
    "source",
    "cell_type",
    "cycles",
    "half_cycles",
    "headline",
    "headline_value",
    "headline_unit",
    "reference_value",
    "reference_unit",
    "status",
    "failed",
    "exit_code",
    "error",
)
#: Headline metric per cell type: (summary key, unit, scale to the unit), then the reference value.
HEADLINES = {
    "symmetric": (("overpotential_drift_pct_per_100h", "%/100h", 1.0), ("overpotential_ref_v", "V", 1.0)),
    "full": (("retention_final", "%", 100.0), ("reference_discharge_mah_g", "mAh/g", 1.0)),
}


def _number(value: Any, scale: float = 1.0) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value) * scale
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def summary_row(report: Any) -> dict[str, Any]:
    """The summary row of one run from its check ``FileReport`` (or its ``to_dict()``)."""
    data = report.to_dict() if hasattr(report, "to_dict") else dict(report)
    analysis = data.get("analysis") or {}
    summary = analysis.get("summary") or {}
    cell_type = data.get("cell_type")
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update(
        source=data.get("source"),
        cell_type=cell_type,
        status=data.get("status"),
        exit_code=data.get("exit_code"),
        error=data.get("error"),
        failed=",".join(v["rule"] for v in data.get("verdicts", ()) if v.get("status") == "fail"),
    )
    if cell_type in HEADLINES:
        (key, unit, scale), (ref_key, ref_unit, ref_scale) = HEADLINES[cell_type]
        row.update(
            cycles=summary.get("cycles"),
            half_cycles=summary.get("half_cycles"),
            headline=key.replace("retention_final", "retention_final_pct"),
            headline_value=_number(summary.get(key), scale),
            headline_unit=unit,
            reference_value=_number(summary.get(ref_key), ref_scale),
            reference_unit=ref_unit,
        )
    return row


def sort_rows(rows: Iterable[dict[str, Any]], by: str | None = None, *, descending: bool = False) -> list[dict[str, Any]]:
    """Rows ordered by column ``by`` (default: as given); empty values always last."""
    rows = list(rows)
    if by is None:
        return rows
    if by not in COLUMNS:
        raise ConfigError(f"cannot sort by {by!r}", hint=f"use one of: {', '.join(COLUMNS)}")
    present = [r for r in rows if r.get(by) not in (None, "")]
    empty = [r for r in rows if r.get(by) in (None, "")]
    numeric = all(isinstance(r[by], (int, float)) for r in present)
    key = (lambda r: float(r[by])) if numeric else (lambda r: str(r[by]))
    return sorted(present, key=key, reverse=descending) + empty


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    """The rows as CSV (header = :data:`COLUMNS`; empty cell for null)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: r.get(k) for k in COLUMNS} for r in rows)
    return buffer.getvalue()


def to_json(rows: Sequence[dict[str, Any]], skipped: Sequence[tuple[str, str]] = ()) -> str:
    """``{"runs": [rows], "skipped": [{"path", "reason"}]}`` as JSON text."""
    doc = {"runs": [dict(r) for r in rows], "skipped": [{"path": p, "reason": why} for p, why in skipped]}
    return json.dumps(doc, ensure_ascii=False, allow_nan=False, indent=2) + "\n"
