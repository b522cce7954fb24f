"""``cycler compare A B ...``: the per-cycle tables of several runs side by side.

This module owns the comparison (docs/batch.md, "compare"): given the
:meth:`~cycler_cli.analysis.CycleReport.to_dict` of each run (all of one cell type), it lines the
rows up by their index (``half_cycle`` for symmetric cells, ``cycle`` for full cells), gives each
run's value of every compared metric, the difference of each run from the first
(``run - first``, in the metric's unit), and says which run is better:

* per row, the run with the best value (ties: the first of them);
* per metric, ``better_in_rows``: in how many rows each run was best;
* per summary metric, each run's value, its difference from the first run and the best run.

Which direction is better is fixed per metric in :data:`BETTER` (lower overpotential, ASR,
resistance, drift and fade; higher capacity, efficiency and retention). For drift, lower means
a smaller absolute drift. No typer or rich here.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cycler_cli.errors import ConfigError

#: "lower" or "higher" is better; "abs" = the smaller absolute value.
BETTER: dict[str, str] = {
    "overpotential_v": "lower",
    "overpotential_mean_v": "lower",
    "overpotential_end_v": "lower",
    "overpotential_peak_v": "lower",
    "r_dc_ohm": "lower",
    "asr_ohm_cm2": "lower",
    "ir_step_ohm": "lower",
    "charge_mah": "higher",
    "discharge_mah": "higher",
    "charge_mah_g": "higher",
    "discharge_mah_g": "higher",
    "charge_mah_cm2": "higher",
    "discharge_mah_cm2": "higher",
    "coulombic_efficiency": "higher",
    "energy_efficiency": "higher",
    "retention": "higher",
    # summary metrics
    "overpotential_ref_v": "lower",
    "overpotential_final_v": "lower",
    "overpotential_drift_v_per_h": "abs",
    "overpotential_drift_pct_per_100h": "abs",
    "r_dc_ohm_median": "lower",
    "asr_ohm_cm2_median": "lower",
    "reference_discharge_mah_g": "higher",
    "reference_discharge_mah": "higher",
    "capacity_fade_pct_per_cycle": "lower",
    "retention_final": "higher",
    "cycles_to_80pct": "higher",
    "coulombic_efficiency_median": "higher",
}
#: Metrics compared when none are asked for.
DEFAULT_METRICS = {
    "symmetric": ("overpotential_v", "asr_ohm_cm2"),
    "full": ("discharge_mah_g", "coulombic_efficiency", "retention"),
}
DEFAULT_SUMMARY = {
    "symmetric": ("overpotential_ref_v", "overpotential_final_v", "overpotential_drift_pct_per_100h", "asr_ohm_cm2_median"),
    "full": ("reference_discharge_mah_g", "retention_final", "capacity_fade_pct_per_cycle", "coulombic_efficiency_median"),
}
INDEX = {"symmetric": "half_cycle", "full": "cycle"}


def run_labels(sources: Sequence[str]) -> list[str]:
    """Short, distinct labels: file stems, or the full sources when stems repeat."""
    stems = [Path(s.split(" + ")[0]).stem for s in sources]
    return stems if len(set(stems)) == len(stems) else list(sources)


def _num(value: Any) -> float | None:
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _best(values: Sequence[float | None], better: str) -> int | None:
    """Index of the best value (first on ties), or ``None`` when fewer than two are known."""
    known = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(known) < 2:
        return None
    if better == "higher":
        return max(known, key=lambda iv: (iv[1], -iv[0]))[0]
    if better == "abs":
        return min(known, key=lambda iv: (abs(iv[1]), iv[0]))[0]
    return min(known, key=lambda iv: (iv[1], iv[0]))[0]


def _diffs(values: Sequence[float | None]) -> list[float | None]:
    first = values[0]
    return [None if (first is None or v is None) else v - first for v in values]


def compare_reports(
    reports: Sequence[dict[str, Any]],
    *,
    metrics: Sequence[str] | None = None,
    summary_metrics: Sequence[str] | None = None,
    labels: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Compare the cycle reports (``CycleReport.to_dict()``) of two or more runs of one cell type.

    Returns ``{"cell_type", "index", "runs": [{"label", "source"}], "metrics", "rows",
    "better_in_rows", "summary"}``; each row is ``{index: n, metric: {"values": [...],
    "diff": [...], "best": label}}`` for the rows any run has (a run without that row gives
    null). Raises :class:`ConfigError` for fewer than two runs, mixed cell types or an unknown
    metric."""
    if len(reports) < 2:
        raise ConfigError("compare needs at least two runs", hint="name two or more files: cycler compare A B")
    cell_types = {r["cell_type"] for r in reports}
    if len(cell_types) != 1:
        raise ConfigError(
            f"the runs are of different cell types ({', '.join(sorted(cell_types))})",
            hint="compare runs of one cell type, or force one with --cell",
        )
    (cell_type,) = cell_types
    index = INDEX[cell_type]
    labels = list(labels) if labels is not None else run_labels([r["source"] for r in reports])
    metrics = list(metrics or DEFAULT_METRICS[cell_type])
    summary_metrics = list(summary_metrics or DEFAULT_SUMMARY[cell_type])
    row_keys = {k for r in reports for row in r["cycles"] for k in row}
    unknown = [m for m in metrics if m not in row_keys]
    if unknown:
        numeric = sorted(k for k in row_keys if k in BETTER)
        raise ConfigError(f"no such per-cycle metric: {', '.join(unknown)}", hint=f"use one of: {', '.join(numeric)}")
    by_index = [{row[index]: row for row in r["cycles"]} for r in reports]
    all_index = sorted(set().union(*by_index))
    rows = []
    wins = {m: [0] * len(reports) for m in metrics}
    for n in all_index:
        row: dict[str, Any] = {index: n}
        for m in metrics:
            values = [_num(table.get(n, {}).get(m)) for table in by_index]
            best = _best(values, BETTER.get(m, "lower"))
            if best is not None:
                wins[m][best] += 1
            row[m] = {"values": values, "diff": _diffs(values), "best": labels[best] if best is not None else None}
        rows.append(row)
    summary = []
    for m in summary_metrics:
        values = [_num(r["summary"].get(m)) for r in reports]
        better = BETTER.get(m, "lower")
        best = _best(values, better)
        summary.append(
            {
                "metric": m,
                "better": better,
                "values": values,
                "diff": _diffs(values),
                "best": labels[best] if best is not None else None,
            }
        )
    return {
        "cell_type": cell_type,
        "index": index,
        "runs": [{"label": lab, "source": r["source"]} for lab, r in zip(labels, reports)],
        "metrics": [{"metric": m, "better": BETTER.get(m, "lower")} for m in metrics],
        "rows": rows,
        "better_in_rows": {m: dict(zip(labels, counts)) for m, counts in wins.items()},
        "summary": summary,
    }


def comparison_csv(comparison: dict[str, Any]) -> str:
    """The rows flat: ``index, metric:label ..., metric:label-first ..., metric:best``."""
    labels = [r["label"] for r in comparison["runs"]]
    index = comparison["index"]
    header = [index]
    for m in (x["metric"] for x in comparison["metrics"]):
        header += [f"{m}:{lab}" for lab in labels]
        header += [f"{m}:{lab}-{labels[0]}" for lab in labels[1:]]
        header.append(f"{m}:best")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in comparison["rows"]:
        line: list[Any] = [row[index]]
        for m in (x["metric"] for x in comparison["metrics"]):
            cell = row[m]
            line += cell["values"] + cell["diff"][1:] + [cell["best"]]
        writer.writerow(["" if v is None else v for v in line])
    return buffer.getvalue()
